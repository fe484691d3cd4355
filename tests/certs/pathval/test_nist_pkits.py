"""NIST PKITS (2011 edition) through the platform's own validator API, the one bid intake and login use.

The suite's certificates, CRLs and expected results (``pkits.json``, public-domain NIST data as
packaged in the pyhanko-certvalidator 0.33.0 source distribution) are vendored under
``tests/fixtures/nist_pkits``. Every case runs through `PathValidator.validate` with a trust list
(signed and loaded as in production) recognising the PKITS trust anchor, every CRL of the case
offered to the `RevocationChecker`, no network. The fixture holds 213 default-settings cases
(the issue's count of 224 was over the full PKITS document, some of whose cases the fixture
does not carry) and 33 cases with initial policy settings, run with `CertificatePolicies`.

The table of agreement per section is printed whether or not ``-s`` is given.
"""

from __future__ import annotations

import asyncio
import json
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import pytest
from cryptography import x509

from certs.devpki.pki import DevPki
from certs.errors import Refused
from certs.pathval.pkix import ANY_POLICY, CertificatePolicies
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.trustlist.model import Provider, Scope, Service, ServiceType, Status, StatusChange, TrustList, Usage
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from certs.tsa.client import LocalTsa

# PKITS has certificates with a serial number of zero, which cryptography parses with a warning.
pytestmark = pytest.mark.filterwarnings("ignore:Parsed a serial number which wasn't positive")

FIXTURES: Final = Path(__file__).resolve().parents[2] / "fixtures" / "nist_pkits"
# The time of validation: within every PKITS certificate's and CRL's validity (2010-2030).
AT: Final = datetime(2022, 5, 1, tzinfo=UTC)
DEFAULT_CASES_IN_FIXTURE: Final = 213
# Every remaining disagreement, with its reason. Nothing else may disagree.
KNOWN_DISAGREEMENTS: Final = {
    "40104 valid_dsa_signatures_test4": "DSA certificate signatures are refused by name (unsupported-algorithm)",
    "40105 valid_dsa_parameter_inheritance_test5": (
        "the intermediate inherits its DSA parameters (empty AlgorithmIdentifier parameters), which "
        "cryptography's parser refuses (so does the EE's), so it never reaches the validator"
    ),
}
SECTIONS: Final = {
    "401": "4.1 signature verification",
    "402": "4.2 validity periods",
    "403": "4.3 name chaining",
    "404": "4.4 basic certificate revocation",
    "405": "4.5 self-issued certificates",
    "406": "4.6 basic constraints",
    "407": "4.7 key usage",
    "408": "4.8 certificate policies",
    "409": "4.9 require explicit policy",
    "410": "4.10 policy mappings",
    "411": "4.11 inhibit policy mapping",
    "412": "4.12 inhibit anyPolicy",
    "413": "4.13 name constraints",
    "414": "4.14 distribution points",
    "415": "4.15 delta CRLs",
    "416": "4.16 private certificate extensions",
}


def _cert(name: str) -> x509.Certificate:
    return x509.load_der_x509_certificate((FIXTURES / "certs" / name).read_bytes())


def _crl(name: str) -> bytes:
    return (FIXTURES / "crls" / name).read_bytes()


class _NoNetwork:
    """PKITS publishes no reachable URLs: every CRL comes offered, nothing is fetched."""

    async def fetch(self, url: str, *, body: bytes | None = None, content_type: str | None = None) -> bytes:
        del body, content_type
        msg = f"no network in the PKITS run: {url}"
        raise ConnectionError(msg)


@dataclass(frozen=True)
class Outcome:
    case: dict[str, Any]
    accepted: bool
    refusal: Refused | None

    @property
    def label(self) -> str:
        return f"{self.case['id']} {self.case['name']}"

    @property
    def expected_valid(self) -> bool:
        return "error" not in self.case

    @property
    def agrees(self) -> bool:
        return self.accepted == self.expected_valid


def _policies(params: dict[str, Any] | None) -> CertificatePolicies:
    if not params:
        return CertificatePolicies()
    return CertificatePolicies(
        acceptable=frozenset(params.get("user_initial_policy_set", [ANY_POLICY])),
        require_explicit=bool(params.get("initial_explicit_policy", False)),
        inhibit_mapping=bool(params.get("initial_policy_mapping_inhibit", False)),
        inhibit_any_policy=bool(params.get("initial_any_policy_inhibit", False)),
    )


async def _run(case: dict[str, Any], registry: TrustRegistry) -> Outcome:
    checker = RevocationChecker(_NoNetwork(), clock=lambda: AT)
    for name in ["TrustAnchorRootCRL.crl", *case.get("crls", [])]:
        try:
            checker.offer_crl(_crl(name), name)
        except Refused:
            continue  # a stale (or future-dated) CRL is not even kept: the certificate then lacks one
    validator = PathValidator(registry, checker, certificate_policies=_policies(case.get("params")))
    intermediates = []
    for name in case.get("other_certs", []):
        try:
            intermediates.append(_cert(name))
        except ValueError:
            continue  # unparseable by `cryptography`: the platform's intake refuses it before validation
    try:
        leaf = _cert(case["cert"])
    except ValueError:
        return Outcome(case, accepted=False, refusal=None)  # refused at intake, as every caller parses first
    try:
        await validator.validate(leaf, intermediates, at=AT, usage=Usage.BID_SIGNATURE)
    except Refused as refusal:
        return Outcome(case, accepted=False, refusal=refusal)
    return Outcome(case, accepted=True, refusal=None)


