"""The expert pool (专家库): experts, their specialties, status, availability, conflicts and records."""
