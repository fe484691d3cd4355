"""Sealed-bid envelopes: AES-256-GCM content in CMS AuthEnvelopedData (`cms_env`; the first
``GGZYBID1`` format in `sealed_bid` is still read and written for SM algorithms), the key delivered
to the bidder and split k-of-n among key holders, tender/lot/bidder bound into the key delivery;
bid commitments and their Merkle root.
"""
