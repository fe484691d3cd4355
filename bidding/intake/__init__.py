"""Sealed bid intake: resumable uploads (`uploads`), the checks of a container (`sealing`), the
submission and its receipt (`submission`), withdrawal (`withdrawal`), the bidder's own bids and
the owners' listing (`listing`); `service.IntakeService` is all of them for the API and pages.


Unlike other services, `IntakeService` opens its own units of work: an upload spans a large
transfer and seconds of hashing, and no transaction (on SQLite: the database's one write lock)
should stay open across them. Each step is a short transaction:

1. ``start_upload`` — the tender is open by the database clock, the size within its limit.
2. ``receive`` — a chunk: the recorded offset is re-read under the file's lock, the bytes are
   written, the new offset recorded. An interrupted transfer resumes from the recorded offset.
3. ``submit`` — outside any transaction: the container's structure (four STORED entries, no
   overlap), its digests in one pass, the manifest, the envelopes' cleartext headers (bound to
   this tender, lot, bidder and deadline) and the manifest signature's integrity. Then one
   transaction: the signer's certificate is validated for ``bid-signature`` at the database time
   and must name the bidder; the tender row is locked FOR SHARE (the deadline sweep takes FOR
   UPDATE, so a bid either commits before the tender closes or sees it closed); the container is
   linked into the file store and fsynced with every directory up to the store's root *before* the
   receipt is signed (`Store.promote`; each chunk was fsynced before its offset was recorded),
   so a power cut cannot take back a receipted bid (the upload's copy is dropped after the commit,
   so a crash before it leaves a submittable upload); the version, its signed and timestamped
   receipt and the ledger entry commit together. A bid without a receipt was never accepted.

Refusals raise `BidRefused` (field and rule); the upload keeps the refusal as its record and its
bytes are deleted. Ledger entries naming a bidder go on the project's sealed chain.
"""
