"""The working-day calendar as the centre administers it: versioned loading recorded on the ledger,
and the administrator's page (``/admin/calendar``).

Why here, in the composition root: the calendar itself (`trading.kernel.calendar`) is kernel data
every domain reads, but loading a year is an administrative act that must append a ledger entry,
and the kernel may not import `trading.ledger`. The layer contract (pyproject.toml) has no place
between the ledger and the domains for a package of reference data, and no domain owns the
calendar; the composition root sits above all of them and already holds the CLI (`ggzy calendar
load`), which goes through the same service. Nothing below imports it, as the contracts require.
"""
