"""Sealed-bid envelopes: AES-256-GCM content, the key wrapped to the bidder and split k-of-n among
key holders, tender/lot/bidder bound as associated data; bid commitments and their Merkle root.
"""
