"""The venue catalogue (评标场地: the centre's own rooms and peers' rooms, with seats)."""
