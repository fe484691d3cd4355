/* Tests only: a KeyHolder (trading/kernel/web/static/js/pki/keyholder.js) made from a PKCS#8 key
 * and a certificate, straight into WebCrypto, so envelope.js can be tested before (and apart from)
 * pkcs12.js. Never served by the platform.
 */
function fromBase64(text) {
  const raw = atob(text);
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

export async function testKeyHolder({ pkcs8, certificate, kind, curve }) {
  const subtle = crypto.subtle;
  const der = fromBase64(pkcs8);
  if (kind === "ec") {
    const key = await subtle.importKey("pkcs8", der, { name: "ECDH", namedCurve: curve }, false, ["deriveBits"]);
    const bits = curve === "P-384" ? 384 : 256;
    return {
      kind: "pkcs12", label: "test", certificate: fromBase64(certificate), chain: [],
      async deriveSharedSecret(point) {
        const peer = await subtle.importKey("raw", point, { name: "ECDH", namedCurve: curve }, false, []);
        return new Uint8Array(await subtle.deriveBits({ name: "ECDH", public: peer }, key, bits));
      },
    };
  }
  const key = await subtle.importKey("pkcs8", der, { name: "RSA-OAEP", hash: "SHA-256" }, false, ["decrypt"]);
  return {
    kind: "pkcs12", label: "test", certificate: fromBase64(certificate), chain: [],
    async decryptOaep(encrypted, label) {
      return new Uint8Array(await subtle.decrypt({ name: "RSA-OAEP", label }, key, encrypted));
    },
  };
}
