"""The development and demonstration PKI: CAs, certificates, CRLs, OCSP and trust lists made on the
spot for `ggzy run`, the dev CA, the demo data and the tests (real cryptography, fictitious URLs,
answered in memory). Never a source of trust in production.
"""
