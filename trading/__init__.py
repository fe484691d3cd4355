"""The platform: kernel, shared trading services and the composition root.

Deliberately empty: `trading` hosts the lowest shared layer (`trading.kernel`) and the top layer
(`trading.server`), so importing it must never pull either in.
"""
