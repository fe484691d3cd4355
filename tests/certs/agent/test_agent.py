"""``ggzy agent`` against SoftHSM2: what the pages get from a hardware key is what the platform
accepts (CAdES signatures, sealed-bid content keys), and only allowed pages, with the user's yes.
"""

from __future__ import annotations

import base64
import os
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from asn1crypto import cms as asn1_cms  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import keywrap, serialization
from cryptography.hazmat.primitives.kdf.x963kdf import X963KDF

from certs import cms
from certs.algorithms import ECDSA_P256_SHA256, RSA_PSS_SHA256, SignatureAlgorithm
from certs.devpki.pki import DevPki, Identity
from certs.envelope import cms_env, cms_recipients
from certs.envelope.sealed_bid import BidBinding, open_with_content_key, parse, unwrap_content_key
from certs.pathval.validate import PathValidator
from certs.providers.base import SignatureValue
from certs.sign import cades
from certs.sign.verify import verify_document
from certs.trustlist.model import Usage
from tests.certs.agent.conftest import (
    ENC_EC,
    ENC_RSA,
    ORIGIN,
    PIN,
    SIGN_EC,
    SIGN_RSA,
    TOKEN_LABEL,
    AgentProcess,
    softhsm_module,
)
from tests.certs.external import run, write

BID = "投标函：南京示例建设工程有限公司 投标总价 12,340,000.00 元\n".encode() * 40
PRICE_TABLE = "开标一览表 PLAINTEXT-MARKER 人民币壹仟贰佰叁拾肆万元整".encode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class AgentSigner:
    """A certs `Signer` whose key is on the token: each signature goes through the agent (and the user)."""

    def __init__(self, agent: AgentProcess, key_id: str, algorithm: SignatureAlgorithm, certificate) -> None:
        self.agent, self.key_id, self._algorithm, self.certificate = agent, key_id, algorithm, certificate
        self.questions: list[str] = []

    @property
    def algorithm(self) -> SignatureAlgorithm:
        return self._algorithm

    def sign(self, data: bytes) -> SignatureValue:
        response, question = self.agent.ask(
            f"/v1/keys/{self.key_id}/sign", {"data": b64(data), "purpose": "投标文件签名"}, "y"
        )
        assert response.status_code == 200, response.text
        assert response.json()["algorithm"] == self._algorithm.name  # as the platform's own signer signs
        self.questions.append(question)
        return SignatureValue(self._algorithm, base64.b64decode(response.json()["signature"]))

    def public_key_der(self) -> bytes:
        return self.certificate.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )


def test_lists_the_token_certificates_with_their_chain(agent: AgentProcess, pki: DevPki) -> None:
    response = agent.request("GET", "/v1/keys")
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == ORIGIN
    keys = {key["id"]: key for key in response.json()["keys"]}
    assert set(keys) == {SIGN_EC, ENC_EC, SIGN_RSA, ENC_RSA}  # the CA certificates have no key: not listed
    assert base64.b64decode(keys[SIGN_EC]["certificate"]) == pki.org_sign.cert_der
    assert keys[SIGN_EC]["kind"] == "ec"
    assert keys[ENC_RSA]["kind"] == "rsa"
    assert keys[SIGN_EC]["label"] == pki.org_sign.name
    assert keys[SIGN_EC]["usage"] == ["sign"]
    assert keys[ENC_EC]["usage"] == ["encrypt"]
    chain = [x509.load_der_x509_certificate(base64.b64decode(c)) for c in keys[SIGN_EC]["chain"]]
    assert chain == [pki.jiangsu_ca.identity.certificate, pki.jiangsu_root.identity.certificate]
    assert keys[SIGN_RSA]["chain"] == []  # the Anhui CA is not on this token


