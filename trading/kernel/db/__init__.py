"""Database plumbing shared by every package: the declarative base, engines, units of work."""
