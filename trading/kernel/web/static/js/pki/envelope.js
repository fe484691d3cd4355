/* Sealing a bid and unwrapping its content keys in the page: the `ggzy-bid/1` container the bidder
 * CLI makes (`ggzy bid seal`, bidding/client/sdk.py), byte for byte in the same format, and the
 * content-key unwrapping of `ggzy bid decrypt` (bidding/client/hall.py). The private keys stay
 * behind a KeyHolder (keyholder.js); the plaintext stays in this page's memory.
 *
 * What the page must produce (the Python it mirrors in brackets):
 *
 * Container (bidding/client/format.py): a ZIP, every entry STORED, exactly four entries, in the
 * CLI's order, date 1980-01-01 00:00:00:
 *   price-summary.sealed   CMS AuthEnvelopedData (DER) of the price summary
 *   package.sealed         CMS AuthEnvelopedData (DER) of the inner package
 *   manifest.json          canonical JSON (certs/canonical.py: sorted keys, "," ":", UTF-8, no
 *                          escaping of non-ASCII):
 *        {"bidder","contentSha256":{"package","price-summary"},"createdAt","deadline","format":"ggzy-bid/1",
 *         "guarantee":{"form","reference"},"lot","parts":{"package":{"name":"package.sealed","sha256","size"},
 *         "price-summary":{"name":"price-summary.sealed","sha256","size"}},"tender"}
 *        parts.*.sha256/size: over the sealed envelopes; contentSha256: over the plaintexts;
 *        createdAt: UTC, whole seconds, "+00:00"; deadline: the tender's deadline as the server
 *        renders it (datetime.isoformat()).
 *   manifest.p7s           detached CAdES (DER) over the exact manifest.json bytes, by the
 *                          bidder's signing KeyHolder (cades.js signDetached).
 * Price summary plaintext (price_summary.py): canonical JSON {"bidder","currency","durationDays" int,
 *   "items":[{"name","price"}],"lot","salt" (32 hex, fresh),"tender","totalPrice"} (amounts with
 *   two decimals, rounded half up).
 * Inner package plaintext (sdk.py): a ZIP holding manifest.json first, then the files (deflated
 *   here when the browser can, as the CLI does); inner manifest.json = canonical JSON
 *   {"files":[{"name","sha256","size"}],"guarantee":{"form","reference"},"priceSummarySha256"}.
 * Binding (certs/envelope/binding.py, cms_attributes.py): tender, lot, bidder USCC, deadline, the
 *   SHA-256 of the inner manifest; as the SET OF Attribute (OIDs under
 *   2.25.202490350784430039733670305926131377351: .1.1 tender UTF8String, .1.2 lot, .1.3 bidder,
 *   .1.4 deadline, .1.5 manifest OCTET STRING; with key holders also .2.1 escrow
 *   SEQUENCE{threshold INTEGER, holders SEQUENCE OF OCTET STRING (cert SHA-256), shareDigests
 *   SEQUENCE OF OCTET STRING}), DER-sorted. That DER is the KARI ukm / the RSA-OAEP label.
 * Envelope (cms_env.py, cms_der.py): ContentInfo{id-ct-authEnvelopedData 1.2.840.113549.1.9.16.1.23,
 *   [0] AuthEnvelopedData{version 0, RecipientInfos SET{one RecipientInfo}, EncryptedContentInfo
 *   {id-data, aes256-GCM 2.16.840.1.101.3.4.1.46 {nonce 12 bytes, icvLen 16}, [0] IMPLICIT
 *   ciphertext}, mac OCTET STRING (16-byte tag), [2] unauthAttrs (only with key holders: .2.2
 *   shares = SEQUENCE OF ContentInfo, one envelope per holder, each with the binding plus .2.3
 *   index in its own ukm)}}; no authenticated attributes, so GCM has no associated data.
 * Key delivery (cms_recipients.py):
 *   EC (P-256/P-384): KARI v3, originator [0]{[1] OriginatorPublicKey{id-ecPublicKey (no
 *     parameters), BIT STRING ephemeral uncompressed point}}, ukm [1] = binding DER,
 *     keyEncryptionAlgorithm {dhSinglePass-stdDH-sha256kdf-scheme 1.3.132.1.11.1 (P-384:
 *     …11.2, SHA-384), aes256-wrap 2.16.840.1.101.3.4.1.45}, one RecipientEncryptedKey
 *     {IssuerAndSerialNumber, AES key wrap (RFC 3394) of the CEK under the KEK}. KEK = X9.63 KDF:
 *     Hash(Z ‖ 00000001 ‖ ECC-CMS-SharedInfo{keyInfo aes256-wrap, [0] ukm, [2] 00000100}),
 *     first 32 bytes.
 *   RSA: KTRI v0 {IssuerAndSerialNumber, RSAES-OAEP {SHA-256, MGF1-SHA-256, pSpecified = binding
 *     DER}, encrypted CEK}.
 * Escrow (threshold.py): the CEK split k of n by Shamir over GF(2^521 − 1), secret = int(01 ‖ CEK),
 *   share = index byte ‖ 66-byte value, digest SHA-256("ggzy-bid/1|share|" ‖ share).
 *
 * Opening (hall.py decrypt_bid, sdk.content_keys): the header the platform serves carries the
 * detached CMS (base64 "cms"); the page checks its binding names this tender, lot and bidder, asks
 * the KeyHolder for ECDH (deriveSharedSecret) or RSA-OAEP (decryptOaep), derives the KEK and
 * unwraps the CEK with WebCrypto AES-KW, and returns only the 32-byte CEK, which the page sends
 * (base64) as `ggzy bid decrypt` does: price summary first, then package.
 */

