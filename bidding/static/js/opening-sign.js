/* The bidder's seat: sign-in, objections and the confirmation signed in the page.
 *
 * A form `[data-pki-sign]` names where its statement comes from (`data-statement-url`, fetched with
 * GET, or POSTed with the form's `text` when `data-statement-method="post"`): the platform gives
 * the exact canonical bytes to sign, the page's KeyHolder (`/static/js/pki/page.js`: a .p12 file
 * opened in the page, or the local agent) makes a detached CAdES signature over them
 * (`/static/js/pki/cades.js`, the same format `ggzy bid` makes), and the base64 goes into the
 * form's `signature` field before the form is submitted the normal way (CSRF field, 303 back to
 * the seat or the page with the refusal). Only the signature leaves the page.
 */
import { signDetached } from "/static/js/pki/cades.js";
import { toBase64 } from "/static/js/pki/der.js";
import { currentHolder, errorMessage, getBytes, message, postForBytes } from "/static/js/pki/page.js";

async function statementFor(form) {
  const url = form.dataset.statementUrl;
  if (form.dataset.statementMethod === "post") {
    const text = form.querySelector("[name=text]");
    return postForBytes(url, { text: text ? text.value : "" }, form);
  }
  return getBytes(url);
}

function wire(form) {
  const status = form.querySelector("[data-pki-sign-status]");
  const say = (text, state) => {
    if (status) {
      status.textContent = text;
      status.dataset.state = state;
    }
  };
  const button = form.querySelector("[data-pki-sign-button]");
  if (!button) {
    return;
  }
  button.addEventListener("click", async () => {
    if (!form.reportValidity()) {
      return;
    }
    button.disabled = true;
    try {
      const holder = await currentHolder(form.dataset.pkiHolder || "sign");
      say(message("signing"), "busy");
      const statement = await statementFor(form);
      const signature = await signDetached(statement, holder);
      form.querySelector("[name=signature]").value = toBase64(signature);
      say(message("sent"), "busy");
      form.submit();
    } catch (error) {
      say(errorMessage(error), "error");
      button.disabled = false;
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-pki-sign]")) {
  wire(form);
}
