"""The tender's electronic archive (电子档案, issue 16 item 6): the ``ggzy-archive/1`` format
(`format`), the chain rule restated on the standard library (`chainrule`), PDF signature ranges
(`pdfsig`), the offline checks (`checks`), and the builder service (`builder`, `repository`).
The format is documented in ``docs/archive.md``.
"""
