/* Open a PKCS#12 (.p12/.pfx) file in the page: a KeyHolder (see keyholder.js) whose private key is a
 * non-extractable WebCrypto key.
 *
 *   import { openPkcs12 } from "/static/js/pki/pkcs12.js";
 *   const holder = await openPkcs12(new Uint8Array(await file.arrayBuffer()), password);
 *
 * Supported: PBES2 (PBKDF2 with HMAC-SHA-1/256/384/512, AES-128/192/256-CBC) for the key and the
 * certificate bags, as `cryptography`'s BestAvailableEncryption and OpenSSL 3 write them, and the
 * PKCS#12 MAC (RFC 7292 appendix B key derivation) with SHA-1/256/384/512. Legacy RC2/3DES files
 * are refused with `legacy-encryption` (WebCrypto has neither cipher; re-export the file with AES).
 * Keys: EC P-256 and P-384 (ECDSA signatures, ECDH for CMS key agreement) and RSA (RSASSA-PSS
 * signatures with SHA-256 and a 32-byte salt, as the platform's own signer makes them; RSA-OAEP for
 * CMS key transport).
 *
 * The decrypted PKCS#8 bytes are imported as non-extractable keys and then overwritten; nothing
 * here stores or sends anything. Errors are `PkiError`s whose `code` the page translates:
 * `malformed`, `bad-password`, `legacy-encryption`, `no-key`, `unsupported-key`, `key-mismatch`.
 */
import {
  OID,
  PkiError,
  certificateInfo,
  children,
  concat,
  ecdsaRawToDer,
  encoded,
  intOf,
  isContext,
  octets,
  oidOf,
  parse,
} from "./der.js";

const HASHES = {
  [OID.sha1]: { name: "SHA-1", size: 20, block: 64 },
  [OID.sha256]: { name: "SHA-256", size: 32, block: 64 },
  [OID.sha384]: { name: "SHA-384", size: 48, block: 128 },
  [OID.sha512]: { name: "SHA-512", size: 64, block: 128 },
};
const PRFS = {
  [OID.hmacSha1]: "SHA-1",
  [OID.hmacSha256]: "SHA-256",
  [OID.hmacSha384]: "SHA-384",
  [OID.hmacSha512]: "SHA-512",
};
const AES_KEY_BITS = { [OID.aes128Cbc]: 128, [OID.aes192Cbc]: 192, [OID.aes256Cbc]: 256 };

const subtle = () => {
  if (!globalThis.crypto || !globalThis.crypto.subtle) {
    // WebCrypto exists only in secure contexts (https or localhost)
    throw new PkiError("no-webcrypto", "WebCrypto is not available (the page must be served over https)");
  }
  return globalThis.crypto.subtle;
};

/** RFC 7292 appendix B.2: the PKCS#12 key derivation (used here for the integrity MAC key). */
async function pkcs12Kdf(hash, password, salt, id, iterations, length) {
  const { name, size: u, block: v } = hash;
  const bmp = new Uint8Array(password.length * 2 + 2); // BMPString, big-endian, with the 0x0000 terminator
  for (let i = 0; i < password.length; i += 1) {
    bmp[2 * i] = password.charCodeAt(i) >> 8;
    bmp[2 * i + 1] = password.charCodeAt(i) & 0xff;
  }
  const fill = (bytes) => {
    const out = new Uint8Array(v * Math.ceil(bytes.byteLength / v));
    for (let i = 0; i < out.byteLength; i += 1) {
      out[i] = bytes[i % bytes.byteLength];
    }
    return out;
  };
  const I = concat(fill(salt), fill(bmp));
  const D = new Uint8Array(v).fill(id);
  const result = [];
  for (let produced = 0; produced < length; produced += u) {
    let A = new Uint8Array(await subtle().digest(name, concat(D, I)));
    for (let r = 1; r < iterations; r += 1) {
      A = new Uint8Array(await subtle().digest(name, A));
    }
    result.push(A);
    const B = new Uint8Array(v);
    for (let i = 0; i < v; i += 1) {
      B[i] = A[i % u];
    }
    for (let j = 0; j < I.byteLength; j += v) {
      let carry = 1;
      for (let k = v - 1; k >= 0; k -= 1) {
        const sum = I[j + k] + B[k] + carry;
        I[j + k] = sum & 0xff;
        carry = sum >> 8;
      }
    }
  }
  bmp.fill(0);
  return concat(...result).subarray(0, length);
}

