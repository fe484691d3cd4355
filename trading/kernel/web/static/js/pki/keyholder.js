/* The one interface page code uses for a user's private key, wherever the key lives.
 *
 * A key holder is made by `pkcs12.js` (a PKCS#12 file opened in the page: the key is a
 * non-extractable WebCrypto key and never leaves the page's memory) or by `agent.js` (the local
 * certificate agent `ggzy agent`, which keeps the key in a USB key or HSM over PKCS#11 and asks
 * the user to confirm each operation). Everything above this interface (CAdES signatures in
 * `cades.js`, sealing and unwrapping in `envelope.js`) is written once and works with either, so
 * the server receives the same standard CMS containers and signatures the CLI makes.
 *
 * Only raw private-key operations cross this interface; hashing, ASN.1, key derivation and key
 * unwrapping happen in the page.
 *
 * The other modules here: `der.js` (DER reading through the vendored asn1js, exact DER writing,
 * `certificateInfo`), `page.js` (the page's pickers: a holder chosen once per page and kept in
 * memory only; `useHolder(holder, name)` is the hook for a holder from the agent), `bind.js`
 * (/account binding and the certificate-login answer), `login.js`, `sign-file.js` (a document's
 * .p7s), `sign-form.js` (forms signing a statement the platform gives: the hall, withdrawal,
 * objections to documents). See
 * docs/browser-certificates.md.
 *
 * @typedef {Object} KeyHolder
 * @property {"pkcs12"|"agent"} kind
 * @property {string} label                 a human name for the key (the certificate's subject CN)
 * @property {Uint8Array} certificate       DER of the end-entity certificate
 * @property {Uint8Array[]} chain           DER of the issuing certificates the holder knows (may be empty)
 * @property {(data: Uint8Array) => Promise<Uint8Array>} sign
 *     Sign `data` (for CAdES: the DER of the signed attributes) with the certificate's key and the
 *     hash the platform's own signer pairs with it: SHA-256 for P-256 and RSA, SHA-384 for P-384
 *     (`certs/providers/pyca.py`; the server refuses other pairings). Returns the value CMS carries
 *     in SignerInfo.signature: for EC keys the DER Ecdsa-Sig-Value (not WebCrypto's raw r‖s), for
 *     RSA keys RSASSA-PSS with MGF1-SHA-256 and a 32-byte salt (as the CLI signs; PKCS#11
 *     CKM_SHA256_RSA_PKCS_PSS). `der.js` `certificateInfo(cert).hash` names the hash.
 * @property {(ephemeralPoint: Uint8Array) => Promise<Uint8Array>} deriveSharedSecret
 *     EC keys only (CMS KeyAgreeRecipientInfo): ECDH between the certificate's key and the
 *     originator's ephemeral public key (uncompressed X9.62 point); returns the raw shared secret Z.
 * @property {(encryptedKey: Uint8Array, label: Uint8Array) => Promise<Uint8Array>} decryptOaep
 *     RSA keys only (CMS KeyTransRecipientInfo): RSA-OAEP with SHA-256/MGF1-SHA-256 and `label`.
 */
export {};
