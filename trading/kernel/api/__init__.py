"""JSON API plumbing shared by every package: problem+json errors, pagination."""