async function checkMac(macData, content, password) {
  const [digestInfo, saltNode, iterationsNode] = children(macData);
  const [algorithm, expectedNode] = children(digestInfo);
  const hash = HASHES[oidOf(children(algorithm)[0])];
  if (!hash) {
    throw new PkiError("legacy-encryption", "the file's integrity MAC uses an unsupported hash");
  }
  const iterations = iterationsNode ? intOf(iterationsNode) : 1;
  const keyBytes = await pkcs12Kdf(hash, password, octets(saltNode), 3, iterations, hash.size);
  const key = await subtle().importKey("raw", keyBytes, { name: "HMAC", hash: hash.name }, false, ["verify"]);
  keyBytes.fill(0);
  const ok = await subtle().verify("HMAC", key, octets(expectedNode), content);
  if (!ok) {
    throw new PkiError("bad-password", "wrong password (the file's integrity check failed)");
  }
}

/** Decrypt PBES2-protected bytes (RFC 8018) with the password's UTF-8 octets. */
async function decryptPbes2(algorithmIdentifier, ciphertext, password) {
  const [schemeOid, params] = children(algorithmIdentifier);
  if (oidOf(schemeOid) !== OID.pbes2) {
    throw new PkiError("legacy-encryption", `encryption ${oidOf(schemeOid)} is not supported (re-export with AES)`);
  }
  const [kdf, scheme] = children(params);
  const [kdfOid, kdfParams] = children(kdf);
  if (oidOf(kdfOid) !== OID.pbkdf2) {
    throw new PkiError("legacy-encryption", `key derivation ${oidOf(kdfOid)} is not supported`);
  }
  const kdfFields = children(kdfParams);
  const salt = octets(kdfFields[0]);
  const iterations = intOf(kdfFields[1]);
  let prf = "SHA-1"; // the DEFAULT of PBKDF2-params
  for (const field of kdfFields.slice(2)) {
    if (field.idBlock.tagNumber === 16 && field.idBlock.tagClass === 1) {
      prf = PRFS[oidOf(children(field)[0])];
      if (!prf) {
        throw new PkiError("legacy-encryption", "unsupported PBKDF2 pseudo-random function");
      }
    }
  }
  const [cipherOid, ivNode] = children(scheme);
  const bits = AES_KEY_BITS[oidOf(cipherOid)];
  if (!bits) {
    throw new PkiError("legacy-encryption", `cipher ${oidOf(cipherOid)} is not supported (re-export with AES)`);
  }
  const passwordKey = await subtle().importKey("raw", new TextEncoder().encode(password), "PBKDF2", false, [
    "deriveKey",
  ]);
  const key = await subtle().deriveKey(
    { name: "PBKDF2", salt, iterations, hash: prf },
    passwordKey,
    { name: "AES-CBC", length: bits },
    false,
    ["decrypt"],
  );
  try {
    return new Uint8Array(await subtle().decrypt({ name: "AES-CBC", iv: octets(ivNode) }, key, ciphertext));
  } catch {
    throw new PkiError("bad-password", "wrong password (the key cannot be decrypted)");
  }
}

function attributesOf(bag) {
  const found = {};
  const set = bag[2];
  if (!set) {
    return found;
  }
  for (const attribute of children(set)) {
    const [type, values] = children(attribute);
    const first = children(values)[0];
    if (first) {
      found[oidOf(type)] = first;
    }
  }
  return found;
}

