/* Sealing a bid in this browser (form[data-seal-bid] on the upload page).
 *
 * The bidder chooses the package files, fills in the price summary (开标一览表: total price,
 * duration, priced items, bid security), opens its signing certificate in the page's "sign"
 * picker (/static/js/pki/page.js: a PKCS#12 opened as a non-extractable WebCrypto key, or the local
 * certificate agent) and chooses its organisation's encryption certificate. The page then builds
 * the same signed `ggzy-bid/1` container `ggzy bid seal` builds (/static/js/pki/envelope.js: CMS
 * AuthEnvelopedData parts bound to this tender, lot, organisation and deadline, split among the
 * tender's key holders when it has them; the manifest signed with detached CAdES by cades.js) and
 * hands the container to the upload form below (form[data-bid-upload], bidding.js), which sends
 * it through the same resumable intake as any container and shows the platform's receipt.
 *
 * An optional structured response (ggzy-response JSON, issue 15) goes into the package as
 * `ggzy bid seal --response` puts it (the package file ggzy-response.json, listed in the inner
 * manifest like any file); before sealing it is checked here (./response_check.js: the rules of
 * the bidder tool's --response and, when the tender publishes a requirement set, --requirements,
 * fetched from the public link the page names). It is never sent anywhere for checking.
 *
 * The files, the prices, the response, the PKCS#12 file and its password stay in this page's
 * memory: the only bytes that leave are the sealed container's. Every message comes from the template's
 * data-text-* attributes (translated there); a refusal is shown next to its field.
 */
import { signDetached } from "/static/js/pki/cades.js";
import { buildContainer, readCertificate, RESPONSE_FILE } from "/static/js/pki/envelope.js";
import { currentHolder, errorMessage } from "/static/js/pki/page.js";
import { readResponse, requirementProblems } from "./response_check.js";

const PARTY_FIELDS = [
  "pm-name", "pm-id-number", "pm-registration-no", "contact-name", "contact-phone", "contact-email",
  "payer-account-no", "payer-bank",
];
const FIELDS = ["files", "response", "parties", "total-price", "duration-days", "items", "guarantee-reference", "signing", "encryption-cert"];
const AMOUNT = /^\d+(\.\d+)?$/;

class Refusal extends Error {
  constructor(field, message, rule = "") {
    super(message);
    this.field = field;
    this.rule = rule;
  }
}

const readFile = async (file) => new Uint8Array(await file.arrayBuffer());

/** Whether the certificate names the organisation's USCC (in its subject or the
 * organisation-code extension, ASCII either way); the platform checks it again. */
function namesOrganisation(der, uscc) {
  const needle = new TextEncoder().encode(uscc);
  outer: for (let i = 0; i + needle.length <= der.length; i++) {
    for (let j = 0; j < needle.length; j++) if (der[i + j] !== needle[j]) continue outer;
    return true;
  }
  return false;
}

