"""Evaluation methods as pure, versioned functions (issue 15 items 6-7; domain-rules §4).

``gp`` (综合评分法, 最低评标价法), ``engineering`` (综合评估法 with the base-price presets of
``base_price``, 经评审的最低投标价法), ``separation`` (评定分离), ``aggregation`` (experts' scores to
totals, ranking), ``settings`` (the method-settings and committee-spec validators), ``defaults``
(the one versioned data file ``defaults.toml``). No database, no clock; ``Decimal`` throughout.
"""
