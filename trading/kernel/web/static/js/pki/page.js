/* The page's key holders: chosen once per page, kept in this module's memory only.
 *
 * A page that signs or unwraps in the browser renders a picker (`[data-pki-picker="<name>"]`, see
 * the template macro `pki_picker` in `macros/pki.html`; a page may have two, e.g. "sign" for the
 * signing certificate and "encrypt" for the encryption certificate) holding a file input (`[data-pki-file]`), a
 * password input (`[data-pki-password]`; neither has a `name`, so no form ever sends them), an
 * "open" button (`[data-pki-open]`) and a status line (`[data-pki-status]`). The translated texts
 * come from the picker's `data-msg-*` attributes.
 *
 * `currentHolder()` gives the opened KeyHolder, opening the chosen .p12 with the typed password on
 * first use; the password field is emptied once the file opened, and the holder never reaches
 * localStorage, sessionStorage, a cookie or a request. Choosing another file drops the holder
 * opened before (the new file is opened on the next use, or by "open" again).
 *
 * The picker's source select (`[data-pki-source]`) offers, beside the PKCS#12 file, the USB key
 * served by the local certificate agent `ggzy agent` (`agent.js`): choosing it connects to the
 * agent, lists the token's certificates of the picker's usage (`data-pki-usage`: "sign" or
 * "encrypt") in `[data-pki-agent-key]`, and hands the chosen key holder to `useHolder(holder)`.
 * Everything else on the page (signing, unwrapping) only ever sees a KeyHolder. An agent that is
 * not running, or a refusal at its prompt, is said in the picker's status line (`errorMessage`).
 */
import { connectAgent } from "./agent.js";
import { PkiError } from "./der.js";
import { openPkcs12 } from "./pkcs12.js";

const holders = new Map(); // picker name -> KeyHolder
const listeners = new Set();

/** The picker called `name` (the page's first picker when `name` is empty or unknown). */
function picker(name = "") {
  return (
    (name && document.querySelector(`[data-pki-picker="${CSS.escape(name)}"]`)) ||
    document.querySelector("[data-pki-picker]")
  );
}

function nameOf(root) {
  return (root && root.dataset.pkiPicker) || "";
}

/** The picker's translated text `name` (`data-msg-<name>`), with `{label}` filled in. */
export function message(name, values = {}, root = picker()) {
  const template = (root && root.dataset[`msg${name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`]) || "";
  return template.replace(/\{(\w+)\}/g, (_, key) => (key in values ? String(values[key]) : ""));
}

/** The translated text for a failure (a `PkiError` or the agent's `AgentError` code, else the generic one). */
export function errorMessage(error, root = picker()) {
  if (error && error.name === "AgentError") {
    return (
      message(`error-agent-${error.code}`, {}, root) ||
      message("error-agent", { detail: error.message }, root) ||
      String(error.message)
    );
  }
  const code = error instanceof PkiError ? error.code : "";
  return (code && message(`error-${code}`, {}, root)) || message("error", {}, root) || String(error);
}

function status(root, text, state) {
  const line = root && root.querySelector("[data-pki-status]");
  if (line) {
    line.textContent = text;
    line.dataset.state = state;
  }
}

/** Use `next` (any KeyHolder, e.g. the local agent's) as the holder of picker `name` from now on. */
export function useHolder(next, name = "") {
  const root = picker(name);
  holders.set(nameOf(root), next);
  const opened = (next.kind === "agent" && message("opened-agent", { label: next.label }, root)) || "";
  status(root, opened || message("opened", { label: next.label }, root), "ready");
  for (const listener of listeners) {
    listener(next, nameOf(root));
  }
}

/** Call `listener(holder, pickerName)` whenever a key holder is chosen. */
export function onHolder(listener) {
  listeners.add(listener);
  for (const [name, holder] of holders) {
    listener(holder, name);
  }
}

async function openFromPicker(root) {
  if (!root) {
    throw new PkiError("no-picker", "this page has no certificate picker");
  }
  const fileInput = root.querySelector("[data-pki-file]");
  const passwordInput = root.querySelector("[data-pki-password]");
  const file = fileInput && fileInput.files && fileInput.files[0];
  if (!file) {
    throw new PkiError("no-file", "choose the certificate file first");
  }
  status(root, message("opening", {}, root), "busy");
  const opened = await openPkcs12(new Uint8Array(await file.arrayBuffer()), passwordInput ? passwordInput.value : "");
  if (passwordInput) {
    passwordInput.value = "";
  }
  useHolder(opened, nameOf(root));
  return opened;
}

function source(root) {
  const select = root && root.querySelector("[data-pki-source]");
  return select ? select.value : "pkcs12";
}

