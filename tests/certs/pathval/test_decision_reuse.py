"""A path decision is reused only within the spans its data set, never across one of their boundaries.

`PathValidator.validate` keeps a "valid" decision per leaf, usage, region and industry with the span of
validation times and of clock readings in which nothing it rests on can change: the trust list's status
history, the certificates' validity, the algorithm policy's dates, the CRLs' freshness and the
revocation checker's and registry's revisions. Each test makes a decision, then asks just inside and
just outside a boundary: inside, the same path (reused: nothing fetched, the engine not run); outside,
exactly the refusal a fresh validator gives.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from cryptography.hazmat.primitives import serialization

from certs import algorithms as algs
from certs.devpki.devlist import dev_trust_list
from certs.devpki.pki import DevPki, PkiFetcher, Profile, make_uscc, organisation_name
from certs.errors import Reason, Refused
from certs.pathval.checks import signature_algorithm
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.trustlist.model import Usage
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list

MICRO = timedelta(microseconds=1)


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


async def _registry(pki: DevPki, tsa, **changes: datetime) -> TrustRegistry:
    published = await publish(dev_trust_list(pki, **changes), pki.operator.signing(), tsa=tsa)
    own = load_trust_list(
        published.document,
        published.signature,
        pinned=[pki.operator.certificate],
        now=pki.now,
        store=MemorySequenceStore(),
    )
    return TrustRegistry(own)


def _count_material(validator: PathValidator) -> list[int]:
    """Count the checker's `material` calls (one per validation that is not a reused decision)."""
    calls = [0]
    gather = validator.revocation.material

    async def counted(*args, **kwargs):
        calls[0] += 1
        return await gather(*args, **kwargs)

    validator.revocation.material = counted  # type: ignore[method-assign]
    return calls


async def _reason(validator: PathValidator, leaf, at: datetime, usage: Usage = Usage.LOGIN) -> Reason | None:
    try:
        await validator.validate(leaf, at=at, usage=usage)
    except Refused as refusal:
        return refusal.reason
    return None


async def test_a_decision_is_reused_inside_its_span_without_fetching(pki: DevPki, registry: TrustRegistry) -> None:
    fetcher = PkiFetcher(pki)
    validator = PathValidator(registry, RevocationChecker(fetcher, clock=lambda: pki.now))
    leaf = pki.org_sign.certificate
    calls = _count_material(validator)
    # the first validation fetches the CRL (the checker's revision moves while it runs): not kept
    await validator.validate(leaf, at=pki.now, usage=Usage.LOGIN)
    first = await validator.validate(leaf, at=pki.now, usage=Usage.LOGIN)
    assert calls == [2]
    fetched = len(fetcher.requests)
    later = await validator.validate(leaf, at=pki.now + timedelta(seconds=5), usage=Usage.LOGIN)
    assert later.chain == first.chain
    assert later.at == pki.now + timedelta(seconds=5)
    assert later.evidence() == first.evidence()
    assert len(fetcher.requests) == fetched
    assert calls == [2]  # reused: no material gathered, no engine run
    # another usage, region or industry is another decision, judged in full
    assert await _reason(validator, leaf, pki.now, Usage.BID_ENCRYPTION) is Reason.WRONG_KEY_USAGE


async def test_never_across_a_withdrawal_in_the_status_history(pki: DevPki, tsa) -> None:
    withdrawn = pki.now - timedelta(days=1)
    validator = PathValidator(
        await _registry(pki, tsa, jiangsu_withdrawn_at=withdrawn),
        RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now),
    )
    leaf = pki.org_sign.certificate
    assert await _reason(validator, leaf, withdrawn - timedelta(hours=1)) is None  # the CRL fetched
    assert await _reason(validator, leaf, withdrawn - timedelta(hours=1)) is None  # remembered
    assert await _reason(validator, leaf, withdrawn - MICRO) is None
    assert await _reason(validator, leaf, withdrawn) is Reason.CA_WITHDRAWN
    assert await _reason(validator, leaf, withdrawn + timedelta(hours=1)) is Reason.CA_WITHDRAWN
    assert await _reason(validator, leaf, withdrawn - MICRO) is None
    # decided after the withdrawal first: the same answers
    fresh = PathValidator(validator.registry, RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now))
    assert await _reason(fresh, leaf, withdrawn) is Reason.CA_WITHDRAWN
    assert await _reason(fresh, leaf, withdrawn - MICRO) is None


async def test_never_before_not_before_nor_after_not_after(pki: DevPki, registry: TrustRegistry) -> None:
    not_before, not_after = pki.now - timedelta(days=3), pki.now + timedelta(days=2)
    leaf = pki.jiangsu_ca.issue(
        organisation_name("南京边界测试有限公司(开发)", make_uscc(32, "320100"), "江苏省", uscc_in_subject=True),
        profile=Profile.SIGN,
        not_before=not_before,
        not_after=not_after,
    ).certificate
    validator = PathValidator(registry, RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now))
    calls = _count_material(validator)
    assert await _reason(validator, leaf, pki.now) is None  # the CRL fetched
    assert await _reason(validator, leaf, pki.now) is None  # remembered
    assert await _reason(validator, leaf, not_before) is None
    assert calls == [2]
    assert await _reason(validator, leaf, not_before - MICRO) is Reason.NOT_YET_VALID
    assert await _reason(validator, leaf, not_after) is None
    assert await _reason(validator, leaf, not_after + MICRO) is Reason.EXPIRED


