/* /account: bind a certificate by signing a binding challenge in the page.
 *
 * The form `[data-pki-bind]` names the challenge URL (`data-challenge-url`). On submit: a fresh
 * challenge from the platform (POST with the CSRF token), the page's KeyHolder signs its exact
 * bytes (`toSign`), and the answer the API's POST /api/v1/bindings takes (nonce, certificate,
 * chain, signature) goes into the form's `response` field, which is then submitted as a normal
 * form: the server verifies it exactly as it verifies an API binding. The KeyHolder is the only
 * input, so a holder from the local agent (`useHolder` in page.js) binds the same way.
 */
import { certificateInfo, fromBase64, toBase64 } from "./der.js";
import { currentHolder, errorMessage, message, postForBytes } from "./page.js";

const ALGORITHMS = { "P-256": "ecdsa-p256-sha256", "P-384": "ecdsa-p384-sha384" };

/** The platform's name for the algorithm a holder signs with (certs.algorithms). */
export function algorithmName(certificateDer) {
  const info = certificateInfo(certificateDer);
  return info.kind === "rsa" ? "rsa-pss-sha256" : ALGORITHMS[info.curve];
}

/** The binding answer for `challenge` ({nonce, toSign}) signed by `holder`, as JSON text. */
export async function answerChallenge(challenge, holder) {
  const signature = await holder.sign(fromBase64(challenge.toSign));
  return JSON.stringify({
    nonce: challenge.nonce,
    certificate: toBase64(holder.certificate),
    chain: holder.chain.map((der) => toBase64(der)),
    signature: { algorithm: algorithmName(holder.certificate), value: toBase64(signature) },
  });
}

function wire(form) {
  const status = form.querySelector("[data-pki-bind-status]");
  const say = (text, state) => {
    if (status) {
      status.textContent = text;
      status.dataset.state = state;
    }
  };
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const button = form.querySelector("button[type=submit]");
    if (button) {
      button.disabled = true;
    }
    try {
      const holder = await currentHolder();
      say(message("signing"), "busy");
      const challenge = JSON.parse(new TextDecoder().decode(await postForBytes(form.dataset.challengeUrl, {}, form)));
      form.querySelector("input[name=response]").value = await answerChallenge(challenge, holder);
      say(message("sent"), "busy");
      form.submit(); // the normal form path: CSRF field, 303 or the page again with the refusal
    } catch (error) {
      say(errorMessage(error), "error");
      if (button) {
        button.disabled = false;
      }
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-pki-bind]")) { // none on /login: importing is harmless
  wire(form);
}
