"""Credit records shared by every domain: violations, blacklists, penalties, evaluations, commendations."""
