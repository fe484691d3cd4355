"""Certificates in the platform: certificate and QR login (`login`), bindings of certificates to
accounts, one-time challenges, the trust list in force, revocation data and the platform TSA, with
their API and pages. certs does the cryptography; this package keeps the state it needs.
"""
