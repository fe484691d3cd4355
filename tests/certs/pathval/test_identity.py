from __future__ import annotations

import pytest
from cryptography import x509

from certs.devpki.devlist import ORG_BY_EXTENSION, ORG_BY_SERIAL, PERSON_BY_SERIAL
from certs.devpki.pki import DevPki, make_id_number, organisation_name, person_name
from certs.errors import Reason, Refused
from certs.pathval.identity import extract_party, party_of
from certs.pathval.validate import PathValidator
from certs.trustlist.model import Usage


async def test_organisation_from_extension_and_person_from_serial(pki: DevPki, validator: PathValidator) -> None:
    org = party_of(await validator.validate(pki.org_sign.certificate, at=pki.now, usage=Usage.LOGIN))
    assert (org.kind, org.identifier, org.name) == ("organisation", pki.org_uscc, "南京示例建设工程有限公司")
    assert "江苏CA" in org.ca
    person = party_of(await validator.validate(pki.person_sign.certificate, at=pki.now, usage=Usage.LOGIN))
    assert (person.kind, person.identifier, person.name) == ("person", pki.person_id_number, "张三")


async def test_anhui_mapping_reads_the_subject_serial(pki: DevPki, validator: PathValidator) -> None:
    party = party_of(await validator.validate(pki.anhui_org_sign.certificate, at=pki.now, usage=Usage.BID_SIGNATURE))
    assert party.identifier == pki.anhui_uscc
    assert party.to_dict()["kind"] == "organisation"


def test_bad_check_character_and_unmapped_are_refused(pki: DevPki) -> None:
    bad = pki.org_uscc[:-1] + ("0" if pki.org_uscc[-1] != "0" else "1")
    cert = pki.jiangsu_ca.issue(
        organisation_name("校验位错误有限公司", bad, "江苏省", uscc_in_subject=True),
        not_before=pki.now,
        not_after=pki.now,
    ).certificate
    with pytest.raises(Refused) as info:
        extract_party(cert, [ORG_BY_SERIAL, ORG_BY_EXTENSION], "JSCA")
    assert info.value.reason is Reason.IDENTITY_UNMAPPED
    assert "JSCA" in info.value.text


def test_id_number_is_not_taken_for_a_uscc(pki: DevPki) -> None:
    cert: x509.Certificate = pki.jiangsu_ca.issue(
        person_name("李四", make_id_number(3), "江苏省"), not_before=pki.now, not_after=pki.now
    ).certificate
    party = extract_party(cert, [ORG_BY_SERIAL, PERSON_BY_SERIAL], "JSCA")
    assert party.kind == "person"
