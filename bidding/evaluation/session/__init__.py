"""The evaluation session: seats, sign-in, chair, the state machine, pause, incidents, time, replacement."""
