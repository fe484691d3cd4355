"""Tenders: drafts and lots (`drafts`), signed documents (`documents`), publication and its rule
checks (`publication`), clarification, extension, cancellation and questions (`clarifications`),
downloads, search and the read view (`reading`); `service.TenderService` is all of them for the
API and the pages. Services only flush; the request (or job) owns the transaction.

Every state change appends a ledger entry on the tender's project chain (``project_code``).
Entries whose actor would reveal a bidder before the deadline (downloads, questions) go on the
project's *sealed* chain (Order 20 Art. 21), opened by the deadline sweep (`bidding.jobs`).

Refusing to list the downloaders before the deadline must leave an audit entry that commits, yet
the caller must see an error. `TenderService.downloads` therefore *returns* the
`SealedUntilDeadline` error after appending the entry instead of raising it; the API answers it as
problem+json from a normal return, so the request commits (the same pattern as refused certificate
logins in ``trading.parties.certificates``).
"""
