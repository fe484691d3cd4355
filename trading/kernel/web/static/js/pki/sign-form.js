/* Forms whose `signature` field carries a detached CAdES signature over a statement the platform
 * gives: signed in the page (the hall's sign-in, objection and confirmation; a bid's withdrawal; an
 * objection to the tender documents).
 *
 * A form `[data-pki-sign]` says where its statement comes from:
 *   - `data-statement-url`: fetched with GET, or POSTed with the form's text fields (those named
 *     in `data-statement-fields`, default `text`) when `data-statement-method="post"`;
 *   - or `data-statement-source`: a selector of the element whose text is the statement.
 * The button `[data-pki-sign-button]` signs it with the page's KeyHolder (`page.js`, picker
 * `data-pki-holder`, default "sign"; the format of `cades.js`, as `ggzy bid` makes it) and sends
 * the form on the normal form path (its CSRF field, 303 or the page again with the refusal):
 *   - by default as a plain form submission with the signature (base64) in `signature`;
 *   - with `data-submit="fetch"`, through `fetch`, so that the page, and the key opened in it, stay
 *     (the hall's seat: one certificate for sign-in, objections and the confirmation). Success is
 *     the 303 back to this page; the refusal's messages are shown next to the button; after a
 *     success the form's section is replaced by the same section of the page the platform sent
 *     back (e.g. "signed in"), and `data-done` says what was done.
 * Text fields are signed with the CRLF line breaks a form sends for a textarea, so the statement
 * the platform rebuilds from what it receives is the one signed. Only signatures leave the page.
 */
import { signDetached } from "./cades.js";
import { toBase64 } from "./der.js";
import { csrfToken, currentHolder, errorMessage, getBytes, message, postForBytes } from "./page.js";

/** The form's text fields the statement covers, with a form's CRLF line breaks. */
function textFields(form) {
  const fields = {};
  for (const name of (form.dataset.statementFields || "text").split(/\s+/).filter(Boolean)) {
    const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
    if (input) {
      fields[name] = input.value.replace(/\r?\n/g, "\r\n");
    }
  }
  return fields;
}

async function statementFor(form, fields) {
  if (form.dataset.statementSource) {
    const source = document.querySelector(form.dataset.statementSource);
    return new TextEncoder().encode(source ? source.textContent : "");
  }
  const url = form.dataset.statementUrl;
  if (form.dataset.statementMethod === "post") {
    return postForBytes(url, fields, form);
  }
  return getBytes(url);
}

/** Post the form's fields; no errors on success, else the refusal's messages from the page sent back. */
async function send(form, fields) {
  const response = await fetch(form.action, {
    method: "POST",
    credentials: "same-origin",
    headers: { "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({ _csrf_token: csrfToken(form), ...fields }).toString(),
  });
  const answered = new DOMParser().parseFromString(await response.text(), "text/html");
  // Success is the 303 back to this page; a redirect elsewhere (e.g. to /login) is not.
  if (response.ok && response.redirected && new URL(response.url).pathname === window.location.pathname) {
    return { answered, errors: [] };
  }
  const errors = [...answered.querySelectorAll(".form-errors li")].map((node) => node.textContent.trim());
  return { answered, errors: errors.length ? [...new Set(errors)] : [message("error-server")] };
}

/** After a success: the form's section as the platform now renders it (if it no longer has the form). */
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
    for (const name of Object.keys(textFields(form))) {
      const input = form.querySelector(`[name="${CSS.escape(name)}"]`);
      if (input && !input.reportValidity()) {
        return;
      }
    }
    button.disabled = true;
    try {
      const holder = await currentHolder(form.dataset.pkiHolder || "sign");
      say(message("signing"), "busy");
      const fields = textFields(form);
      const signature = toBase64(await signDetached(await statementFor(form, fields), holder));
      say(message("sent"), "busy");
      if (form.dataset.submit !== "fetch") {
        form.querySelector("[name=signature]").value = signature;
        form.submit(); // the browser sends the text fields with the same CRLF line breaks
        return;
      }
      const { answered, errors } = await send(form, { ...fields, signature });
      if (errors.length) {
        say(errors.join(" "), "error");
      } else {
        for (const name of Object.keys(fields)) {
          form.querySelector(`[name="${CSS.escape(name)}"]`).value = "";
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
