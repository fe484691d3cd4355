"""Test and demo helpers: development PKIs and an in-memory CRL/OCSP fetcher."""
