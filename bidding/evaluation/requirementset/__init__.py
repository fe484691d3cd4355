"""The tender's published requirement set and the assistance run on it (issue 15 items 5 and 8)."""