function sameBytes(a, b) {
  return a && b && a.byteLength === b.byteLength && a.every((x, i) => x === b[i]);
}

/** Walk the bags of the file: the (encrypted) keys and the certificates, with their local key ids. */
async function readBags(pfxBytes, password) {
  const pfx = children(parse(pfxBytes, "PKCS#12 file"));
  if (pfx.length < 2 || intOf(pfx[0]) !== 3) {
    throw new PkiError("malformed", "not a PKCS#12 (version 3) file");
  }
  const authSafe = children(pfx[1]);
  if (oidOf(authSafe[0]) !== OID.data) {
    throw new PkiError("malformed", "public-key integrity mode is not supported");
  }
  const content = octets(children(authSafe[1])[0]);
  if (pfx[2]) {
    await checkMac(pfx[2], content, password);
  }
  const keys = [];
  const certificates = [];
  for (const contentInfo of children(parse(content, "PKCS#12 contents"))) {
    const [typeNode, wrapped] = children(contentInfo);
    const type = oidOf(typeNode);
    let safeContents;
    if (type === OID.data) {
      safeContents = octets(children(wrapped)[0]);
    } else if (type === OID.encryptedData) {
      const [, encryptedContentInfo] = children(children(wrapped)[0]);
      const [, algorithm, encryptedContent] = children(encryptedContentInfo);
      if (!encryptedContent || !isContext(encryptedContent, 0)) {
        throw new PkiError("malformed", "encrypted certificate bags without content");
      }
      safeContents = await decryptPbes2(algorithm, octets(encryptedContent), password);
    } else {
      continue; // enveloped (public-key privacy mode) bags are not supported and rarely used
    }
    for (const bagNode of children(parse(safeContents, "PKCS#12 bags"))) {
      const bag = children(bagNode);
      const bagId = oidOf(bag[0]);
      const value = children(bag[1])[0];
      const attributes = attributesOf(bag);
      const localKeyId = attributes[OID.localKeyId] ? octets(attributes[OID.localKeyId]) : null;
      if (bagId === OID.shroudedKeyBag) {
        const [algorithm, encrypted] = children(value);
        keys.push({ pkcs8: await decryptPbes2(algorithm, octets(encrypted), password), localKeyId });
      } else if (bagId === OID.keyBag) {
        keys.push({ pkcs8: encoded(value), localKeyId });
      } else if (bagId === OID.certBag) {
        const [certType, certValue] = children(value);
        if (oidOf(certType) === OID.x509Certificate) {
          certificates.push({ der: octets(children(certValue)[0]), localKeyId });
        }
      }
    }
    if (type === OID.encryptedData) {
      safeContents.fill(0);
    }
  }
  return { keys, certificates };
}

/** Import the PKCS#8 key for every use the holder offers; `pkcs8` is overwritten afterwards. */
async function importKeys(pkcs8, info) {
  try {
    if (info.kind === "ec") {
      return {
        sign: await subtle().importKey("pkcs8", pkcs8, { name: "ECDSA", namedCurve: info.curve }, false, ["sign"]),
        derive: await subtle().importKey("pkcs8", pkcs8, { name: "ECDH", namedCurve: info.curve }, false, [
          "deriveBits",
        ]),
      };
    }
    return {
      sign: await subtle().importKey("pkcs8", pkcs8, { name: "RSA-PSS", hash: "SHA-256" }, false, ["sign"]),
      decrypt: await subtle().importKey("pkcs8", pkcs8, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]),
    };
  } catch (error) {
    throw new PkiError("unsupported-key", `the private key cannot be used: ${error.message}`);
  } finally {
    pkcs8.fill(0);
  }
}

function signatureParams(info) {
  return info.kind === "ec" ? { name: "ECDSA", hash: info.hash } : { name: "RSA-PSS", saltLength: 32 };
}

