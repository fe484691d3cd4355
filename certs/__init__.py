"""certs: the platform's cryptography, as a pure library (no database, no web, no tasks).

Everything stays usable on its own and is imported by `trading` and the domains, never the other
way round; persistence (trust-list versions, the revocation cache, challenges, stored signatures
and their reports) and routes (``POST /tsa``, login endpoints) belong to `trading`, which implements
the small protocols defined here (`SequenceStore`, `Fetcher`, `ChallengeStore`, `TsaTransport`).

* `keys` — the platform's raw signing keys (ledger checkpoints).
* `algorithms`, `errors`, `report` — algorithm registry and per-date policy; typed refusals with a
  machine reason; the ETSI-style verification report with its evidence.
* `providers` — `cryptography` (RSA, ECDSA, Ed25519, SM3, SM4, AES-GCM) and optional SM2 (gmssl-pyx).
* `cms`, `sign.cades`, `sign.pades`, `sign.seal`, `sign.verify` — CAdES detached signatures,
  PAdES B-LTA with seal images, and the trust verdict over them.
* `tsa` — the platform RFC 3161 TSA (pure function) and client.
* `trustlist` — the signed trust list, its loading checks and the recognition registry.
* `pathval` — path validation to recognised CAs, CRL/OCSP revocation, identity extraction.
* `auth` — certificate login and QR login with e-licence / e-ID credentials.
* `envelope` — sealed bids (AES-256-GCM, key wrapping, Shamir k-of-n) and bid commitments.
* `devpki`, `tools` — the development and demonstration PKI and trust lists (used by ``ggzy run``
  and the tests), ``python -m certs.tools.dev_ca`` and the holder-app CLI.
"""
