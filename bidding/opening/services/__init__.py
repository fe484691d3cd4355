"""The opening hall's requests, one module per responsibility (composed by
`bidding.opening.service.OpeningService`): `host` (stage transitions, pause, incidents),
`attendance` (sign-in), `decrypting` (online decryption, the backup channel, the group commit),
`escrow` (the key holders' shares), `objections` (objections, answers, confirmations) and `hall`
(the hall's view, the record's data, opened packages); `base` holds the lookups, checks and the
`audited` decorator they share.
"""
