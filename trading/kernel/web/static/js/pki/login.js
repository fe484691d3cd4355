/* /login: answer the certificate-login challenge with the key in the page.
 *
 * The challenge fragment (`parties/_certificate_challenge.html`, brought in by htmx) shows the
 * challenge's exact bytes in `#certificate-challenge` and a picker (page.js). The button
 * `[data-pki-login]` signs those bytes with the page's KeyHolder, puts the answer the API takes
 * (nonce, certificate, chain, signature: `bind.js` makes it) into the form's `response` field and
 * submits the form, which logs in as pasting a CA client's answer does. Nothing else is sent.
 */
import { answerChallenge } from "./bind.js";
import { toBase64 } from "./der.js";
import { currentHolder, errorMessage, message } from "./page.js";

document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-pki-login]");
  const form = button && button.closest("form");
  if (!form) {
    return;
  }
  const status = form.querySelector("[data-pki-login-status]");
  const say = (text, state) => {
    if (status) {
      status.textContent = text;
      status.dataset.state = state;
    }
  };
  button.disabled = true;
  try {
    const holder = await currentHolder();
    say(message("signing"), "busy");
    const text = form.querySelector("#certificate-challenge").value;
    const bytes = new TextEncoder().encode(text);
    const challenge = { nonce: JSON.parse(text).nonce, toSign: toBase64(bytes) };
    form.querySelector("[name=response]").value = await answerChallenge(challenge, holder);
    say(message("sent"), "busy");
    form.submit();
  } catch (error) {
    say(errorMessage(error), "error");
    button.disabled = false;
  }
});
