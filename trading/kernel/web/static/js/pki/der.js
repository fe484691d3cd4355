/* DER helpers shared by the page's PKI modules (pkcs12.js, cades.js, envelope.js, agent.js).
 *
 * Reading goes through asn1js (vendored PKI.js bundle), which also accepts the BER that other
 * tools put in PKCS#12 files (indefinite lengths, constructed OCTET STRINGs). Writing is done
 * here, byte by byte, so the page produces exactly the DER the platform's Python code produces
 * (asn1crypto): a signature over re-encoded bytes would not verify.
 */
import { asn1js, Certificate } from "../../vendor/pkijs/pki.bundle.js";

export const OID = Object.freeze({
  data: "1.2.840.113549.1.7.1",
  signedData: "1.2.840.113549.1.7.2",
  encryptedData: "1.2.840.113549.1.7.6",
  contentType: "1.2.840.113549.1.9.3",
  messageDigest: "1.2.840.113549.1.9.4",
  signingTime: "1.2.840.113549.1.9.5",
  signingCertificateV2: "1.2.840.113549.1.9.16.2.47",
  friendlyName: "1.2.840.113549.1.9.20",
  localKeyId: "1.2.840.113549.1.9.21",
  x509Certificate: "1.2.840.113549.1.9.22.1",
  keyBag: "1.2.840.113549.1.12.10.1.1",
  shroudedKeyBag: "1.2.840.113549.1.12.10.1.2",
  certBag: "1.2.840.113549.1.12.10.1.3",
  pbes2: "1.2.840.113549.1.5.13",
  pbkdf2: "1.2.840.113549.1.5.12",
  hmacSha1: "1.2.840.113549.2.7",
  hmacSha256: "1.2.840.113549.2.9",
  hmacSha384: "1.2.840.113549.2.10",
  hmacSha512: "1.2.840.113549.2.11",
  aes128Cbc: "2.16.840.1.101.3.4.1.2",
  aes192Cbc: "2.16.840.1.101.3.4.1.22",
  aes256Cbc: "2.16.840.1.101.3.4.1.42",
  sha1: "1.3.14.3.2.26",
  sha256: "2.16.840.1.101.3.4.2.1",
  sha384: "2.16.840.1.101.3.4.2.2",
  sha512: "2.16.840.1.101.3.4.2.3",
  ecPublicKey: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  rsaEncryption: "1.2.840.113549.1.1.1",
  ecdsaSha256: "1.2.840.10045.4.3.2",
  ecdsaSha384: "1.2.840.10045.4.3.3",
  rsaSha256: "1.2.840.113549.1.1.11",
  rsaPss: "1.2.840.113549.1.1.10",
  mgf1: "1.2.840.113549.1.1.8",
  commonName: "2.5.4.3",
});

/** An error a page can show: `code` names what went wrong (pages map codes to translated text). */
export class PkiError extends Error {
  constructor(code, message) {
    super(message || code);
    this.name = "PkiError";
    this.code = code;
  }
}

// ---------------------------------------------------------------- reading

/** Parse one DER/BER element that must fill `bytes`. */
export function parse(bytes, what = "ASN.1") {
  const view = bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes);
  const result = asn1js.fromBER(view);
  if (result.offset === -1 || result.offset !== view.byteLength) {
    throw new PkiError("malformed", `${what} cannot be parsed`);
  }
  return result.result;
}

/** The children of a constructed element (SEQUENCE, SET, [n] EXPLICIT). */
export function children(node) {
  if (!node || !node.idBlock.isConstructed || !Array.isArray(node.valueBlock.value)) {
    throw new PkiError("malformed", "a constructed ASN.1 element was expected");
  }
  return node.valueBlock.value;
}

/** The content octets of an OCTET STRING (primitive or constructed) or any primitive element. */
export function octets(node) {
  if (node.idBlock.isConstructed) {
    return concat(...children(node).map(octets));
  }
  return new Uint8Array(node.valueBlock.valueHexView);
}

/** The dotted string of an OBJECT IDENTIFIER element. */
export function oidOf(node) {
  if (!(node instanceof asn1js.ObjectIdentifier)) {
    throw new PkiError("malformed", "an object identifier was expected");
  }
  return node.valueBlock.toString();
}

/** A small non-negative INTEGER as a number. */
export function intOf(node) {
  if (!(node instanceof asn1js.Integer)) {
    throw new PkiError("malformed", "an integer was expected");
  }
  return node.valueBlock.valueDec;
}

/** The exact encoding an element was parsed from. */
export function encoded(node) {
  return new Uint8Array(node.valueBeforeDecodeView);
}

/** True when `node` is context-specific [tag]. */
export function isContext(node, tag) {
  return node.idBlock.tagClass === 3 && node.idBlock.tagNumber === tag;
}

// ---------------------------------------------------------------- writing

export function concat(...parts) {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let at = 0;
  for (const part of parts) {
    out.set(part, at);
    at += part.byteLength;
  }
  return out;
}

