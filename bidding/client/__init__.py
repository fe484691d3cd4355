"""The bidder client: builds, seals, signs and uploads bid packages; verifies receipts.

Pure (standard library, httpx and `certs` only; import-linter forbids the platform's packages), so
bidders can run it on their own machines like the offline bid-authoring tools (Order 20 Art. 26).
"""
