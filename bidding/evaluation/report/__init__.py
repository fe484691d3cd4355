"""The evaluation report (评标报告): rendering, one PAdES signature per member, refusals and dissent,
completion. See `AGENTS.md`.
"""
