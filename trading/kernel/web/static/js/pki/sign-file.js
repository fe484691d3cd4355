/* Sign a file chosen on the page, in the page: for forms that upload a document with its detached
 * signature (a tender's documents and clarifications).
 *
 * In a form `[data-pki-sign-file]`, the button `[data-pki-sign-file-button]` reads the file of
 * `[data-pki-document]`, makes a detached CAdES signature over its bytes with the page's KeyHolder
 * (`page.js`, picker `data-pki-holder`, default "sign"; `cades.js`, the format the CLI makes) and puts
 * it, as `<file name>.p7s`, into the form's signature file input `[data-pki-signature]`. The form is
 * then sent as it always was (multipart, CSRF field); a .p7s made elsewhere can still be chosen in
 * the same input. Only the signature is added to what the form sends.
 */
import { signDetached } from "./cades.js";
import { currentHolder, errorMessage, message } from "./page.js";

function wire(form) {
  const button = form.querySelector("[data-pki-sign-file-button]");
  const status = form.querySelector("[data-pki-sign-file-status]");
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
    const documentInput = form.querySelector("[data-pki-document]");
    const signatureInput = form.querySelector("[data-pki-signature]");
    const file = documentInput && documentInput.files && documentInput.files[0];
    if (!file) {
      say(form.dataset.msgNoDocument || "", "error");
      return;
    }
    button.disabled = true;
    try {
      const holder = await currentHolder(form.dataset.pkiHolder || "sign");
      say(message("signing"), "busy");
      const signature = await signDetached(new Uint8Array(await file.arrayBuffer()), holder);
      const transfer = new DataTransfer();
      transfer.items.add(new File([signature], `${file.name}.p7s`, { type: "application/pkcs7-signature" }));
      signatureInput.files = transfer.files;
      say((form.dataset.msgSigned || "").replace("{name}", file.name), "done");
    } catch (error) {
      say(errorMessage(error), "error");
    } finally {
      button.disabled = false;
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-pki-sign-file]")) {
  wire(form);
}