import { concat, fromBase64, octetString, oid, sequence, setOf, tlv, toBase64 } from "./der.js";

export { concat, fromBase64, oid, sequence, setOf, tlv };
export const base64 = toBase64;

const subtle = () => {
  if (!globalThis.crypto || !globalThis.crypto.subtle) throw new EnvelopeError("insecure", "WebCrypto is not available (HTTPS is required)");
  return globalThis.crypto.subtle;
};

/** A refusal with a stable code the page maps to its (translated) text. */
export class EnvelopeError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

// --- bytes -------------------------------------------------------------------------------------

const encoder = new TextEncoder();

export function utf8(text) { return encoder.encode(text); }

export function hex(bytes) {
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

export function fromHex(text) {
  if (!/^([0-9a-f]{2})*$/i.test(text)) throw new EnvelopeError("malformed", "not hex");
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.substr(i * 2, 2), 16);
  return out;
}

export function random(n) { return globalThis.crypto.getRandomValues(new Uint8Array(n)); }

export async function sha256(bytes) { return new Uint8Array(await subtle().digest("SHA-256", bytes)); }

// --- canonical JSON (certs/canonical.py) ------------------------------------------------------

/** Sorted keys, no whitespace, UTF-8 without escaping non-ASCII; integers and strings only. */
export function canonicalJson(value) {
  const walk = (v) => {
    if (v === null || typeof v === "boolean" || typeof v === "string") return JSON.stringify(v);
    if (typeof v === "number") {
      if (!Number.isSafeInteger(v)) throw new EnvelopeError("malformed", "floats are not allowed in signed records");
      return String(v);
    }
    if (Array.isArray(v)) return "[" + v.map(walk).join(",") + "]";
    const keys = Object.keys(v).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    return "{" + keys.map((k) => JSON.stringify(k) + ":" + walk(v[k])).join(",") + "}";
  };
  return utf8(walk(value));
}

// --- DER ---------------------------------------------------------------------------------------

export function integer(value) {
  let v = BigInt(value);
  const bytes = [];
  do { bytes.unshift(Number(v & 0xffn)); v >>= 8n; } while (v > 0n);
  if (bytes[0] & 0x80) bytes.unshift(0);
  return tlv(0x02, Uint8Array.from(bytes));
}

export const octets = octetString;
export const utf8String = (text) => tlv(0x0c, utf8(text));

/** One TLV at `offset`: {tag, start (of the content), length, end, raw (the whole TLV)}. */
export function readTlv(bytes, offset = 0, limit = bytes.length) {
  if (offset + 2 > limit) throw new EnvelopeError("malformed", "truncated DER");
  const tag = bytes[offset];
  if ((tag & 0x1f) === 0x1f) throw new EnvelopeError("malformed", "high tag numbers are not used");
  let length = bytes[offset + 1];
  let start = offset + 2;
  if (length === 0x80) throw new EnvelopeError("malformed", "indefinite-length encoding");
  if (length > 0x80) {
    const count = length & 0x7f;
    if (count > 6 || start + count > limit) throw new EnvelopeError("malformed", "DER length");
    length = 0;
    for (let i = 0; i < count; i++) length = length * 256 + bytes[start + i];
    start += count;
  }
  const end = start + length;
  if (end > limit) throw new EnvelopeError("malformed", "an element runs past its container");
  return { tag, start, length, end, raw: bytes.subarray(offset, end), content: bytes.subarray(start, end) };
}

/** The TLVs inside a constructed element. */
export function children(bytes, node) {
  const out = [];
  for (let at = node.start; at < node.end;) {
    const child = readTlv(bytes, at, node.end);
    out.push(child);
    at = child.end;
  }
  return out;
}

