/* Decrypting one's own bid in the opening hall, in this browser (form[data-decrypt-bid] on the
 * bidder's seat), as `ggzy bid decrypt` does on the bidder's computer:
 *
 * 1. the key holder of the page's "encrypt" certificate picker (/static/js/pki/page.js: the
 *    encryption certificate's PKCS#12 opened in the page as a non-extractable WebCrypto key, or
 *    the local certificate agent);
 * 2. the page fetches its bids' envelope headers (data-envelopes-url, the API's `envelopes`);
 * 3. for each lot, price summary first, then package, the content key is unwrapped here
 *    (/static/js/pki/envelope.js: ECDH through the key holder, the CMS X9.63 KDF and AES key
 *    unwrap, or RSA-OAEP through the key holder), after checking the envelope is bound to this
 *    tender, lot and bidder;
 * 4. only that 32-byte content key is sent (data-decrypt-url), and the platform opens the part.
 *
 * The private key, the PKCS#12 file and its password never leave the page. Refusals are shown in
 * the reader's language next to the certificate: the platform's own sentence (`text`) or the
 * template's data-text-*. The hall's live view (opening.js) then shows the decryption and, from
 * 唱标, the price table.
 */
import { base64, unwrapContentKey } from "/static/js/pki/envelope.js";
import { csrfToken, currentHolder, errorMessage } from "/static/js/pki/page.js";

const PARTS = ["price-summary", "package"];

class Refusal extends Error {}

function wire(form) {
  const status = form.querySelector("[data-decrypt-status]");
  const error = form.querySelector("[data-decrypt-error]");
  const button = form.querySelector("button[type=submit]");
  const text = (name) => form.getAttribute(`data-text-${name}`) || name;
  const say = (message) => { status.textContent = message; };
  const refuse = (message) => { error.textContent = message; error.hidden = false; };

  async function answer(response) {
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Refusal(`${text("refused")} ${body.text || body.message || response.status}`);
    return body;
  }

  async function send(lot, part, contentKey) {
    return answer(await fetch(form.dataset.decryptUrl, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "x-csrftoken": csrfToken(form) },
      body: JSON.stringify({ lot, part, contentKey }),
    }));
  }

  async function decrypt(holder) {
    const envelopes = await answer(await fetch(form.dataset.envelopesUrl, { credentials: "same-origin", cache: "no-store" }));
    if (!envelopes.length) throw new Refusal(text("no-bid"));
    for (const envelope of envelopes) {
      const expected = { tender: form.dataset.tender, lot: envelope.lot, bidder: form.dataset.bidder };
      for (const part of PARTS) {
        const entry = envelope.parts[part];
        if (!entry || entry.status === "opened") continue;
        const cek = await unwrapContentKey(entry.header, holder, expected, { purpose: text("purpose") });
        const encoded = base64(cek);
        cek.fill(0);
        await send(envelope.lot, part, encoded);
      }
    }
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    error.hidden = true;
    error.textContent = "";
    say("");
    if (!window.crypto || !window.crypto.subtle) { refuse(text("insecure")); return; }
    button.disabled = true;
    try {
      let holder;
      try {
        holder = await currentHolder(form.dataset.pkiHolder || "encrypt");
      } catch (failure) {
        return; // the picker's status line, next to the file and password, says why
      }
      say(text("decrypting"));
      await decrypt(holder);
      say(text("done"));
      form.dataset.decrypted = "true";
    } catch (failure) {
      say("");
      const code = failure && failure.code;
      if (failure instanceof Refusal) refuse(failure.message);
      // the local agent: declined at its prompt, not running, the USB key pulled out (the picker's words)
      else if (failure && failure.name === "AgentError") refuse(errorMessage(failure));
      else if (code === "wrong-key") refuse(text("wrong-key"));
      else if (code === "binding-mismatch") refuse(text("binding-mismatch"));
      else if (code === "unsupported-envelope") refuse(text("unsupported"));
      else refuse(`${text("failed")} ${failure && failure.message ? failure.message : String(failure)}`);
    } finally {
      button.disabled = false;
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-decrypt-bid]")) {
  wire(form);
}