async def test_never_across_an_algorithm_policy_date(pki: DevPki, registry: TrustRegistry) -> None:
    leaf = pki.org_sign.certificate
    name = signature_algorithm(leaf).name
    until = pki.now + timedelta(hours=1)
    since = pki.now - timedelta(hours=1)
    policy = algs.AlgorithmPolicy(
        signatures={**algs.DEFAULT_POLICY.signatures, name: algs.Acceptability(since=since, until=until)}
    )
    validator = PathValidator(registry, RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now), policy=policy)
    assert await _reason(validator, leaf, pki.now) is None  # the CRL fetched
    assert await _reason(validator, leaf, pki.now) is None  # remembered
    assert await _reason(validator, leaf, until - MICRO) is None
    assert await _reason(validator, leaf, until) is Reason.ALGORITHM_NOT_ACCEPTED
    assert await _reason(validator, leaf, since) is None
    assert await _reason(validator, leaf, since - MICRO) is Reason.ALGORITHM_NOT_ACCEPTED


def _leaf(pki: DevPki, name: str):
    return pki.jiangsu_ca.issue(
        organisation_name(name, make_uscc(32, "320100"), "江苏省", uscc_in_subject=True),
        profile=Profile.SIGN,
        not_before=pki.now - timedelta(days=30),
        not_after=pki.now + timedelta(days=365),
    ).certificate


async def test_never_after_a_new_crl_nor_once_a_crl_is_stale(pki: DevPki, registry: TrustRegistry) -> None:
    clock = Clock(pki.now)
    fetcher = PkiFetcher(pki, clock=clock)
    checker = RevocationChecker(fetcher, clock=clock)
    validator = PathValidator(registry, checker)

    # a revocation that arrives with a new CRL is seen at once
    leaf = _leaf(pki, "南京稍后吊销测试有限公司(开发)")
    assert await _reason(validator, leaf, pki.now) is None  # the CRL fetched
    assert await _reason(validator, leaf, pki.now) is None  # remembered with this CRL
    pki.jiangsu_ca.revoke(leaf, pki.now - timedelta(hours=2))
    assert await checker.refresh_due(margin=timedelta(days=3650))
    assert await _reason(validator, leaf, pki.now) is Reason.REVOKED

    # the clock reaches a cached CRL's nextUpdate: the decision is not reused, the CRL is fetched again
    other = _leaf(pki, "南京时钟测试有限公司(开发)")
    calls = _count_material(validator)
    assert await _reason(validator, other, pki.now) is None  # remembered (the CRL is in the cache)
    assert await _reason(validator, other, pki.now + timedelta(seconds=1)) is None
    fetched = len(fetcher.requests)
    clock.now = min(c.next_update for c in checker._crls.values()) - MICRO
    assert await _reason(validator, other, pki.now) is None
    assert len(fetcher.requests) == fetched
    assert calls == [1]  # still inside the span: reused
    clock.now += MICRO
    await _reason(validator, other, pki.now)
    assert len(fetcher.requests) > fetched


def test_the_freshness_window_is_bounded_by_every_cached_crl(pki: DevPki) -> None:
    checker = RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now)
    assert checker.freshness_window(pki.now) == (None, None)
    this_update = pki.now - timedelta(hours=1)
    der = pki.jiangsu_ca.crl(this_update).public_bytes(serialization.Encoding.DER)
    before = checker.revision
    checker.offer_crl(der, "offered")
    assert checker.revision == before + 1
    start, end = checker.freshness_window(pki.now)
    assert start == this_update - checker.tolerance
    assert end == this_update + timedelta(days=7)


async def test_a_listed_service_is_recognised_again_outside_its_validity(pki: DevPki, registry: TrustRegistry) -> None:
    validator = PathValidator(registry, RevocationChecker(PkiFetcher(pki), clock=lambda: pki.now))
    tsa = pki.tsa.certificate
    first = validator.validate_listed(tsa, pki.now, Usage.TIMESTAMP)  # remembered
    assert validator.validate_listed(tsa, pki.now + timedelta(seconds=1), Usage.TIMESTAMP) is first
    not_after = tsa.not_valid_after_utc
    assert validator.validate_listed(tsa, not_after, Usage.TIMESTAMP) is first
    with pytest.raises(Refused) as expired:
        validator.validate_listed(tsa, not_after + MICRO, Usage.TIMESTAMP)
    assert expired.value.reason is Reason.EXPIRED
    with pytest.raises(Refused) as early:
        validator.validate_listed(tsa, tsa.not_valid_before_utc - MICRO, Usage.TIMESTAMP)
    assert early.value.reason in {Reason.NOT_YET_VALID, Reason.CA_NOT_RECOGNISED}
    with pytest.raises(Refused) as other_usage:
        validator.validate_listed(tsa, pki.now, Usage.LOGIN)
    assert other_usage.value.reason is not None