function oidText(node) {
  const b = node.content;
  const arcs = [];
  let v = 0n;
  for (const byte of b) {
    v = (v << 7n) | BigInt(byte & 0x7f);
    if (!(byte & 0x80)) { arcs.push(v); v = 0n; }
  }
  const first = arcs.shift();
  const a = first < 80n ? first / 40n : 2n;
  return [a, first - a * 40n, ...arcs].join(".");
}

// --- OIDs and fixed algorithm identifiers (cms_recipients.py, cms_env.py) ---------------------

const OID = {
  authEnveloped: "1.2.840.113549.1.9.16.1.23",
  data: "1.2.840.113549.1.7.1",
  aes256Gcm: "2.16.840.1.101.3.4.1.46",
  aes256Wrap: "2.16.840.1.101.3.4.1.45",
  ecPublicKey: "1.2.840.10045.2.1",
  p256: "1.2.840.10045.3.1.7",
  p384: "1.3.132.0.34",
  rsa: "1.2.840.113549.1.1.1",
  rsaOaep: "1.2.840.113549.1.1.7",
  mgf1: "1.2.840.113549.1.1.8",
  pSpecified: "1.2.840.113549.1.1.9",
  sha256: "2.16.840.1.101.3.4.2.1",
  keyUsage: "2.5.29.15",
  commonName: "2.5.4.3",
};
const ARC = "2.25.202490350784430039733670305926131377351";
export const ATTRIBUTE = {
  tender: `${ARC}.1.1`, lot: `${ARC}.1.2`, bidder: `${ARC}.1.3`, deadline: `${ARC}.1.4`,
  manifest: `${ARC}.1.5`, escrow: `${ARC}.2.1`, shares: `${ARC}.2.2`, shareIndex: `${ARC}.2.3`,
};
const CURVES = {
  [OID.p256]: { name: "P-256", bits: 256, scheme: "1.3.132.1.11.1", hash: "SHA-256" },
  [OID.p384]: { name: "P-384", bits: 384, scheme: "1.3.132.1.11.2", hash: "SHA-384" },
};
const KDF_HASH = { "1.3.132.1.11.1": "SHA-256", "1.3.132.1.11.2": "SHA-384", "1.3.132.1.11.3": "SHA-512",
  "1.3.132.1.11.0": "SHA-224", "1.3.133.16.840.63.0.2": "SHA-1" };
const WRAP_ALGORITHM = sequence(oid(OID.aes256Wrap));
const SHA256_ALGORITHM = sequence(oid(OID.sha256), Uint8Array.of(0x05, 0x00));
const TAG_BYTES = 16;

// --- certificates ------------------------------------------------------------------------------

/** What sealing needs of an X.509 certificate (DER or PEM): its issuer and serial, public key,
 * key usage, SHA-256 and common name. */
export async function readCertificate(input) {
  let der = input;
  if (typeof input === "string" || (input[0] === 0x2d)) {
    const text = typeof input === "string" ? input : new TextDecoder().decode(input);
    const match = /-----BEGIN CERTIFICATE-----([^-]+)-----END CERTIFICATE-----/.exec(text);
    if (!match) throw new EnvelopeError("certificate", "not a certificate");
    der = fromBase64(match[1].replace(/\s+/g, ""));
  }
  try {
    const cert = readTlv(der);
    const [tbs] = children(der, cert);
    const fields = children(der, tbs);
    let i = fields[0].tag === 0xa0 ? 1 : 0;
    const serial = fields[i++];
    i++; // signature algorithm
    const issuer = fields[i++];
    i++; // validity
    const subject = fields[i++];
    const spki = fields[i++];
    let keyUsage = null;
    const extensions = fields.find((f) => f.tag === 0xa3);
    if (extensions) {
      for (const ext of children(der, children(der, extensions)[0])) {
        const parts = children(der, ext);
        if (oidText(parts[0]) === OID.keyUsage) {
          const bits = readTlv(parts[parts.length - 1].content);
          keyUsage = { digitalSignature: !!(bits.content[1] & 0x80), keyEncipherment: !!(bits.content[1] & 0x20),
            keyAgreement: !!(bits.content[1] & 0x08) };
        }
      }
    }
    const algorithm = children(der, children(der, spki)[0]);
    const keyOid = oidText(algorithm[0]);
    let kind;
    let curve = null;
    if (keyOid === OID.ecPublicKey) {
      kind = "ec";
      curve = CURVES[oidText(algorithm[1])] || null;
    } else if (keyOid === OID.rsa) {
      kind = "rsa";
    } else {
      kind = "other";
    }
    let commonName = "";
    for (const rdn of children(der, subject)) {
      for (const atv of children(der, rdn)) {
        const [type, value] = children(der, atv);
        if (oidText(type) === OID.commonName) commonName = new TextDecoder().decode(value.content);
      }
    }
    return {
      der: new Uint8Array(der),
      issuerAndSerial: sequence(issuer.raw, serial.raw),
      spki: spki.raw,
      kind,
      curve,
      keyUsage,
      commonName,
      sha256: hex(await sha256(der)),
    };
  } catch (error) {
    if (error instanceof EnvelopeError && error.code === "certificate") throw error;
    throw new EnvelopeError("certificate", "not a certificate: " + error.message);
  }
}

