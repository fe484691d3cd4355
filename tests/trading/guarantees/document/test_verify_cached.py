"""Verifying many guarantees reuses what depends only on the guarantor's certificate (parsed certificates,
key usage, party, the path's verdict until the CRL changes), and nothing of a guarantee's own: a forged
one between valid ones is still refused, and a guarantor revoked after a CRL update is refused at once.
"""

from __future__ import annotations

from datetime import timedelta

from certs.devpki.pki import Profile, make_uscc, organisation_name
from certs.pathval.validate import PathValidator
from certs.tsa.client import LocalTsa
from tests.trading.guarantees.document.conftest import World, expectation_for, guarantee_for, uscc_of
from trading.guarantees.document import Issuer, IssuerType, sign_guarantee
from trading.guarantees.verify import GuaranteeReason, verify_guarantee


async def test_a_guarantor_revoked_after_a_crl_update_is_refused_despite_the_caches(
    world: World, validator: PathValidator, tsa: LocalTsa
) -> None:
    pki = world.pki
    uscc = make_uscc(32, "320100")
    guarantor = pki.guarantor_ca.issue(
        organisation_name("南京稍后吊销担保有限公司(开发)", uscc, "江苏省", uscc_in_subject=True),
        profile=Profile.DOCUMENT_SIGN,
        not_before=pki.now - timedelta(days=30),
        not_after=pki.now + timedelta(days=365),
    )
    assert uscc_of(guarantor) == uscc
    issuer = Issuer("南京稍后吊销担保有限公司(开发)", uscc, IssuerType.GUARANTOR)
    first = await sign_guarantee(guarantee_for(world, issuer=issuer), guarantor.signing(), tsa=tsa)
    for _ in range(3):  # the path's verdict is now remembered for this CRL
        assert (await verify_guarantee(first.json, first.cades, validator, expectation_for(world))).valid

    pki.guarantor_ca.revoke(guarantor.certificate, pki.now - timedelta(hours=1))
    assert await validator.revocation.refresh_due(margin=timedelta(days=3650))  # the new CRL is fetched

    again = await verify_guarantee(first.json, first.cades, validator, expectation_for(world))
    assert again.reasons == (GuaranteeReason.ISSUER_REVOKED,)
    second = await sign_guarantee(
        guarantee_for(world, issuer=issuer, guarantee_no="JSBK-2026-000124"), guarantor.signing(), tsa=tsa
    )
    verdict = await verify_guarantee(second.json, second.cades, validator, expectation_for(world))
    assert verdict.reasons == (GuaranteeReason.ISSUER_REVOKED,)


async def test_a_forgery_between_valid_guarantees_of_the_same_guarantor_is_refused(
    world: World, validator: PathValidator, tsa: LocalTsa
) -> None:
    identity = world.pki.guarantor.signing()
    signed = [
        await sign_guarantee(guarantee_for(world, guarantee_no=f"JSBK-2026-{n:06d}"), identity, tsa=tsa)
        for n in range(3)
    ]
    expectation = expectation_for(world)
    forged = signed[1].json.replace(b'"amount":"200000.00"', b'"amount":"200001.00"')
    assert forged != signed[1].json
    verdicts = [
        await verify_guarantee(signed[0].json, signed[0].cades, validator, expectation),
        await verify_guarantee(forged, signed[1].cades, validator, expectation),
        await verify_guarantee(signed[2].json, signed[2].cades, validator, expectation),
        # another guarantee's signature over these bytes: the digest differs
        await verify_guarantee(signed[0].json, signed[2].cades, validator, expectation),
    ]
    assert [v.reasons for v in verdicts] == [
        (),
        (GuaranteeReason.SIGNATURE_INVALID,),
        (),
        (GuaranteeReason.SIGNATURE_INVALID,),
    ]
    assert [v.valid for v in verdicts] == [True, False, True, False]
