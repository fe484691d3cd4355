"""Procurement intentions (采购意向), plans (采购计划) and projects, and a project becoming a tender on
the bidding engine (issue 18 point 5). Map: `procurement/AGENTS.md`.
"""
