"""The shared kernel: settings, database, errors, clock, auth primitives, tasks and the web shell.

It knows no domain. Packages above it hand it what it needs (template folders, permission grants,
sweep handlers) through the composition root, `trading.server`.
"""