@pytest.mark.parametrize(
    ("key_id", "who", "algorithm"),
    [(SIGN_EC, "org_sign", ECDSA_P256_SHA256), (SIGN_RSA, "anhui_org_sign", RSA_PSS_SHA256)],
)
async def test_cades_signature_through_the_agent_verifies(  # noqa: PLR0917 - fixtures
    agent: AgentProcess, pki: DevPki, tsa, validator: PathValidator, tmp_path, key_id: str, who: str, algorithm
) -> None:
    identity: Identity = getattr(pki, who)
    signer = AgentSigner(agent, key_id, algorithm, identity.certificate)
    signing = cms.SigningIdentity(signer, identity.certificate, identity.chain)
    signature = await cades.sign_detached(BID, signing, signing_time=datetime.now(UTC), tsa=tsa)

    assert len(signer.questions) == 1
    assert "确认签名" in signer.questions[0]
    assert ORIGIN in signer.questions[0]
    assert "投标文件签名" in signer.questions[0]
    assert identity.name in signer.questions[0]
    report = await verify_document(BID, signature, validator, usage=Usage.BID_SIGNATURE, require_timestamp=True)
    assert report.passed, report.message
    assert report.algorithm == algorithm.name
    write(tmp_path / "root.pem", identity.root.public_bytes(serialization.Encoding.PEM))
    openssl = [
        "openssl", "cms", "-verify", "-binary", "-inform", "DER", "-in", write(tmp_path / "x.p7s", signature),
        "-CAfile", tmp_path / "root.pem", "-purpose", "any", "-out", tmp_path / "out.bin",
    ]  # fmt: skip
    result = run(*openssl, "-content", write(tmp_path / "x.bin", BID))
    assert result.returncode == 0, result.stderr
    assert "Verification successful" in result.stderr
    assert run(*openssl, "-content", write(tmp_path / "y.bin", BID + b"x")).returncode != 0


def _kari_cek_through_agent(agent: AgentProcess, key_id: str, recipient_infos: bytes) -> tuple[bytes, str]:
    """What envelope.js does with an agent key holder: everything but ECDH in the caller."""
    kari = asn1_cms.RecipientInfos.load(recipient_infos)[0].chosen
    point = bytes(kari["originator"].chosen["public_key"].native)
    response, question = agent.ask(f"/v1/keys/{key_id}/derive", {"point": b64(point), "purpose": "开标解密"}, "y")
    assert response.status_code == 200, response.text
    shared = base64.b64decode(response.json()["secret"])
    wrap_algorithm = kari["key_encryption_algorithm"]["parameters"].dump()
    scheme = kari["key_encryption_algorithm"]["algorithm"].dotted
    kek = X963KDF(
        algorithm=cms_recipients._KDF_SCHEMES[scheme],
        length=32,
        sharedinfo=cms_recipients._shared_info(wrap_algorithm, kari["ukm"].native, 32),
    ).derive(shared)
    encrypted = kari["recipient_encrypted_keys"][0]["encrypted_key"].native
    return keywrap.aes_key_unwrap(kek, encrypted), question


def _ktri_cek_through_agent(agent: AgentProcess, key_id: str, recipient_infos: bytes) -> tuple[bytes, str]:
    ktri = asn1_cms.RecipientInfos.load(recipient_infos)[0].chosen
    label = ktri["key_encryption_algorithm"]["parameters"]["p_source_algorithm"]["parameters"].native
    body = {"encryptedKey": b64(ktri["encrypted_key"].native), "label": b64(label), "purpose": "开标解密"}
    response, question = agent.ask(f"/v1/keys/{key_id}/decrypt-oaep", body, "y")
    assert response.status_code == 200, response.text
    return base64.b64decode(response.json()["key"]), question


@pytest.mark.parametrize(("key_id", "who"), [(ENC_EC, "org_enc"), (ENC_RSA, "anhui_org_enc")])
def test_sealed_bid_content_key_unwraps_through_the_agent(
    agent: AgentProcess, pki: DevPki, key_id: str, who: str
) -> None:
    identity: Identity = getattr(pki, who)
    binding = BidBinding(
        tender="JS-2026-0042", lot="1", bidder=pki.org_uscc, deadline=datetime(2026, 12, 1, 9, 30, tzinfo=UTC)
    )
    sealed = cms_env.seal(PRICE_TABLE, binding, bidder=identity.certificate)
    # the page fetches the header only (the detached CMS), as at the opening
    header = sealed.header()
    detached = cms_env.from_header(header)
    unwrap = _kari_cek_through_agent if key_id == ENC_EC else _ktri_cek_through_agent
    cek, question = unwrap(agent, key_id, detached.pieces.recipient_infos)

    assert "确认解密" in question
    assert ORIGIN in question
    assert cek == unwrap_content_key(header, identity.key, binding)  # the PKCS#8 key's answer
    assert open_with_content_key(parse(sealed.to_bytes()), cek, binding) == PRICE_TABLE