function checkRecipient(cert) {
  if (cert.kind === "ec") {
    if (!cert.curve) throw new EnvelopeError("certificate-curve", "no CMS key agreement for this curve");
    if (cert.keyUsage && !cert.keyUsage.keyAgreement) throw new EnvelopeError("certificate-usage", "the encryption certificate lacks keyAgreement");
  } else if (cert.kind === "rsa") {
    if (cert.keyUsage && !cert.keyUsage.keyEncipherment) throw new EnvelopeError("certificate-usage", "the encryption certificate lacks keyEncipherment");
  } else {
    throw new EnvelopeError("certificate-kind", "an encryption certificate has an EC or RSA key");
  }
}

// --- key delivery (cms_recipients.py) --------------------------------------------------------

function sharedInfo(ukm) {
  return sequence(WRAP_ALGORITHM, tlv(0xa0, octets(ukm)), tlv(0xa2, octets(Uint8Array.of(0, 0, 1, 0))));
}

/** X9.63 KDF (as cryptography's X963KDF): Hash(Z ‖ counter ‖ SharedInfo), 32 bytes of AES-256 KEK. */
async function x963Kek(z, hash, ukm) {
  const info = sharedInfo(ukm);
  const out = [];
  let have = 0;
  for (let counter = 1; have < 32; counter++) {
    const block = new Uint8Array(await subtle().digest(hash, concat(z, Uint8Array.of(counter >>> 24, (counter >>> 16) & 255, (counter >>> 8) & 255, counter & 255), info)));
    out.push(block);
    have += block.length;
  }
  return subtle().importKey("raw", concat(...out).subarray(0, 32), "AES-KW", false, ["wrapKey", "unwrapKey"]);
}

async function rawAesKey(cek, usages) {
  return subtle().importKey("raw", cek, { name: "AES-GCM" }, true, usages);
}

/** The RecipientInfo (DER) delivering `cek` to `cert`, `context` (the binding DER) as ukm / OAEP label. */
export async function recipientInfo(cek, cert, context) {
  checkRecipient(cert);
  if (cert.kind === "rsa") {
    const key = await subtle().importKey("spki", cert.spki, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["encrypt"]);
    const encrypted = new Uint8Array(await subtle().encrypt({ name: "RSA-OAEP", label: context }, key, cek));
    const params = sequence(
      tlv(0xa0, SHA256_ALGORITHM),
      tlv(0xa1, sequence(oid(OID.mgf1), SHA256_ALGORITHM)),
      tlv(0xa2, sequence(oid(OID.pSpecified), octets(context))),
    );
    return sequence(integer(0), cert.issuerAndSerial, sequence(oid(OID.rsaOaep), params), octets(encrypted));
  }
  const curve = cert.curve;
  const peer = await subtle().importKey("spki", cert.spki, { name: "ECDH", namedCurve: curve.name }, false, []);
  const ephemeral = await subtle().generateKey({ name: "ECDH", namedCurve: curve.name }, true, ["deriveBits"]);
  const point = new Uint8Array(await subtle().exportKey("raw", ephemeral.publicKey));
  const z = new Uint8Array(await subtle().deriveBits({ name: "ECDH", public: peer }, ephemeral.privateKey, curve.bits));
  const kek = await x963Kek(z, curve.hash, context);
  const wrapped = new Uint8Array(await subtle().wrapKey("raw", await rawAesKey(cek, ["encrypt"]), kek, "AES-KW"));
  const originatorKey = tlv(0xa1, sequence(oid(OID.ecPublicKey)), tlv(0x03, Uint8Array.of(0), point));
  return tlv(0xa1,
    integer(3),
    tlv(0xa0, originatorKey),
    tlv(0xa1, octets(context)),
    sequence(oid(curve.scheme), WRAP_ALGORITHM),
    sequence(sequence(cert.issuerAndSerial, octets(wrapped))),
  );
}

// --- attributes (cms_attributes.py) ------------------------------------------------------------

export function attribute(dotted, value) { return sequence(oid(dotted), setOf([value])); }

/** The binding's attributes: tender, lot, bidder, deadline (the string as given), manifest digest. */
export function bindingAttributes(binding) {
  return [
    attribute(ATTRIBUTE.tender, utf8String(binding.tender)),
    attribute(ATTRIBUTE.lot, utf8String(binding.lot)),
    attribute(ATTRIBUTE.bidder, utf8String(binding.bidder)),
    attribute(ATTRIBUTE.deadline, utf8String(binding.deadline)),
    attribute(ATTRIBUTE.manifest, octets(fromHex(binding.manifestSha256))),
  ];
}