@pytest.fixture(scope="module")
async def pkits_registry(pki: DevPki, tsa: LocalTsa) -> TrustRegistry:
    """A trust list, signed by the development list operator, recognising the PKITS trust anchor."""
    anchor = _cert("TrustAnchorRootCertificate.crt")
    provider = Provider(
        name="NIST PKITS",
        uscc="91110000000000000X",
        region="CN-32",
        services=(
            Service(
                type=ServiceType.CA_SIGN,
                name="PKITS Trust Anchor",
                certificate=anchor,
                status=StatusChange(Status.GRANTED, datetime(2010, 1, 1, tzinfo=UTC)),
                scope=Scope(frozenset({Usage.LOGIN, Usage.BID_SIGNATURE})),
            ),
        ),
    )
    issued = pki.now - timedelta(hours=1)
    trust_list = TrustList(
        operator_name="PKITS run",
        operator_uscc="91320100000000000X",
        territory="CN-32",
        sequence=1,
        issued=issued,
        next_update=issued + timedelta(days=30),
        providers=(provider,),
    )
    published = await publish(trust_list, pki.operator.signing(), tsa=tsa)
    own = load_trust_list(
        published.document,
        published.signature,
        pinned=[pki.operator.certificate],
        now=pki.now,
        store=MemorySequenceStore(),
    )
    return TrustRegistry(own)


def _cases(*, with_params: bool) -> list[dict[str, Any]]:
    cases = json.loads((FIXTURES / "pkits.json").read_text(encoding="utf-8"))
    return [c for c in cases if ("params" in c) == with_params]


def _verdict(outcome: Outcome) -> str:
    if outcome.refusal is not None:
        return f"{outcome.refusal.reason.value} {outcome.refusal.detail or ''}"
    return "accepted" if outcome.accepted else "unparseable (refused at intake)"


def _table(title: str, outcomes: list[Outcome]) -> str:
    per_section: dict[str, Counter[str]] = defaultdict(Counter)
    for outcome in outcomes:
        counts = per_section[outcome.case["id"][:3]]
        counts["cases"] += 1
        counts["agree"] += outcome.agrees
        counts["wrongly accepted"] += outcome.accepted and not outcome.expected_valid
    lines = [f"\n{title}", f"{'section':<40} {'cases':>5} {'agree':>5} {'wrongly accepted':>16}"]
    for key in sorted(per_section):
        c = per_section[key]
        lines.append(f"{SECTIONS[key]:<40} {c['cases']:>5} {c['agree']:>5} {c['wrongly accepted']:>16}")
    agree = sum(o.agrees for o in outcomes)
    wrong = sum(o.accepted and not o.expected_valid for o in outcomes)
    lines.append(f"{'total':<40} {len(outcomes):>5} {agree:>5} {wrong:>16}")
    lines.extend(
        f"  disagrees: {o.label}: expected {'valid' if o.expected_valid else 'invalid'}, got {_verdict(o)}"
        for o in outcomes
        if not o.agrees
    )
    return "\n".join(lines)


async def _outcomes(cases: list[dict[str, Any]], registry: TrustRegistry) -> list[Outcome]:
    return list(await asyncio.gather(*(_run(case, registry) for case in cases)))


async def test_pkits_default_settings_agree_and_nothing_invalid_is_accepted(
    pkits_registry: TrustRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = _cases(with_params=False)
    assert len(cases) == DEFAULT_CASES_IN_FIXTURE
    outcomes = await _outcomes(cases, pkits_registry)
    with capsys.disabled():
        print(_table("NIST PKITS, default settings, through PathValidator.validate", outcomes))  # noqa: T201
    wrongly_accepted = [o.label for o in outcomes if o.accepted and not o.expected_valid]
    assert wrongly_accepted == []
    disagreements = {o.label for o in outcomes if not o.agrees}
    assert disagreements == set(KNOWN_DISAGREEMENTS)
    assert sum(o.agrees for o in outcomes) >= DEFAULT_CASES_IN_FIXTURE - 9
    # a DSA certificate is refused by name, not by a vague failure
    dsa = next(o for o in outcomes if o.label == "40104 valid_dsa_signatures_test4")
    assert dsa.refusal is not None
    assert dsa.refusal.reason.value == "unsupported-algorithm"
    assert "DSA" in dsa.refusal.text


async def test_pkits_initial_policy_settings_agree(
    pkits_registry: TrustRegistry, capsys: pytest.CaptureFixture[str]
) -> None:
    outcomes = await _outcomes(_cases(with_params=True), pkits_registry)
    with capsys.disabled():
        print(_table("NIST PKITS, initial policy settings (CertificatePolicies)", outcomes))  # noqa: T201
    assert [o.label for o in outcomes if not o.agrees] == []