def test_a_declined_operation_is_refused_clearly(agent: AgentProcess) -> None:
    response, question = agent.ask(f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"record")}, "n")
    assert "确认签名" in question
    assert response.status_code == 403
    assert response.headers["access-control-allow-origin"] == ORIGIN  # the page can read why
    assert response.json()["code"] == "declined"
    assert "declined" in response.json()["detail"]
    # anything but an explicit yes refuses
    response, _ = agent.ask(f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"record")}, "")
    assert response.json()["code"] == "declined"


def test_an_answer_typed_before_the_question_approves_nothing(agent: AgentProcess) -> None:
    agent.answer("y")  # typed early, by accident
    response, _ = agent.ask(f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"record")}, "n")
    assert response.json()["code"] == "declined"


@pytest.mark.parametrize(
    ("origin", "headers"),
    [
        ("https://evil.example", {}),
        (None, {}),
        ("https://ggzy.example.evil.example", {}),
        ("null", {}),
        (ORIGIN, {"Host": "rebound.example:17321"}),  # DNS rebinding: the right origin, a foreign name
    ],
)
def test_other_origins_are_refused_without_cors(agent: AgentProcess, origin, headers) -> None:
    for method, path, body in (
        ("GET", "/v1/keys", None),
        ("POST", f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"x")}),
        ("OPTIONS", f"/v1/keys/{SIGN_EC}/sign", None),
    ):
        response = agent.request(method, path, origin=origin, body=body, **headers)
        assert response.status_code == 403, (method, response.text)
        assert "access-control-allow-origin" not in response.headers
        assert response.json()["code"] == "origin-not-allowed"
    assert agent.lines.empty()  # nobody was asked


def test_preflight_for_an_allowed_origin(agent: AgentProcess) -> None:
    response = agent.request(
        "OPTIONS",
        f"/v1/keys/{SIGN_EC}/sign",
        **{
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "content-type",
            "Access-Control-Request-Private-Network": "true",
        },
    )
    assert response.status_code == 204
    assert response.headers["access-control-allow-origin"] == ORIGIN
    assert "POST" in response.headers["access-control-allow-methods"]
    assert response.headers["access-control-allow-headers"].lower() == "content-type"
    assert response.headers["access-control-allow-private-network"] == "true"


@pytest.mark.parametrize(
    ("path", "body", "status", "field"),
    [
        (f"/v1/keys/{SIGN_EC}/sign", {"data": "not base64!"}, 422, "data"),
        (f"/v1/keys/{SIGN_EC}/sign", {"data": ""}, 422, "data"),
        (f"/v1/keys/{SIGN_EC}/sign", {}, 422, "data"),
        (f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"x" * 70_000)}, 413, "data"),
        (f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"x"), "purpose": "a\nb"}, 422, "purpose"),
        (f"/v1/keys/{SIGN_EC}/sign", {"data": b64(b"x"), "purpose": "字" * 201}, 422, "purpose"),
        (f"/v1/keys/{SIGN_EC}/sign", ["data"], 422, "body"),
        ("/v1/keys/ff/sign", {"data": b64(b"x")}, 404, "key"),
        (f"/v1/keys/{ENC_EC}/derive", {"point": b64(b"\x04" + b"\x01" * 64)}, 422, "point"),
        (f"/v1/keys/{ENC_EC}/derive", {"point": b64(b"\x02" + b"\x01" * 32)}, 422, "point"),
        (f"/v1/keys/{ENC_RSA}/derive", {"point": b64(b"\x04" + b"\x01" * 64)}, 422, "key"),
        (f"/v1/keys/{ENC_EC}/decrypt-oaep", {"encryptedKey": b64(b"x" * 256), "label": ""}, 422, "key"),
        (f"/v1/keys/{ENC_RSA}/decrypt-oaep", {"encryptedKey": b64(b"x" * 255), "label": ""}, 422, "encryptedKey"),
        (f"/v1/keys/{ENC_EC}/sign", {"data": b64(b"x")}, 422, "key"),  # an encryption certificate does not sign
        (f"/v1/keys/{SIGN_EC}/derive", {"point": b64(b"\x04" + b"\x01" * 64)}, 422, "key"),
    ],
)
def test_bad_input_is_a_4xx_naming_the_field(agent: AgentProcess, path, body, status, field) -> None:
    response = agent.request("POST", path, body=body)
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["field"] == field
    assert agent.lines.empty()  # refused before anyone was asked


