/* Key holders for the keys in a USB key or HSM, through the local certificate agent `ggzy agent`.
 *
 * The agent runs on the user's machine (http://127.0.0.1:17321 by default; the platform's setting
 * GGZY_WEB_AGENT_URL, which pages carry as `data-agent-url` and the CSP's connect-src allows). It
 * answers only the platform origins it was started with, and asks the user in its terminal before
 * every signature, key agreement or decryption. Each key with a certificate on the token becomes
 * one `KeyHolder` (keyholder.js), so cades.js and envelope.js use it exactly like a PKCS#12 key:
 *
 *     import { connectAgent } from "./agent.js";
 *     const holders = await connectAgent();          // [] when the token holds no certificate
 *     const signature = await holders[0].sign(signedAttributesDer);
 *
 * Only the operation's input crosses to the agent (the DER to sign, the ephemeral point, the
 * encrypted key and its label) and only its result comes back; the token keeps the private key.
 *
 * Each operation takes an optional last argument `purpose`, a short text the agent shows the user
 * with the question ("投标文件签名", "开标解密"); the page's own words, shown as such.
 *
 * Failures reject with an `AgentError` whose `code` says what happened: "unreachable" (no agent
 * running, or it does not allow this site), "declined" (the user said no at the agent),
 * "bad-field" (with `field`), "unknown-key", "unsupported", "token-error", "token-removed", …
 */

const DEFAULT_AGENT_URL = "http://127.0.0.1:17321";

export class AgentError extends Error {
  /** @param {string} code @param {string} message @param {{status?: number, field?: string}} [more] */
  constructor(code, message, more = {}) {
    super(message);
    this.name = "AgentError";
    this.code = code;
    this.status = more.status ?? 0;
    this.field = more.field ?? null;
  }
}

/** The agent's origin: the argument, else the page's `data-agent-url`, else the default. */
function agentUrl(baseUrl) {
  const fromPage = globalThis.document?.querySelector("[data-agent-url]")?.getAttribute("data-agent-url");
  return (baseUrl || fromPage || DEFAULT_AGENT_URL).replace(/\/+$/, "");
}

function toBase64(bytes) {
  let text = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    text += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(text);
}

function fromBase64(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

function asBytes(value, name) {
  if (value instanceof Uint8Array) return value;
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  if (ArrayBuffer.isView(value)) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  throw new AgentError("bad-field", `${name} must be bytes (Uint8Array)`, { field: name });
}

async function call(base, method, path, body) {
  let response;
  try {
    response = await fetch(base + path, {
      method,
      mode: "cors",
      credentials: "omit",
      cache: "no-store",
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
  } catch (error) {
    // A refused origin gets no CORS headers, so the browser reports it like a closed port.
    throw new AgentError(
      "unreachable",
      `证书助手未运行或不接受本网站 (ggzy agent is not running at ${base} or does not allow this site)`,
    );
  }
  let answer = null;
  try {
    answer = await response.json();
  } catch (error) {
    answer = null;
  }
  if (!response.ok) {
    const code = answer?.code || "agent-error";
    const detail = answer?.detail || `HTTP ${response.status}`;
    const message = code === "declined" ? `已在证书助手中拒绝 (declined at the agent): ${detail}` : detail;
    throw new AgentError(code, message, { status: response.status, field: answer?.field });
  }
  if (answer === null || typeof answer !== "object") {
    throw new AgentError("agent-error", "the agent's answer is not JSON");
  }
  return answer;
}

function holderFor(base, key) {
  const path = `/v1/keys/${encodeURIComponent(key.id)}`;
  const withPurpose = (body, purpose) => (purpose ? { ...body, purpose: String(purpose) } : body);
  const holder = {
    kind: "agent",
    label: key.label,
    keyType: key.kind, // "ec" | "rsa"
    usage: key.usage, // ["sign"], ["encrypt"] or both, from the certificate's key usage
    certificate: fromBase64(key.certificate),
    chain: key.chain.map(fromBase64),
    async sign(data, purpose) {
      const body = withPurpose({ data: toBase64(asBytes(data, "data")) }, purpose);
      return fromBase64((await call(base, "POST", `${path}/sign`, body)).signature);
    },
  };
  // As keyholder.js says: key agreement for EC keys only, RSA-OAEP for RSA keys only.
  if (key.kind === "ec") {
    holder.deriveSharedSecret = async (ephemeralPoint, purpose) => {
      const body = withPurpose({ point: toBase64(asBytes(ephemeralPoint, "point")) }, purpose);
      return fromBase64((await call(base, "POST", `${path}/derive`, body)).secret);
    };
  } else if (key.kind === "rsa") {
    holder.decryptOaep = async (encryptedKey, label, purpose) => {
      const body = withPurpose(
        {
          encryptedKey: toBase64(asBytes(encryptedKey, "encryptedKey")),
          label: toBase64(asBytes(label ?? new Uint8Array(0), "label")),
        },
        purpose,
      );
      return fromBase64((await call(base, "POST", `${path}/decrypt-oaep`, body)).key);
    };
  }
  return holder;
}

/**
 * The key holders of the token the local agent serves, one per key with a certificate.
 * @param {string} [baseUrl] the agent's origin (default: the page's data-agent-url, else 127.0.0.1:17321)
 * @returns {Promise<import("./keyholder.js").KeyHolder[]>}
 */
export async function connectAgent(baseUrl) {
  const base = agentUrl(baseUrl);
  const answer = await call(base, "GET", "/v1/keys");
  if (!Array.isArray(answer.keys)) throw new AgentError("agent-error", "the agent's key list is malformed");
  return answer.keys.map((key) => holderFor(base, key));
}