// --- Shamir over GF(2^521 − 1) (threshold.py) --------------------------------------------------

const PRIME = (1n << 521n) - 1n;
const VALUE_BYTES = 66;

function bigFrom(bytes) { return bytes.reduce((v, b) => (v << 8n) | BigInt(b), 0n); }

function bigBytes(value, size) {
  const out = new Uint8Array(size);
  for (let i = size - 1; i >= 0; i--) { out[i] = Number(value & 0xffn); value >>= 8n; }
  return out;
}

function randomBelowPrime() {
  for (;;) {
    const bytes = random(VALUE_BYTES);
    bytes[0] &= 0x01; // 521 bits
    const v = bigFrom(bytes);
    if (v < PRIME) return v;
  }
}

/** Split `secret` into `count` shares, any `threshold` of which rebuild it: [{index, bytes (67)}]. */
export function splitSecret(secret, threshold, count) {
  if (!(threshold >= 1 && threshold <= count && count <= 255)) throw new EnvelopeError("threshold", "need 1 <= k <= n <= 255");
  const coefficients = [bigFrom(concat(Uint8Array.of(1), secret))];
  for (let i = 1; i < threshold; i++) coefficients.push(randomBelowPrime());
  const shares = [];
  for (let x = 1; x <= count; x++) {
    let y = 0n;
    for (let c = coefficients.length - 1; c >= 0; c--) y = (y * BigInt(x) + coefficients[c]) % PRIME;
    shares.push({ index: x, bytes: concat(Uint8Array.of(x), bigBytes(y, VALUE_BYTES)) });
  }
  return shares;
}

async function shareDigest(share) { return sha256(concat(utf8("ggzy-bid/1|share|"), share.bytes)); }

// --- AuthEnvelopedData (cms_env.py) -------------------------------------------------------------

async function build(plaintext, cek, recipients, context, unauth) {
  const nonce = random(12);
  const key = await rawAesKey(cek, ["encrypt"]);
  const sealed = new Uint8Array(await subtle().encrypt({ name: "AES-GCM", iv: nonce, tagLength: 128 }, key, plaintext));
  const ciphertext = sealed.subarray(0, sealed.length - TAG_BYTES);
  const tag = sealed.subarray(sealed.length - TAG_BYTES);
  const contextDer = setOf(context);
  const infos = [];
  for (const r of recipients) infos.push(await recipientInfo(cek, r, contextDer));
  const gcm = sequence(oid(OID.aes256Gcm), sequence(octets(nonce), integer(TAG_BYTES)));
  const body = [
    integer(0),
    setOf(infos),
    sequence(oid(OID.data), gcm, tlv(0x80, ciphertext)),
    octets(tag),
  ];
  if (unauth.length) {
    const set = setOf(unauth);
    set[0] = 0xa2;
    body.push(set);
  }
  return sequence(oid(OID.authEnveloped), tlv(0xa0, sequence(...body)));
}

/** Seal `plaintext` for the bidder's encryption certificate and, with key holders, k of n of them;
 * as cms_env.seal. `binding` = {tender, lot, bidder, deadline (string), manifestSha256 (hex)}. */
export async function sealPart(plaintext, binding, bidder, holders = [], threshold = 0) {
  const cek = random(32);
  try {
    const context = bindingAttributes(binding);
    const unauth = [];
    if (holders.length) {
      const shares = splitSecret(cek, threshold, holders.length);
      const envelopes = [];
      const digests = [];
      for (let i = 0; i < shares.length; i++) {
        const share = shares[i];
        const shareContext = [...bindingAttributes(binding), attribute(ATTRIBUTE.shareIndex, integer(share.index))];
        envelopes.push(await build(share.bytes, random(32), [holders[i]], shareContext, []));
        digests.push(await shareDigest(share));
      }
      const escrow = sequence(
        integer(threshold),
        sequence(...holders.map((h) => octets(fromHex(h.sha256)))),
        sequence(...digests.map((d) => octets(d))),
      );
      context.push(attribute(ATTRIBUTE.escrow, escrow));
      unauth.push(attribute(ATTRIBUTE.shares, sequence(...envelopes)));
    }
    return await build(plaintext, cek, [bidder], context, unauth);
  } finally {
    cek.fill(0);
  }
}

// --- reading an envelope header and unwrapping (the opening) ------------------------------------

function parseAttributes(bytes) {
  const found = {};
  if (!bytes.length) return found;
  for (const attr of children(bytes, readTlv(bytes))) {
    const [type, values] = children(bytes, attr);
    found[oidText(type)] = children(bytes, values)[0];
  }
  return found;
}

