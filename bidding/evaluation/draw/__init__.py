"""The committee draw (专家抽取), pure: candidate records, avoidance (回避), the seeded draw of members
and reserves over ``trading.kernel.draws``, replacement of decliners and the GP timing rule.
The expert pool's database layer maps its rows onto `candidates` and calls these functions.
"""
