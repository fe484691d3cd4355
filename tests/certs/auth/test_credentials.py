from __future__ import annotations

import json
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from certs.auth.challenge import MemoryChallengeStore, issue_challenge
from certs.auth.credentials import (
    QR_PURPOSE,
    Credential,
    CredentialKind,
    QrLoginResponse,
    issue_credential,
    qr_payload,
    qr_png,
    qr_svg,
    respond_to_qr,
    verify_credential,
    verify_qr_login,
)
from certs.devpki.pki import DevPki, new_key
from certs.errors import Reason, Refused
from certs.pathval.validate import PathValidator
from certs.providers.pyca import PycaSigner, public_key_der
from certs.tools.holder_app import make_wallet
from tests.certs.external import require

ORIGIN = "https://ggzy.js.example.cn"
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def holder_key():
    return new_key("p256")


@pytest.fixture
async def licence(pki: DevPki, holder_key, tsa) -> Credential:
    subject = {
        "uscc": pki.org_uscc,
        "name": "南京示例建设工程有限公司",
        "legalRepresentative": "王五",
        "registeredAddress": "南京市建邺区",
    }
    return await issue_credential(
        pki.licence_issuer.signing(),
        CredentialKind.LICENCE,
        subject,
        public_key_der(holder_key),
        serial="JS-LIC-0001",
        issued=pki.now - timedelta(days=1),
        expires=pki.now + timedelta(days=365),
        tsa=tsa,
    )


async def test_licence_verifies_and_yields_the_organisation(
    pki: DevPki, licence: Credential, validator: PathValidator
) -> None:
    data = await verify_credential(licence, validator, kind=CredentialKind.LICENCE, now=pki.now)
    assert data.subject["legalRepresentative"] == "王五"
    assert data.party().identifier == pki.org_uscc


async def test_credential_refusals(pki: DevPki, licence: Credential, validator: PathValidator, holder_key, tsa) -> None:
    with pytest.raises(Refused) as info:  # the licence issuer is not recognised for e-ID
        await verify_credential(licence, validator, kind=CredentialKind.EID, now=pki.now)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_USAGE
    with pytest.raises(Refused) as info:
        await verify_credential(licence, validator, kind=CredentialKind.LICENCE, now=pki.now + timedelta(days=400))
    assert info.value.reason in {Reason.CREDENTIAL_EXPIRED, Reason.EXPIRED}
    tampered = Credential(licence.document.replace(pki.org_uscc.encode(), pki.anhui_uscc.encode()), licence.signature)
    with pytest.raises(Refused) as info:
        await verify_credential(tampered, validator, kind=CredentialKind.LICENCE, now=pki.now)
    assert info.value.reason is Reason.DIGEST_MISMATCH
    # a licence "issued" by an ordinary company certificate
    fake = await issue_credential(
        pki.org_sign.signing(),
        CredentialKind.LICENCE,
        {"uscc": pki.org_uscc, "name": "x"},
        public_key_der(holder_key),
        serial="FAKE",
        issued=pki.now,
        expires=pki.now + timedelta(days=1),
    )
    with pytest.raises(Refused) as info:
        await verify_credential(fake, validator, kind=CredentialKind.LICENCE, now=pki.now)
    assert info.value.reason is Reason.CA_NOT_RECOGNISED_FOR_USAGE
    with pytest.raises(Refused) as info:
        await issue_credential(
            pki.eid_issuer.signing(),
            CredentialKind.EID,
            {"idNumber": "110105194912310021", "name": "x"},
            public_key_der(holder_key),
            serial="x",
            issued=pki.now,
            expires=pki.now,
        )
    assert info.value.reason is Reason.CREDENTIAL_INVALID


async def test_e_id_qr_login_in_process(pki: DevPki, validator: PathValidator) -> None:
    key = new_key("ed25519")
    eid = await issue_credential(
        pki.eid_issuer.signing(),
        CredentialKind.EID,
        {"idNumber": pki.person_id_number, "name": "张三"},
        public_key_der(key),
        serial="EID-1",
        issued=pki.now - timedelta(days=1),
        expires=pki.now + timedelta(days=30),
    )
    store = MemoryChallengeStore()
    challenge = issue_challenge(ORIGIN, now=pki.now, purpose=QR_PURPOSE)
    store.put(challenge)
    response = respond_to_qr(qr_payload(challenge), eid, PycaSigner(key))
    data = await verify_qr_login(
        response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator, kind=CredentialKind.EID
    )
    assert data.party().identifier == pki.person_id_number
    # a signature by another key than the credential's
    challenge = issue_challenge(ORIGIN, now=pki.now, purpose=QR_PURPOSE)
    store.put(challenge)
    stolen = respond_to_qr(qr_payload(challenge), eid, PycaSigner(new_key("ed25519")))
    with pytest.raises(Refused) as info:
        await verify_qr_login(
            stolen, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator, kind=CredentialKind.EID
        )
    assert info.value.reason is Reason.BAD_SIGNATURE
    # a login challenge is not a QR-login challenge
    challenge = issue_challenge(ORIGIN, now=pki.now)
    store.put(challenge)
    with pytest.raises(Refused):
        await verify_qr_login(
            respond_to_qr(qr_payload(challenge), eid, PycaSigner(key)),
            store=store,
            expected_origin=ORIGIN,
            now=pki.now,
            validator=validator,
            kind=CredentialKind.EID,
        )


async def test_holder_app_cli_answers_a_scanned_qr_code(
    pki: DevPki, licence: Credential, holder_key, validator: PathValidator, tmp_path
) -> None:
    wallet = tmp_path / "wallet.json"
    wallet.write_text(json.dumps(make_wallet(licence, holder_key, "e-licence"), ensure_ascii=False), encoding="utf-8")
    store = MemoryChallengeStore()
    challenge = issue_challenge(ORIGIN, now=pki.now, purpose=QR_PURPOSE)
    store.put(challenge)
    assert "<svg" in qr_svg(qr_payload(challenge))
    image = tmp_path / "login.png"
    image.write_bytes(qr_png(qr_payload(challenge)))
    require("zbarimg")
    result = subprocess.run(
        [sys.executable, "-m", "certs.tools.holder_app", "respond", "--wallet", str(wallet), "--qr-image", str(image)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert ORIGIN in result.stderr
    response = QrLoginResponse.from_dict(json.loads(result.stdout))
    data = await verify_qr_login(
        response, store=store, expected_origin=ORIGIN, now=pki.now, validator=validator, kind=CredentialKind.LICENCE
    )
    assert data.party().name == "南京示例建设工程有限公司"
    shown = subprocess.run(
        [sys.executable, "-m", "certs.tools.holder_app", "show", "--wallet", str(wallet)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=60,
    )
    assert "王五" in shown.stdout
