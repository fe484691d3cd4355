"""The negative-list rule catalogue as data (负面清单规则库): every rule's versions, the version in
force, and the procurement office's editor. The checker (``procurement.negative_list``) stays pure;
this part hands it the rules in force (``service.active_rules``). The map is ``procurement/AGENTS.md``.
"""
