"""The negative-list checker (负面清单): pure, so ``ggzy procurement check FILE`` runs without the platform.

``model`` holds the plain data every other part shares: a rule, a finding, a severity.
"""
