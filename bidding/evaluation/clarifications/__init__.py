"""Clarification requests (澄清) of the evaluation committee to one bidder, answered signed."""
