"""The bidding JSON API under ``/api/v1/bidding`` (bearer tokens): `bids` (uploads, submission,
withdrawal, receipts, who bid) and `tenders` (search, drafts, documents, publication, questions,
objections, downloads). The opening hall's API is `bidding.opening.api`.
"""
