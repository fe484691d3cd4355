"""The structured bid response (issue 15 item 5): the requirement set a tender publishes
(``ggzy-requirements/1``), the bidder's response (``ggzy-response/1``) and its JSON Schema, money in
Chinese capitals, and the bill of quantities imported from Excel.
"""
