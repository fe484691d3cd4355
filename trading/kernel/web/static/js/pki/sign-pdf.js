/* Sign a PDF the platform holds, in the page: an incremental PAdES signature by the user's own key
 * (the evaluation report, award notices, the contract). The server side is
 * `trading/parties/pdf_signing.py`; a page wires it with a form:
 *
 *   <form data-pki-sign-pdf method="post" action="<finish URL>" data-prepare-url="<prepare URL>"
 *         data-pki-holder="sign" data-msg-preparing="…" data-msg-sending="…">
 *     <input type="hidden" name="_csrf_token" …>
 *     <input type="hidden" name="prepared">   <input type="hidden" name="signature">
 *     <button type="button" data-pki-sign-pdf-button>…</button>
 *     <p data-pki-sign-pdf-status role="status"></p>
 *   </form>
 *
 * The button takes the page's KeyHolder (`page.js`, picker `data-pki-holder`, default "sign"),
 * POSTs its certificate (`certificate`, DER base64, with the CSRF header) to `data-prepare-url`,
 * which answers `{id, toSign, digestAlgorithm, expiresAt}` (the bytes the PDF's /ByteRange covers,
 * base64) or `{errors: [{field, rule, message}]}`; it signs `toSign` with `cades.js`
 * `signDetached` (the CLI's detached CAdES) and sends the form on the normal form path with
 * `prepared` (the id) and `signature` (the CMS, base64): 303 back to the page, which then shows the
 * signature, or the page again with the refusal naming field and rule. Only the certificate and the
 * signature leave the page.
 */
import { signDetached } from "./cades.js";
import { fromBase64, toBase64 } from "./der.js";
import { csrfToken, currentHolder, errorMessage, message } from "./page.js";

/** Ask the platform to prepare the PDF for `holder`'s certificate; the prepared state or the refusal's words. */
async function prepare(form, holder) {
  const response = await fetch(form.dataset.prepareUrl, {
    method: "POST",
    credentials: "same-origin",
    headers: { "x-csrftoken": csrfToken(form), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ certificate: toBase64(new Uint8Array(holder.certificate)) }).toString(),
  });
  let answer = null;
  try {
    answer = await response.json();
  } catch {
    answer = null;
  }
  if (response.ok && answer && answer.id && answer.toSign) {
    return { prepared: answer, errors: [] };
  }
  const errors = ((answer && answer.errors) || []).map((error) => error.message).filter(Boolean);
  return { prepared: null, errors: errors.length ? errors : [message("error-server")] };
}

function wire(form) {
  const button = form.querySelector("[data-pki-sign-pdf-button]");
  const status = form.querySelector("[data-pki-sign-pdf-status]");
  const say = (text, state) => {
    if (status) {
      status.textContent = text;
      status.dataset.state = state;
    }
  };
  if (!button) {
    return;
  }
  button.addEventListener("click", async () => {
    button.disabled = true;
    try {
      const holder = await currentHolder(form.dataset.pkiHolder || "sign");
      say(form.dataset.msgPreparing || "", "busy");
      const { prepared, errors } = await prepare(form, holder);
      if (!prepared) {
        say(errors.join(" "), "error");
        return;
      }
      say(message("signing"), "busy");
      const signature = await signDetached(fromBase64(prepared.toSign), holder);
      form.querySelector("[name=prepared]").value = prepared.id;
      form.querySelector("[name=signature]").value = toBase64(signature);
      say(form.dataset.msgSending || message("sent"), "busy");
      form.submit();
    } catch (error) {
      say(errorMessage(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-pki-sign-pdf]")) {
  wire(form);
}
