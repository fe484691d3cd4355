"""Parties: organisations, people, users, memberships, roles and authentication.

Organisations are identified by their 统一社会信用代码 (GB 32100-2015) and have a kind (enterprise,
purchaser unit, agency, intermediary, bank, insurer, guarantee company, supervisory department,
trading centre). People are identified by a keyed hash of their 公民身份号码 (GB 11643-1999); the
number itself is never stored. A user holds a role (``trading.kernel.auth.roles.Role``) through a
membership in an organisation; memberships may expire, which the sweep applies.

Public API for other packages: ``trading.parties.service`` (registration, login, memberships),
``trading.parties.policies`` (permissions and role grants), ``trading.parties.identifiers`` (pure
validators). Every state change appends to the audit ledger in the caller's transaction.
"""