function wire(form) {
  const status = form.querySelector("[data-seal-status]");
  const button = form.querySelector("button[type=submit]");
  const upload = document.querySelector("form[data-bid-upload]");
  const text = (name) => form.getAttribute(`data-text-${name}`) || name;
  const input = (name) => document.getElementById(`seal-${name}`);
  const value = (name) => (input(name).value || "").trim();

  function clearErrors() {
    for (const name of FIELDS) {
      const p = document.getElementById(`seal-error-${name}`);
      if (p) { p.textContent = ""; p.hidden = true; p.removeAttribute("data-rule"); }
      if (input(name)) input(name).removeAttribute("aria-invalid");
    }
  }

  function showError(field, message, rule, focus = true) {
    const p = field && document.getElementById(`seal-error-${field}`);
    if (!p) { status.textContent = message; return; }
    p.textContent = message;
    p.hidden = false;
    if (rule) p.setAttribute("data-rule", rule);
    if (input(field)) {
      input(field).setAttribute("aria-invalid", "true");
      if (focus) input(field).focus();
    }
  }

  function priceInputs() {
    const total = value("total-price").replace(/,/g, "");
    if (!AMOUNT.test(total)) throw new Refusal("total-price", text("bad-price"));
    const days = value("duration-days");
    if (!/^\d{1,6}$/.test(days)) throw new Refusal("duration-days", text("bad-duration"));
    const items = [];
    for (let line of value("items").split(/\r?\n/)) {
      line = line.trim();
      if (!line) continue;
      const at = line.lastIndexOf("=");
      const name = at > 0 ? line.slice(0, at).trim() : "";
      const price = at > 0 ? line.slice(at + 1).trim().replace(/,/g, "") : "";
      if (!name || !AMOUNT.test(price)) throw new Refusal("items", text("bad-items"));
      items.push([name, price]);
    }
    const guarantee = { form: input("guarantee-form").value, reference: value("guarantee-reference") };
    if (guarantee.form === "guarantee" && !guarantee.reference) {
      throw new Refusal("guarantee-reference", text("guarantee-reference"));
    }
    return { price: { totalPrice: total, durationDays: parseInt(days, 10), items }, guarantee };
  }

  function chosenFiles() {
    const files = Array.from(input("files").files || []);
    if (!files.length) throw new Refusal("files", text("no-files"));
    const names = new Set();
    let total = 0;
    for (const f of files) {
      if (names.has(f.name) || f.name === "manifest.json") throw new Refusal("files", text("duplicate-file"));
      if (f.name === RESPONSE_FILE) throw new Refusal("files", text("reserved-file"));
      names.add(f.name);
      total += f.size;
    }
    const limit = parseInt(form.dataset.maxBytes, 10);
    if (limit && total > limit) throw new Refusal("files", text("too-large"));
    return files;
  }

  async function encryptionCertificate() {
    const file = input("encryption-cert").files[0];
    if (!file) throw new Refusal("encryption-cert", text("choose-encryption"));
    let cert;
    try {
      cert = await readCertificate(await readFile(file));
    } catch (error) {
      throw new Refusal("encryption-cert", text("bad-encryption"));
    }
    const usage = cert.keyUsage;
    const usable = cert.kind === "rsa" ? !usage || usage.keyEncipherment : cert.kind === "ec" && cert.curve && (!usage || usage.keyAgreement);
    if (!usable) throw new Refusal("encryption-cert", text("bad-encryption"));
    return cert;
  }

  let requirementSet = null;

  /** The tender's published requirement set, from the public link the page names (a GET that
   * carries nothing of the bid); fetched once. */
  async function requirements() {
    if (!requirementSet) {
      let answer;
      try {
        const response = await fetch(form.dataset.requirements, { credentials: "same-origin" });
        answer = response.ok ? await response.json() : null;
      } catch (failure) {
        answer = null; // offline, or not JSON: said the same way
      }
      if (!answer || typeof answer !== "object") throw new Refusal("response", text("requirements-unavailable"));
      requirementSet = answer;
    }
    return requirementSet;
  }

  /** The chosen structured response's bytes, checked as the bidder tool checks it (the rule of
   * each problem named in the words of the template's data-text-response-<rule>); null without one. */
  /** The parties typed on the page (issue 19: project manager, one contact, a cash bond's payer
   * account), as the response's fields; null when none is filled. They go into the response. */
  function declaredParties() {
    const declared = {};
    const field = (name) => (input(name) ? (input(name).value || "").trim() : ""); // payer: cash tenders only
    const some = (names) => names.some((n) => field(n));
    if (some(["pm-name", "pm-id-number", "pm-registration-no"])) {
      declared.projectManager = { name: field("pm-name") };
      if (field("pm-id-number")) declared.projectManager.idNumber = field("pm-id-number");
      if (field("pm-registration-no")) declared.projectManager.registrationNo = field("pm-registration-no");
    }
    if (some(["contact-name", "contact-phone", "contact-email"])) {
      const contact = { name: field("contact-name") };
      if (field("contact-phone")) contact.phone = field("contact-phone");
      if (field("contact-email")) contact.email = field("contact-email");
      declared.contacts = [contact];
    }
    if (some(["payer-account-no", "payer-bank"])) {
      declared.bidSecurityPayer = { accountNo: field("payer-account-no"), bank: field("payer-bank") };
    }
    return Object.keys(declared).length ? declared : null;
  }

  /** The response's bytes with the page's parties written in (they replace the file's own). */
  function withParties(bytes, declared) {
    let document;
    try {
      document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
    } catch (error) {
      return bytes; // readResponse names the rule
    }
    if (document === null || typeof document !== "object" || Array.isArray(document)) return bytes;
    bytes.fill(0);
    return new TextEncoder().encode(JSON.stringify({ ...document, ...declared }));
  }

  async function structuredResponse() {
    const file = input("response").files[0];
    const declared = declaredParties();
    if (!file) {
      if (declared) throw new Refusal("parties", text("parties-need-response"), "parties-need-response");
      return null;
    }
    let bytes = await readFile(file);
    if (declared) bytes = withParties(bytes, declared);
    const [answer, refused] = readResponse(bytes, form.dataset);
    const problems = answer && form.dataset.requirements ? requirementProblems(answer, await requirements()) : refused;
    if (!problems.length) return bytes;
    bytes.fill(0);
    const words = problems.map((p) => text(`response-${p.rule}`).replace("{code}", () => p.code));
    throw new Refusal("response", words.join(" "), problems[0].rule);
  }

  // Checked as soon as it is chosen (or a declared party changes), too: the refusal stands next to
  // the field before sealing, and goes once the response or the party is put right.
  let rechecks = 0;
  async function recheckResponse(event) {
    const mine = ++rechecks; // only the latest check speaks: an earlier one may finish later
    for (const name of ["response", "parties"]) {
      const p = document.getElementById(`seal-error-${name}`);
      p.textContent = "";
      p.hidden = true;
      p.removeAttribute("data-rule");
    }
    input("response").removeAttribute("aria-invalid");
    const focus = event.target === input("response"); // never pull focus away from a party field being typed
    try {
      const bytes = await structuredResponse();
      if (bytes) bytes.fill(0);
    } catch (failure) {
      if (mine !== rechecks) return;
      if (failure instanceof Refusal) showError(failure.field, failure.message, failure.rule, focus);
      else showError("response", `${text("failed")} ${failure && failure.message ? failure.message : String(failure)}`, "", focus);
    }
  }
  input("response").addEventListener("change", recheckResponse);
  for (const name of PARTY_FIELDS) {
    if (input(name)) input(name).addEventListener("change", recheckResponse);
  }

  /** The key holders' certificates, fetched from the links the page lists (public). */
  async function keyHolders() {
    const certificates = [];
    for (const a of document.querySelectorAll("a[data-key-holder]")) {
      const response = await fetch(a.getAttribute("href"), { credentials: "same-origin" });
      if (!response.ok) throw new Refusal(null, text("key-holders"));
      certificates.push(await response.text());
    }
    return certificates;
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    clearErrors();
    status.textContent = "";
    if (!window.crypto || !window.crypto.subtle) { status.textContent = text("insecure"); return; }
    button.disabled = true;
    let contents = [];
    let response = null;
    try {
      const inputs = priceInputs();
      const files = chosenFiles();
      response = await structuredResponse();
      const encryption = await encryptionCertificate();
      let holder;
      try {
        holder = await currentHolder(form.dataset.pkiHolder || "sign");
      } catch (failure) {
        return; // the picker's status line, next to the file and password, says why
      }
      if (!namesOrganisation(holder.certificate, form.dataset.bidder)) throw new Refusal("signing", text("wrong-organisation"));
      status.textContent = text("sealing");
      contents = await Promise.all(files.map(async (f) => ({ name: f.name, data: await readFile(f) })));
      const built = await buildContainer({
        tender: form.dataset.tender,
        lot: form.dataset.lot,
        bidder: form.dataset.bidder,
        deadline: form.dataset.deadline,
        files: contents,
        price: inputs.price,
        guarantee: inputs.guarantee,
        signer: holder,
        encryption,
        keyHolders: await keyHolders(),
        threshold: parseInt(form.dataset.threshold || "0", 10),
        response,
        sign: (data, signer) => signDetached(data, signer),
      });
      status.textContent = text("sealed");
      form.dataset.sealedSha256 = built.sha256;
      // The sealed container goes through the upload form (bidding.js): the same intake.
      const container = new File([built.container], `bid-${form.dataset.lot}.zip`, { type: "application/zip" });
      const transfer = new DataTransfer();
      transfer.items.add(container);
      upload.querySelector("input[type=file]").files = transfer.files;
      upload.requestSubmit();
    } catch (failure) {
      if (failure instanceof Refusal) showError(failure.field, failure.message, failure.rule);
      // the local agent: declined at its prompt, not running, the USB key pulled out (the picker's words)
      else if (failure && failure.name === "AgentError") status.textContent = errorMessage(failure);
      else status.textContent = `${text("failed")} ${failure && failure.message ? failure.message : String(failure)}`;
    } finally {
      for (const f of contents) f.data.fill(0);
      if (response) response.fill(0);
      button.disabled = false;
    }
  });
  form.dataset.pkiReady = "true";
}

for (const form of document.querySelectorAll("form[data-seal-bid]")) {
  wire(form);
}
