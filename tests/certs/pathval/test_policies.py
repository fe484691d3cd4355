"""The platform's acceptable certificate policy set (`CertificatePolicies`, setting ``certs.acceptable_policies``)."""

from __future__ import annotations

import pytest

from certs.devpki.pki import DevPki, PkiFetcher
from certs.errors import Reason, Refused
from certs.pathval.pkix import CertificatePolicies
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.trustlist.model import Usage
from certs.trustlist.registry import TrustRegistry

SOME_POLICY = "1.2.156.112599.1.1"


async def test_a_required_policy_the_chain_does_not_assert_is_refused(pki: DevPki, registry: TrustRegistry) -> None:
    checker = RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now)
    required = CertificatePolicies(acceptable=frozenset({SOME_POLICY}), require_explicit=True)
    validator = PathValidator(registry, checker, certificate_policies=required)
    with pytest.raises(Refused) as info:  # the development PKI asserts no certificate policy
        await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
    assert info.value.reason is Reason.INVALID_PATH
    assert "polic" in info.value.text
    # the default (any policy, none required) accepts the same chain
    await PathValidator(registry, checker).validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN)
