from __future__ import annotations

import asyncio

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtensionOID, NameOID

from certs.devpki.pki import OID_ORGANISATION_CODE, DevPki, PkiFetcher
from certs.identifiers import is_id_number, is_uscc
from tests.certs.external import run, write


def test_identifiers_carry_valid_check_characters(pki: DevPki) -> None:
    assert is_uscc(pki.org_uscc)
    assert is_uscc(pki.anhui_uscc)
    assert is_id_number(pki.person_id_number)
    assert is_uscc("91350100M000100Y43")
    assert not is_uscc("91350100M000100Y44")
    assert is_id_number("11010519491231002X")
    assert not is_id_number("110105194912310021")


def test_leaves_chain_to_their_roots_per_openssl(pki: DevPki, tmp_path) -> None:
    for leaf in (pki.org_sign, pki.person_sign, pki.anhui_org_sign, pki.tsa, pki.guarantor, pki.licence_issuer):
        write(tmp_path / "root.pem", leaf.root.public_bytes(serialization.Encoding.PEM))
        write(
            tmp_path / "untrusted.pem",
            b"".join(c.public_bytes(serialization.Encoding.PEM) for c in leaf.chain[:-1]) or leaf.cert_pem,
        )
        result = run(
            "openssl",
            "verify",
            "-CAfile",
            tmp_path / "root.pem",
            "-untrusted",
            tmp_path / "untrusted.pem",
            "-purpose",
            "any",
            write(tmp_path / "leaf.pem", leaf.cert_pem),
        )
        assert result.returncode == 0, (leaf.name, result.stdout, result.stderr)


def test_tsa_certificate_has_critical_timestamping_eku(pki: DevPki, tmp_path) -> None:
    eku = pki.tsa.certificate.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE)
    assert eku.critical
    write(tmp_path / "chain.pem", pki.tsa.chain_pem)
    result = run(
        "openssl",
        "verify",
        "-purpose",
        "timestampsign",
        "-CAfile",
        tmp_path / "chain.pem",
        write(tmp_path / "tsa.pem", pki.tsa.cert_pem),
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_organisation_certificates_carry_the_uscc_like_real_cas(pki: DevPki) -> None:
    jiangsu = pki.org_sign.certificate
    ext = jiangsu.extensions.get_extension_for_oid(OID_ORGANISATION_CODE)
    assert pki.org_uscc.encode() in ext.value.public_bytes()
    anhui = pki.anhui_org_sign.certificate
    assert anhui.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value == pki.anhui_uscc
    # no SAN, as on real Chinese organisation certificates
    assert not any(e.oid == ExtensionOID.SUBJECT_ALTERNATIVE_NAME for e in jiangsu.extensions)


def test_crl_lists_the_revoked_certificate(pki: DevPki) -> None:
    crl = pki.jiangsu_ca.crl(pki.now)
    assert crl.is_signature_valid(pki.jiangsu_ca.key.public_key())  # type: ignore[arg-type]
    entry = crl.get_revoked_certificate_by_serial_number(pki.revoked.certificate.serial_number)
    assert entry is not None
    assert crl.get_revoked_certificate_by_serial_number(pki.org_sign.certificate.serial_number) is None


def test_ocsp_responder_answers_good_revoked_and_unknown(pki: DevPki) -> None:
    fetcher = PkiFetcher(pki)

    def ask(cert: x509.Certificate, issuer: x509.Certificate) -> ocsp.OCSPResponse:
        req = ocsp.OCSPRequestBuilder().add_certificate(cert, issuer, hashes.SHA256()).build()
        der = asyncio.run(fetcher.fetch(pki.jiangsu_ca.ocsp_url, body=req.public_bytes(serialization.Encoding.DER)))
        return ocsp.load_der_ocsp_response(der)

    ca = pki.jiangsu_ca.certificate
    assert ask(pki.org_sign.certificate, ca).certificate_status is ocsp.OCSPCertStatus.GOOD
    revoked = ask(pki.revoked.certificate, ca)
    assert revoked.certificate_status is ocsp.OCSPCertStatus.REVOKED
    assert revoked.revocation_time_utc is not None
    assert ask(pki.rogue_leaf.certificate, ca).certificate_status is ocsp.OCSPCertStatus.UNKNOWN


def test_pkcs12_round_trip(pki: DevPki) -> None:
    blob = pki.org_sign.pkcs12(b"secret")
    loaded = pkcs12.load_pkcs12(blob, b"secret")
    assert loaded.cert is not None
    assert loaded.cert.certificate == pki.org_sign.certificate
    assert [c.certificate for c in loaded.additional_certs] == list(pki.org_sign.chain)
