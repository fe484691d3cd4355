"""Cryptographic providers: `pyca` (the `cryptography` package) and the optional SM2 provider."""
