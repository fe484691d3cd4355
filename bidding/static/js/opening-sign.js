/* The bidder's seat: sign-in, objections and the confirmation signed in the page.
 *
 * A form `[data-pki-sign]` names where its statement comes from (`data-statement-url`, fetched with
 * GET, or POSTed with the form's `text` when `data-statement-method="post"`): the platform gives
 * the exact canonical bytes to sign, the page's KeyHolder (`/static/js/pki/page.js`: a .p12 file
 * opened in the page, or the local agent) makes a detached CAdES signature over them
 * (`/static/js/pki/cades.js`, the same format `ggzy bid` makes), and the form's fields (its CSRF
 * field, the signature in base64 and, for an objection, the very text signed) are posted to the
 * form's action, the normal form path: 303 back to the seat, or the seat again with the refusal
 * (422), whose messages are shown next to the button. The post goes through `fetch` so that the
 * page, and the key opened in it, stay: a bidder opens the certificate once for sign-in, objections
 * and the confirmation. After a success the form's section is replaced by the same section of
 * the page the platform answered with (e.g. "signed in"), and `data-done` says what was done.
 * Only signatures leave the page.
 */
import { signDetached } from "/static/js/pki/cades.js";
import { toBase64 } from "/static/js/pki/der.js";
import { csrfToken, currentHolder, errorMessage, getBytes, message, postForBytes } from "/static/js/pki/page.js";

/** The fields the form sends besides the signature: the objection's text, with a form's CRLF line breaks. */
function textFields(form) {
  const text = form.querySelector("[name=text]");
  return text ? { text: text.value.replace(/\r?\n/g, "\r\n") } : {};
}

async function statementFor(form, fields) {
  const url = form.dataset.statementUrl;
  if (form.dataset.statementMethod === "post") {
    return postForBytes(url, fields, form);
  }
  return getBytes(url);
}

/** Post the form's fields; null on success, else the refusal's messages from the page sent back. */
async function send(form, fields) {
  const response = await fetch(form.action, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf_token: csrfToken(form), ...fields }).toString(),
  });
  const html = await response.text();
  const answered = new DOMParser().parseFromString(html, "text/html");
  // Success is the 303 back to this seat; a redirect elsewhere (e.g. to /login) is not.
  if (response.ok && response.redirected && new URL(response.url).pathname === window.location.pathname) {
    return { answered, errors: [] };
  }
  const errors = [...answered.querySelectorAll(".form-errors li")].map((node) => node.textContent.trim());
  return { answered, errors: errors.length ? [...new Set(errors)] : [message("error-server")] };
}

/** After a success: the form's section as the platform now renders it (if it has one). */
function refreshSection(form, answered) {
  const section = form.closest("section[aria-labelledby]");
  const fresh = section && answered.querySelector(`section[aria-labelledby="${section.getAttribute("aria-labelledby")}"]`);
  if (fresh && !fresh.querySelector("form[data-pki-sign]")) {
    section.replaceWith(document.adoptNode(fresh));
  }
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
      const fields = textFields(form);
      const signature = await signDetached(await statementFor(form, fields), holder);
      say(message("sent"), "busy");
      const { answered, errors } = await send(form, { ...fields, signature: toBase64(signature) });
      if (errors.length) {
        say(errors.join(" "), "error");
      } else {
        const text = form.querySelector("[name=text]");
        if (text) {
          text.value = "";
        }
        say(form.dataset.done || "", "done");
        refreshSection(form, answered);
      }
    } catch (error) {
      say(errorMessage(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-pki-sign]")) {
  wire(form);
}