function showSource(root) {
  for (const panel of root.querySelectorAll("[data-pki-source-panel]")) {
    panel.hidden = panel.dataset.pkiSourcePanel !== source(root);
  }
}

const agentKeys = new Map(); // picker name -> the agent's key holders of the picker's usage

/** Connect to the local agent, list its keys of the picker's usage and use the chosen (or first) one. */
async function openFromAgent(root) {
  const name = nameOf(root);
  const select = root.querySelector("[data-pki-agent-key]");
  status(root, message("agent-connecting", {}, root), "busy");
  const usage = root.dataset.pkiUsage || "sign";
  const listed = (await connectAgent()).filter((holder) => (holder.usage || []).includes(usage));
  agentKeys.set(name, listed);
  const before = select ? select.value : "";
  if (select) {
    select.replaceChildren(
      ...listed.map((holder, index) => {
        const option = document.createElement("option");
        option.value = String(index);
        option.textContent = `${holder.label} (${String(holder.keyType || "").toUpperCase()})`;
        return option;
      }),
    );
    if (before && Number(before) < listed.length) {
      select.value = before;
    }
  }
  if (!listed.length) {
    const error = new Error("the USB key holds no certificate for this use");
    error.name = "AgentError";
    error.code = "no-key";
    throw error;
  }
  const chosen = listed[select ? Number(select.value) || 0 : 0];
  useHolder(chosen, name);
  return chosen;
}

/** The KeyHolder of picker `name`: the one already chosen, else the picker's file (or USB key) opened now. */
export async function currentHolder(name = "") {
  const root = picker(name);
  const known = holders.get(nameOf(root));
  if (known) {
    return known;
  }
  try {
    return source(root) === "agent" ? await openFromAgent(root) : await openFromPicker(root);
  } catch (error) {
    status(root, errorMessage(error, root), "error");
    throw error;
  }
}

/** The CSRF token the page's forms carry (the platform checks it on every unsafe request). */
export function csrfToken(form) {
  const field = (form || document).querySelector("input[name=_csrf_token]");
  return field ? field.value : "";
}

/** POST `body` (URL-encoded fields) to `url` with the page's CSRF token; the response bytes. */
export async function postForBytes(url, fields = {}, form = null) {
  const response = await fetch(url, {
    method: "POST",
    credentials: "same-origin",
    headers: { "x-csrftoken": csrfToken(form), "content-type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  if (!response.ok) {
    throw new PkiError("server", `${url} answered ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

/** GET `url` (same origin, with the session); the response bytes. */
export async function getBytes(url) {
  const response = await fetch(url, { credentials: "same-origin" });
  if (!response.ok) {
    throw new PkiError("server", `${url} answered ${response.status}`);
  }
  return new Uint8Array(await response.arrayBuffer());
}

// One listener for every picker, also those a fragment brings in later (htmx).
document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-pki-open]");
  const root = button && button.closest("[data-pki-picker]");
  if (root) {
    holders.delete(nameOf(root)); // a new choice replaces the old holder
    currentHolder(nameOf(root)).catch(() => {}); // the status line says what went wrong
  }
});
/** (Re)connect picker `root` to the agent; failures are said in its status line. */
function connect(root) {
  holders.delete(nameOf(root));
  currentHolder(nameOf(root)).catch(() => {});
}

document.addEventListener("click", (event) => {
  const button = event.target instanceof Element && event.target.closest("[data-pki-agent-connect]");
  const root = button && button.closest("[data-pki-picker]");
  if (root) {
    connect(root);
  }
});
document.addEventListener("change", (event) => {
  const target = event.target instanceof Element ? event.target : null;
  const root = target && target.closest("[data-pki-picker]");
  if (!root) {
    return;
  }
  const name = nameOf(root);
  if (target.matches("[data-pki-file]")) {
    // Another file: the key opened from the previous one must not sign in its place.
    holders.delete(name);
    status(root, target.files && target.files.length ? message("reopen", {}, root) : "", "idle");
  } else if (target.matches("[data-pki-source]")) {
    holders.delete(name);
    showSource(root);
    status(root, "", "idle");
    if (source(root) === "agent") {
      connect(root);
    }
  } else if (target.matches("[data-pki-agent-key]")) {
    const chosen = (agentKeys.get(name) || [])[Number(target.value)];
    if (chosen) {
      useHolder(chosen, name);
    }
  }
});
document.documentElement.dataset.pkiReady = "true"; // tests and other modules can wait for this
for (const root of document.querySelectorAll("[data-pki-picker]")) {
  root.dataset.pkiReady = "true";
}
