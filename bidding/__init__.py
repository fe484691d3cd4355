"""Bidding: tenders, documents, sealed electronic bid submission and receipts (全流程电子化交易)."""
