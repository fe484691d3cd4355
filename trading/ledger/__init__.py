"""The audit ledger (全程留痕, Order 20 Art. 49): who did what, when, from where, to which record.

Every state-changing service calls :func:`trading.ledger.service.append_entry` in its own
transaction. Entries are hash-chained per trading project (``project:<统一交易标识码>``) plus one
``platform`` chain, append-only in the database on both backends, and anchored by periodic
checkpoints that sign every chain head with the platform key. :func:`~trading.ledger.service.
verify_ledger` recomputes everything and names the first broken entry.

Public surface for other packages: ``service`` (``append_entry``, ``verify_ledger``), ``schemas``,
``errors``, ``policies``. The byte-level formats that hashes and signatures cover are specified in
``encoding``.
"""