function lengthOctets(length) {
  if (length < 0x80) {
    return Uint8Array.of(length);
  }
  const bytes = [];
  for (let n = length; n > 0; n = Math.floor(n / 256)) {
    bytes.unshift(n % 256);
  }
  return Uint8Array.of(0x80 | bytes.length, ...bytes);
}

/** One DER element: identifier octet `tag`, then the length and the concatenated contents. */
export function tlv(tag, ...contents) {
  const body = concat(...contents);
  return concat(Uint8Array.of(tag), lengthOctets(body.byteLength), body);
}

export const sequence = (...items) => tlv(0x30, ...items);
export const octetString = (bytes) => tlv(0x04, bytes);
export const NULL = Uint8Array.of(0x05, 0x00);

function compareOctets(a, b) {
  const n = Math.min(a.byteLength, b.byteLength);
  for (let i = 0; i < n; i += 1) {
    if (a[i] !== b[i]) {
      return a[i] - b[i];
    }
  }
  return a.byteLength - b.byteLength;
}

/** A DER SET OF (X.690 §11.6): the element encodings in ascending order. `tag` 0x31 or an implicit tag. */
export function setOf(items, tag = 0x31) {
  return tlv(tag, ...[...items].sort(compareOctets));
}

export function oid(dotted) {
  return new Uint8Array(new asn1js.ObjectIdentifier({ value: dotted }).toBER(false));
}

/** DER INTEGER from big-endian unsigned magnitude bytes. */
export function unsignedInteger(magnitude) {
  let start = 0;
  while (start < magnitude.byteLength - 1 && magnitude[start] === 0) {
    start += 1;
  }
  const trimmed = magnitude.subarray(start);
  return tlv(0x02, trimmed[0] & 0x80 ? concat(Uint8Array.of(0), trimmed) : trimmed);
}

export function smallInteger(value) {
  return tlv(0x02, Uint8Array.of(value));
}

/** RFC 5652 §11.3 Time: UTCTime up to 2049, GeneralizedTime from 2050 on, whole seconds, UTC. */
export function time(date) {
  const iso = new Date(Math.floor(date.getTime() / 1000) * 1000).toISOString(); // 2026-01-02T03:04:05.000Z
  const digits = iso.slice(0, 19).replace(/[-T:]/g, ""); // 20260102030405
  const text = date.getUTCFullYear() < 2050 ? digits.slice(2) : digits;
  return tlv(date.getUTCFullYear() < 2050 ? 0x17 : 0x18, new TextEncoder().encode(`${text}Z`));
}

/** ECDSA signature: WebCrypto's raw r‖s (IEEE P1363) as the DER Ecdsa-Sig-Value CMS carries. */
export function ecdsaRawToDer(raw) {
  const half = raw.byteLength / 2;
  return sequence(unsignedInteger(raw.subarray(0, half)), unsignedInteger(raw.subarray(half)));
}

// ---------------------------------------------------------------- certificates

/**
 * What the page needs of a certificate: its parsed PKI.js object, key kind and curve, the
 * signature hash the platform pairs with the key (SHA-384 for P-384, SHA-256 otherwise), the
 * issuer Name and serial number encodings (for IssuerAndSerialNumber) and the subject CN.
 */
export function certificateInfo(der) {
  const bytes = der instanceof Uint8Array ? der : new Uint8Array(der);
  let certificate;
  try {
    certificate = Certificate.fromBER(bytes);
  } catch (error) {
    throw new PkiError("malformed", `certificate cannot be parsed: ${error.message}`);
  }
  const spki = certificate.subjectPublicKeyInfo;
  const keyOid = spki.algorithm.algorithmId;
  let kind;
  let curve = null;
  if (keyOid === OID.ecPublicKey) {
    const curveOid = spki.algorithm.algorithmParams.valueBlock.toString();
    curve = { [OID.p256]: "P-256", [OID.p384]: "P-384" }[curveOid] || null;
    if (!curve) {
      throw new PkiError("unsupported-key", `EC curve ${curveOid} is not supported in the browser`);
    }
    kind = "ec";
  } else if (keyOid === OID.rsaEncryption) {
    kind = "rsa";
  } else {
    throw new PkiError("unsupported-key", `key algorithm ${keyOid} is not supported in the browser`);
  }
  const cnAttribute = certificate.subject.typesAndValues.find((tv) => tv.type === OID.commonName);
  // the exact encodings, taken from the bytes (never re-encoded)
  const tbs = children(children(parse(bytes, "certificate"))[0]);
  const at = isContext(tbs[0], 0) ? 1 : 0; // [0] version is optional (v1)
  return {
    certificate,
    der: bytes,
    kind,
    curve,
    hash: curve === "P-384" ? "SHA-384" : "SHA-256",
    serial: encoded(tbs[at]),
    issuer: encoded(tbs[at + 2]),
    subject: encoded(tbs[at + 4]),
    spki: encoded(tbs[at + 5]),
    commonName: cnAttribute ? String(cnAttribute.value.valueBlock.value) : "",
  };
}

export function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.byteLength; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

export function fromBase64(text) {
  const binary = atob(text.replace(/\s+/g, ""));
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) {
    out[i] = binary.charCodeAt(i);
  }
  return out;
}
