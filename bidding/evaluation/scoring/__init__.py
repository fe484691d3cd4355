"""Scoring (issue 15 items 4, 7, parts of 8 and 10): the expert workspace, reading bids, review
decisions, objective votes, subjective scores, sheet submission, Art. 64 and assistance findings,
and the result (`result.finalise`). See ``AGENTS.md``.
"""