def test_transport_limits(agent: AgentProcess) -> None:
    url = f"/v1/keys/{SIGN_EC}/sign"
    as_form = agent.request("POST", url, **{"Content-Type": "application/x-www-form-urlencoded"})
    assert as_form.status_code == 415
    assert as_form.json()["field"] == "Content-Type"
    huge = httpx.post(
        agent.base + url,
        content=b"{" + b" " * 200_000 + b"}",
        headers={"Origin": ORIGIN, "Content-Type": "application/json"},
        timeout=30,
    )
    assert huge.status_code == 413
    not_json = httpx.post(
        agent.base + url, content=b"{nope", headers={"Origin": ORIGIN, "Content-Type": "application/json"}, timeout=30
    )
    assert not_json.status_code == 400
    assert not_json.json()["field"] == "body"
    assert agent.request("GET", "/v1/other").status_code == 404
    assert agent.request("DELETE", "/v1/keys").status_code == 405


def test_the_pin_never_reaches_the_output(agent: AgentProcess) -> None:
    agent.request("GET", "/v1/keys")
    logs = agent.logs()
    assert "GET /v1/keys from https://ggzy.example: 200" in logs  # the log is there, and read
    assert PIN not in logs


def _ggzy_agent(
    softhsm: dict[str, str], *args: str, pin: str = PIN, module: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(Path(sys.executable).with_name("ggzy")), "agent", "--module", module or softhsm_module(), *args],
        env={**os.environ, **softhsm, "GGZY_AGENT_PIN": pin},
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_list_shows_the_token_keys_and_exits(softhsm: dict[str, str], pki: DevPki) -> None:
    result = _ggzy_agent(softhsm, "--token-label", TOKEN_LABEL, "--list")
    assert result.returncode == 0, result.stderr
    assert f"key {SIGN_EC}: ec {pki.org_sign.name}" in result.stdout
    assert f"key {ENC_RSA}: rsa {pki.anhui_org_enc.name}" in result.stdout
    assert PIN not in result.stdout + result.stderr


def test_start_up_refusals_are_clear(softhsm: dict[str, str], tmp_path) -> None:
    not_a_module = tmp_path / "vendor.so"
    not_a_module.write_bytes(b"not a library")
    wrong_module = _ggzy_agent(softhsm, "--token-label", TOKEN_LABEL, "--list", module=str(not_a_module))
    assert wrong_module.returncode == 1
    assert "is not a PKCS#11 module" in wrong_module.stderr
    wrong_pin = _ggzy_agent(softhsm, "--token-label", TOKEN_LABEL, "--allow-origin", ORIGIN, pin="000000")
    assert wrong_pin.returncode != 0
    assert "the token refused the PIN" in wrong_pin.stderr
    assert "000000" not in wrong_pin.stdout + wrong_pin.stderr
    no_token = _ggzy_agent(softhsm, "--token-label", "no-such-token", "--allow-origin", ORIGIN)
    assert "no token labelled 'no-such-token'" in no_token.stderr
    nobody = _ggzy_agent(softhsm, "--token-label", TOKEN_LABEL)
    assert nobody.returncode == 2
    assert "--allow-origin" in nobody.stderr
    with_path = _ggzy_agent(softhsm, "--token-label", TOKEN_LABEL, "--allow-origin", "https://ggzy.example/bid")
    assert with_path.returncode == 2
    assert "not an origin" in with_path.stderr