/** The recipient infos and the binding of a (detached) AuthEnvelopedData. */
export function readEnvelope(der) {
  const info = readTlv(der);
  const [type, explicit] = children(der, info);
  if (oidText(type) !== OID.authEnveloped) throw new EnvelopeError("malformed", "not AuthEnvelopedData");
  const body = children(der, children(der, explicit)[0]);
  const recipients = body.find((n) => n.tag === 0x31);
  const infos = children(der, recipients);
  let context = new Uint8Array(0);
  const parsed = infos.map((ri) => {
    if (ri.tag === 0xa1) {
      const parts = children(der, ri);
      const originator = children(der, children(der, parts[1])[0]);
      const ukmNode = parts.find((p) => p.tag === 0xa1 && p !== parts[1]);
      const ukm = ukmNode ? readTlv(der, ukmNode.start).content : null;
      const algorithm = parts.find((p, i) => i > 1 && p.tag === 0x30);
      const keys = parts[parts.length - 1];
      const scheme = oidText(children(der, algorithm)[0]);
      const wrap = children(der, algorithm)[1].raw;
      const encryptedKeys = children(der, keys).map((rek) => children(der, rek)[1].content);
      const point = originator[1].content.subarray(1);
      if (ukm) context = ukm;
      return { kind: "kari", scheme, wrap, ukm, point, encryptedKeys };
    }
    if (ri.tag === 0x30) {
      const parts = children(der, ri);
      const algorithm = children(der, parts[2]);
      let label = new Uint8Array(0);
      if (oidText(algorithm[0]) !== OID.rsaOaep) return { kind: "unsupported" };
      for (const p of children(der, algorithm[1])) {
        if (p.tag === 0xa2) label = children(der, readTlv(der, p.start))[1].content;
        if (p.tag === 0xa0 || p.tag === 0xa1) {
          const named = children(der, readTlv(der, p.start));
          const inner = p.tag === 0xa1 ? oidText(children(der, named[1])[0]) : oidText(named[0]);
          if (inner !== OID.sha256) return { kind: "unsupported" };
        }
      }
      context = label;
      return { kind: "ktri", label, encryptedKey: parts[3].content };
    }
    return { kind: "unsupported" };
  });
  const values = { ...(context.length ? parseAttributes(context) : {}) };
  const unauth = body.find((n) => n.tag === 0xa2);
  if (unauth) {
    const copy = new Uint8Array(unauth.raw);
    copy[0] = 0x31;
    for (const [k, v] of Object.entries(parseAttributes(copy))) if (!(k in values)) values[k] = v;
  }
  const text = (k) => (values[k] ? new TextDecoder().decode(values[k].content) : null);
  const binding = {
    tender: text(ATTRIBUTE.tender),
    lot: text(ATTRIBUTE.lot),
    bidder: text(ATTRIBUTE.bidder),
    deadline: text(ATTRIBUTE.deadline),
    manifestSha256: values[ATTRIBUTE.manifest] ? hex(values[ATTRIBUTE.manifest].content) : null,
  };
  return { recipients: parsed, binding };
}

/** A key holder's failure that says nothing about the key (the local agent's user said no, the agent
 * is gone, the USB key was pulled out): the page must say so, not "this key does not open the bid". */
const AGENT_FAILURES = new Set(["declined", "unreachable", "token-removed"]);
function notAboutTheKey(error) {
  return Boolean(error && error.name === "AgentError" && AGENT_FAILURES.has(error.code));
}

/** The content key of one part's envelope header (as GET …/envelopes serves it), unwrapped with
 * `holder` (KeyHolder) after checking the binding names `expected` {tender, lot, bidder};
 * `purpose` is the page's words the local agent shows the user with its question. An agent's
 * refusal (`AgentError` "declined"), absence or removed token is rethrown as such. */
export async function unwrapContentKey(header, holder, expected, { purpose } = {}) {
  if (!header || header.version !== 2 || typeof header.cms !== "string") {
    throw new EnvelopeError("unsupported-envelope", "only CMS envelopes open in the browser");
  }
  const envelope = readEnvelope(fromBase64(header.cms));
  for (const key of ["tender", "lot", "bidder"]) {
    if (envelope.binding[key] !== expected[key]) throw new EnvelopeError("binding-mismatch", `the envelope is bound to another ${key}`);
  }
  for (const r of envelope.recipients) {
    if (r.kind === "kari" && holder.deriveSharedSecret && KDF_HASH[r.scheme]) {
      let z;
      try {
        z = await holder.deriveSharedSecret(r.point.slice(), purpose); // a copy: the holder may be the agent
      } catch (error) {
        if (notAboutTheKey(error)) throw error;
        throw new EnvelopeError("wrong-key", "ECDH failed: " + (error && error.message));
      }
      const kek = await x963Kek(z, KDF_HASH[r.scheme], r.ukm || new Uint8Array(0));
      for (const wrapped of r.encryptedKeys) {
        try {
          const key = await subtle().unwrapKey("raw", wrapped, kek, "AES-KW", { name: "AES-GCM" }, true, ["decrypt"]);
          const cek = new Uint8Array(await subtle().exportKey("raw", key));
          if (cek.length === 32) return cek;
        } catch (error) {
          // another key: try the next
        }
      }
    } else if (r.kind === "ktri" && holder.decryptOaep) {
      try {
        const cek = await holder.decryptOaep(r.encryptedKey.slice(), r.label.slice(), purpose);
        if (cek.length === 32) return cek;
      } catch (error) {
        if (notAboutTheKey(error)) throw error;
        // another key
      }
    }
  }
  throw new EnvelopeError("wrong-key", "the envelope does not open with this key");
}

