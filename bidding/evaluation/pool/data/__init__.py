"""Data shipped with the expert pool: the specialty code list and the rating rules (versioned JSON)."""
