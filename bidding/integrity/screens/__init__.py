"""The pure screens: plain data in (``model``), findings out. No database, web, tasks or platform.

Each area has its own module and its own rule file in ``catalogue/`` (``rules.load_catalogue``):
``prices`` (bid-level price screens and the combined lot score), ``evidence`` (hard evidence,
铁证), ``similarity`` (document similarity after template subtraction), ``experts`` (evaluation
behaviour) and ``market`` (behaviour over time and the co-bidding network).
"""
