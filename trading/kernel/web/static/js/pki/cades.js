/* Detached CAdES-B-B signatures (CMS SignedData, DER) made in the page with any KeyHolder.
 *
 *   import { signDetached } from "/static/js/pki/cades.js";
 *   const p7s = await signDetached(bytes, holder);            // Uint8Array, DER ContentInfo
 *
 * The structure is the one `certs/cms.py` builds for `certs/sign/cades.py` (and so for `ggzy bid
 * object/confirm`): SignedData v1, detached id-data, the signer's certificate and the holder's chain,
 * one SignerInfo v1 identified by issuer and serial number, and the signed attributes
 * content-type, message-digest, signing-certificate-v2 (ESSCertIDv2: SHA-256 of the certificate
 * with its issuer and serial) and signing-time, as a DER SET OF. Digest and signature algorithm
 * follow the key as the platform's signer does: SHA-256 with ECDSA P-256, SHA-384 with ECDSA
 * P-384, RSASSA-PSS (SHA-256, MGF1-SHA-256, 32-byte salt) with RSA. Apart from the signature value
 * (ECDSA and PSS are randomised) the bytes equal the CLI's for the same signing time.
 *
 * Only the DER of the signed attributes goes to `holder.sign`; hashing and encoding are here.
 */
import {
  NULL,
  OID,
  certificateInfo,
  octetString,
  oid,
  sequence,
  setOf,
  smallInteger,
  time,
  tlv,
} from "./der.js";

const digestOid = { "SHA-256": OID.sha256, "SHA-384": OID.sha384 };

function algorithms(info) {
  const digestAlgorithm = sequence(oid(digestOid[info.hash]), NULL);
  const signatureAlgorithm =
    info.kind === "ec"
      ? sequence(oid(info.hash === "SHA-384" ? OID.ecdsaSha384 : OID.ecdsaSha256))
      : sequence(oid(OID.rsaPss), rsaPssSha256Params());
  return { digestAlgorithm, signatureAlgorithm };
}

/** RSASSA-PSS-params as asn1crypto writes them: SHA-256, MGF1 with SHA-256, salt 32, default trailer. */
function rsaPssSha256Params() {
  const sha256 = sequence(oid(OID.sha256), NULL);
  return sequence(
    tlv(0xa0, sha256),
    tlv(0xa1, sequence(oid(OID.mgf1), sha256)),
    tlv(0xa2, tlv(0x02, Uint8Array.of(32))),
  );
}

const attribute = (type, value) => sequence(oid(type), setOf([value]));

/** signing-certificate-v2 (RFC 5035) with one ESSCertIDv2: SHA-256 (the default, so omitted) and IssuerSerial. */
async function signingCertificateV2(info) {
  const hash = new Uint8Array(await crypto.subtle.digest("SHA-256", info.der));
  const issuerSerial = sequence(sequence(tlv(0xa4, info.issuer)), info.serial);
  return sequence(sequence(sequence(octetString(hash), issuerSerial)));
}

/**
 * The DER `SET OF Attribute` a signature covers (RFC 5652 §5.4), for `data` signed by the
 * certificate described by `info` at `signingTime`.
 */
export async function signedAttributes(data, info, signingTime) {
  const digest = new Uint8Array(await crypto.subtle.digest(info.hash, data));
  return [
    attribute(OID.contentType, oid(OID.data)),
    attribute(OID.messageDigest, octetString(digest)),
    attribute(OID.signingCertificateV2, await signingCertificateV2(info)),
    attribute(OID.signingTime, time(signingTime)),
  ];
}

/**
 * A detached CAdES-B-B signature over `data` by `holder`.
 * @param {Uint8Array} data the exact bytes signed (e.g. a server-given canonical JSON payload)
 * @param {import("./keyholder.js").KeyHolder} holder
 * @param {{signingTime?: Date}} [options] the claimed signing time; the page's clock when absent
 * @returns {Promise<Uint8Array>} DER ContentInfo(SignedData)
 */
export async function signDetached(data, holder, { signingTime } = {}) {
  const info = certificateInfo(holder.certificate);
  const { digestAlgorithm, signatureAlgorithm } = algorithms(info);
  const attributes = await signedAttributes(data, info, signingTime || new Date());
  const signature = await holder.sign(setOf(attributes));
  const signerInfo = sequence(
    smallInteger(1),
    sequence(info.issuer, info.serial),
    digestAlgorithm,
    setOf(attributes, 0xa0), // [0] IMPLICIT: the same octets that were signed under the SET tag
    signatureAlgorithm,
    octetString(signature),
  );
  const certificates = [info.der, ...holder.chain.map((c) => new Uint8Array(c))];
  const signedData = sequence(
    smallInteger(1),
    setOf([digestAlgorithm]),
    sequence(oid(OID.data)), // detached: no eContent
    setOf(certificates, 0xa0),
    setOf([signerInfo]),
  );
  return sequence(oid(OID.signedData), tlv(0xa0, signedData));
}
