"""Path validation to recognised CAs, revocation (CRL/OCSP), and identity extraction."""
