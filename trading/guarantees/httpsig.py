"""Request signatures for the guarantor API (RFC 9421 HTTP Message Signatures, RFC 9530 Content-Digest), both
sides. Pure: no database, no web (the guarantor's client uses it).
"""
