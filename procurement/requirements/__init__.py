"""Procurement requirements (采购需求, issue 18 point 3): templates as a versioned schema, requirements
written on them, the negative-list findings per field, justifications, the internal review and the
publication gate. See ``procurement/AGENTS.md``.
"""