/** Whether the imported signing key belongs to the certificate: sign a probe and verify it. */
async function keyMatches(keys, info) {
  const params = signatureParams(info);
  const importParams =
    info.kind === "ec" ? { name: "ECDSA", namedCurve: info.curve } : { name: "RSA-PSS", hash: "SHA-256" };
  const publicKey = await subtle().importKey("spki", info.spki, importParams, false, ["verify"]);
  const probe = crypto.getRandomValues(new Uint8Array(32));
  const signature = await subtle().sign(params, keys.sign, probe);
  return subtle().verify(params, publicKey, signature, probe);
}

/** The issuers of `leaf` among `others`, nearest first, then any certificates left over. */
function orderChain(leaf, others) {
  const chain = [];
  const pool = [...others];
  let current = leaf;
  while (pool.length) {
    const index = pool.findIndex((candidate) => sameBytes(candidate.subject, current.issuer));
    if (index < 0 || sameBytes(current.subject, current.issuer)) {
      break;
    }
    current = pool.splice(index, 1)[0];
    chain.push(current);
  }
  return [...chain, ...pool].map((c) => c.der);
}

function makeHolder(info, keys, chain) {
  const rsaOnly = () => Promise.reject(new PkiError("unsupported-operation", "RSA-OAEP needs an RSA key"));
  const ecOnly = () => Promise.reject(new PkiError("unsupported-operation", "key agreement needs an EC key"));
  const pointBytes = { "P-256": 65, "P-384": 97 }[info.curve];
  return Object.freeze({
    kind: "pkcs12",
    label: info.commonName,
    certificate: info.der,
    chain: Object.freeze(chain),
    async sign(data) {
      const raw = new Uint8Array(await subtle().sign(signatureParams(info), keys.sign, data));
      return info.kind === "ec" ? ecdsaRawToDer(raw) : raw;
    },
    deriveSharedSecret:
      info.kind === "ec"
        ? async (ephemeralPoint) => {
            if (ephemeralPoint.byteLength !== pointBytes || ephemeralPoint[0] !== 0x04) {
              throw new PkiError("malformed", "the originator key is not an uncompressed point on the certificate's curve");
            }
            const publicKey = await subtle().importKey(
              "raw",
              ephemeralPoint,
              { name: "ECDH", namedCurve: info.curve },
              false,
              [],
            );
            const bits = info.curve === "P-384" ? 384 : 256;
            return new Uint8Array(await subtle().deriveBits({ name: "ECDH", public: publicKey }, keys.derive, bits));
          }
        : ecOnly,
    decryptOaep:
      info.kind === "rsa"
        ? async (encryptedKey, label) =>
            new Uint8Array(await subtle().decrypt({ name: "RSA-OAEP", label }, keys.decrypt, encryptedKey))
        : rsaOnly,
  });
}

/**
 * Open `bytes` (a PKCS#12 file) with `password`: a KeyHolder for the certificate that has the
 * file's private key, with the file's other certificates as its chain (nearest issuer first).
 * @param {Uint8Array} bytes
 * @param {string} password
 * @returns {Promise<import("./keyholder.js").KeyHolder>}
 */
export async function openPkcs12(bytes, password) {
  const { keys, certificates } = await readBags(bytes, password);
  if (!keys.length) {
    throw new PkiError("no-key", "the file holds no private key");
  }
  const infos = certificates.map((c) => ({ ...certificateInfo(c.der), localKeyId: c.localKeyId }));
  try {
    for (const key of keys) {
      const byId = infos.filter((i) => key.localKeyId && sameBytes(i.localKeyId, key.localKeyId));
      for (const info of byId.length ? byId : infos) {
        const imported = await importKeys(key.pkcs8.slice(), info);
        if (await keyMatches(imported, info)) {
          const others = infos.filter((i) => i !== info);
          return makeHolder(info, imported, orderChain(info, others));
        }
      }
    }
  } finally {
    for (const key of keys) {
      key.pkcs8.fill(0);
    }
  }
  throw new PkiError("key-mismatch", "no certificate in the file matches its private key");
}