// --- ZIP (STORED container; inner package) ---------------------------------------------------

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

function crc32(bytes) {
  let c = 0xffffffff;
  for (let i = 0; i < bytes.length; i++) c = CRC_TABLE[(c ^ bytes[i]) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
}

function le(size, value) {
  const out = new Uint8Array(size);
  for (let i = 0; i < size; i++) out[i] = Number((BigInt(value) >> BigInt(8 * i)) & 0xffn);
  return out;
}

async function deflateRaw(bytes) {
  if (typeof CompressionStream === "undefined") return null;
  const stream = new Blob([bytes]).stream().pipeThrough(new CompressionStream("deflate-raw"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

/** A ZIP of `entries` [{name, data}]: STORED (method 0) or deflated (8) where `deflate` and smaller;
 * dates 1980-01-01 00:00, UTF-8 names flagged (bit 11), no data descriptors, no ZIP64 (< 4 GiB). */
export async function zip(entries, { deflate = false } = {}) {
  const chunks = [];
  const central = [];
  let offset = 0;
  for (const entry of entries) {
    const name = utf8(entry.name);
    const flags = /^[\x20-\x7e]*$/.test(entry.name) ? 0 : 0x800;
    const crc = crc32(entry.data);
    let method = 0;
    let stored = entry.data;
    if (deflate) {
      const packed = await deflateRaw(entry.data);
      if (packed && packed.length < entry.data.length) { method = 8; stored = packed; }
    }
    if (offset + stored.length > 0xfffffff0) throw new EnvelopeError("too-large", "the container exceeds 4 GiB");
    const common = concat(le(2, 20), le(2, flags), le(2, method), le(2, 0), le(2, 0x21), le(4, crc),
      le(4, stored.length), le(4, entry.data.length), le(2, name.length), le(2, 0));
    const local = concat(le(4, 0x04034b50), common, name);
    central.push(concat(le(4, 0x02014b50), le(2, 0x0314), common, le(2, 0), le(2, 0), le(2, 0), le(4, 0x81800000),
      le(4, offset), name));
    chunks.push(local, stored);
    offset += local.length + stored.length;
  }
  const directory = concat(...central);
  const end = concat(le(4, 0x06054b50), le(2, 0), le(2, 0), le(2, entries.length), le(2, entries.length),
    le(4, directory.length), le(4, offset), le(2, 0));
  return concat(...chunks, directory, end);
}

// --- the price summary (price_summary.py) -------------------------------------------------------

/** An amount as the CLI writes it: a non-negative decimal, two places, rounded half up. */
export function money(value) {
  const text = String(value).trim().replace(/,/g, "");
  const match = /^(\d+)(?:\.(\d*))?$/.exec(text);
  if (!match) throw new EnvelopeError("amount", `not an amount: ${value}`);
  const whole = BigInt(match[1]);
  const fraction = (match[2] || "").padEnd(3, "0");
  let cents = whole * 100n + BigInt(fraction.slice(0, 2));
  if (Number(fraction[2]) >= 5) cents += 1n;
  const s = cents.toString().padStart(3, "0");
  return `${s.slice(0, -2)}.${s.slice(-2)}`;
}

export function priceSummary({ tender, lot, bidder, totalPrice, durationDays, items = [], currency = "CNY" }) {
  if (!Number.isSafeInteger(durationDays) || durationDays < 0) throw new EnvelopeError("duration", "the duration is a whole number of days");
  return {
    tender, lot, bidder, currency,
    totalPrice: money(totalPrice),
    durationDays,
    items: items.map(([name, price]) => ({ name, price: money(price) })),
    salt: hex(random(16)),
  };
}

function checkGuarantee(guarantee) {
  const form = guarantee && guarantee.form;
  if (form !== "cash" && form !== "guarantee") throw new EnvelopeError("guarantee", "the guarantee form is cash or guarantee");
  const reference = String(guarantee.reference || "");
  if (form === "guarantee" && !reference) throw new EnvelopeError("guarantee-reference", "a guarantee needs its reference");
  return { form, reference };
}

// --- the container (sdk.build_container) -------------------------------------------------------

export const PARTS = { "price-summary": "price-summary.sealed", package: "package.sealed" };
/** The package file of the structured response (`bidding.client.format.RESPONSE_FILE`). */
export const RESPONSE_FILE = "ggzy-response.json";

function createdAt(now) {
  return now.toISOString().replace(/\.\d{3}Z$/, "+00:00");
}

/**
 * Build the signed ggzy-bid/1 container; returns {container (Uint8Array), manifest (bytes),
 * sha256, binding, partSha256, contentSha256}.
 * options: tender, lot, bidder (USCC), deadline (the server's ISO string), files [{name, data}],
 * price {totalPrice, durationDays, items, currency}, guarantee {form, reference},
 * signer (KeyHolder), encryption (certificate DER/PEM or readCertificate result),
 * keyHolders [certificates], threshold, sign (data, holder) => CAdES DER (cades.js signDetached),
 * response (bytes of the structured response, optional: packed last as RESPONSE_FILE, as
 * `ggzy bid seal --response` packs it; its rules are checked by the caller, e.g. the bidding
 * page's response_check.js), now (Date, for tests).
 */
export async function buildContainer(options) {
  const { tender, lot, bidder, deadline, signer, sign } = options;
  if (!/[+-]\d\d:\d\d$|Z$/.test(deadline || "")) throw new EnvelopeError("deadline", "the deadline must carry its time zone");
  const guarantee = checkGuarantee(options.guarantee);
  const encryption = options.encryption.sha256 ? options.encryption : await readCertificate(options.encryption);
  checkRecipient(encryption);
  const holders = [];
  for (const h of options.keyHolders || []) holders.push(h.sha256 ? h : await readCertificate(h));
  const threshold = holders.length ? options.threshold : 0;
  if (holders.length && !(threshold >= 1 && threshold <= holders.length)) throw new EnvelopeError("threshold", "the threshold must be between 1 and the key holders");
  if (!options.files || !options.files.length) throw new EnvelopeError("no-files", "a bid package needs at least one file");
  if (options.files.some((f) => f.name === RESPONSE_FILE)) throw new EnvelopeError("reserved-file", `${RESPONSE_FILE} is reserved for the structured response`);
  // The SDK's order: the bidder's files, then the response (one more package file, listed alike).
  const files = options.response ? [...options.files, { name: RESPONSE_FILE, data: options.response }] : options.files;
  const seen = new Set();
  const entries = [];
  for (const file of files) {
    if (file.name === "manifest.json" || seen.has(file.name)) throw new EnvelopeError("duplicate-file", `two package files would be named ${file.name}`);
    seen.add(file.name);
    entries.push({ name: file.name, size: file.data.length, sha256: hex(await sha256(file.data)) });
  }
  const summary = priceSummary({ tender, lot, bidder, ...options.price });
  const pricePlain = canonicalJson(summary);
  const priceSha = hex(await sha256(pricePlain));
  const innerManifest = canonicalJson({ files: entries, priceSummarySha256: priceSha, guarantee });
  const binding = { tender, lot, bidder, deadline, manifestSha256: hex(await sha256(innerManifest)) };
  const sealedPrice = await sealPart(pricePlain, binding, encryption, holders, threshold);
  let packagePlain = await zip([{ name: "manifest.json", data: innerManifest }, ...files], { deflate: true });
  const packageSha = hex(await sha256(packagePlain));
  const sealedPackage = await sealPart(packagePlain, binding, encryption, holders, threshold);
  packagePlain.fill(0);
  packagePlain = null;
  pricePlain.fill(0);
  const partSha256 = { "price-summary": hex(await sha256(sealedPrice)), package: hex(await sha256(sealedPackage)) };
  const contentSha256 = { "price-summary": priceSha, package: packageSha };
  const manifest = canonicalJson({
    format: "ggzy-bid/1",
    tender, lot, bidder, deadline,
    createdAt: createdAt(options.now || new Date()),
    guarantee,
    parts: {
      "price-summary": { name: PARTS["price-summary"], size: sealedPrice.length, sha256: partSha256["price-summary"] },
      package: { name: PARTS.package, size: sealedPackage.length, sha256: partSha256.package },
    },
    contentSha256,
  });
  const signature = new Uint8Array(await sign(manifest, signer));
  const container = await zip([
    { name: PARTS["price-summary"], data: sealedPrice },
    { name: PARTS.package, data: sealedPackage },
    { name: "manifest.json", data: manifest },
    { name: "manifest.p7s", data: signature },
  ]);
  return { container, manifest, sha256: hex(await sha256(container)), binding, partSha256, contentSha256 };
}
