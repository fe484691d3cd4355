/* The structured response (ggzy-response, issue 15) checked in the bidder's browser before sealing.
 *
 * The same rules, with the same names, as the bidder tool: `bidding.client.sdk._check_response`
 * (what `ggzy bid seal --response` checks of any response) and `requirement_problems` (what
 * `--requirements` adds against the tender's published requirement set). The response is read
 * here only: it leaves the page sealed inside the package, never for a check (bids are
 * confidential until the opening). tests/e2e/test_seal_response_js.py runs both sides on the same
 * documents.
 */

export const RESPONSE_FORMATS = ["ggzy-response/1"];
export const RESPONSE_LIMIT = 64 * 1024 * 1024;

/** One rule a response breaks: `rule` (a stable name), `path` (JSON path), `code` (what it is about). */
export class ResponseProblem extends Error {
  constructor(rule, path, code = "") {
    super(`${path}: ${rule} ${code}`.trim());
    this.rule = rule;
    this.path = path;
    this.code = code;
  }
}

/** The response's bytes as a document naming this bid: `[document, []]`, or `[null, [problem]]`
 * for the first rule it breaks (`max-size`, `json`, `format`, `names-bid`), as the SDK refuses. */
export function readResponse(bytes, { tender, lot, bidder }) {
  if (bytes.length > RESPONSE_LIMIT) return [null, [new ResponseProblem("max-size", "$", String(RESPONSE_LIMIT))]];
  let document;
  try {
    document = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(bytes));
  } catch (error) {
    return [null, [new ResponseProblem("json", "$")]];
  }
  if (!isObject(document) || !RESPONSE_FORMATS.includes(document.format)) {
    return [null, [new ResponseProblem("format", "$.format", RESPONSE_FORMATS.join(", "))]];
  }
  const named = [document.tender, document.lot, document.bidder];
  if (named[0] !== tender || named[1] !== lot || named[2] !== bidder) {
    return [null, [new ResponseProblem("names-bid", "$.tender", named.map(shown).join("/"))]];
  }
  const declared = partyProblems(document);
  if (declared.length) return [null, declared];
  return [document, []];
}

// --- the declared parties (issue 19): the rules of bidding.client.parties, under the same names ---

const NAME_LIMIT = 50;
const BANK_LIMIT = 100;
const EMAIL_LIMIT = 254;
const MAX_CONTACTS = 5;
const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const ID_CHECK = "10X98765432";
const MOBILE = /^1[3-9]\d{9}$/;
const LANDLINE = /^0\d{2,3}-?\d{7,8}(-\d{1,6})?$/;
const LANDLINE_DIGITS = /^0\d{9,11}$/; // area code and number, no extension
const EMAIL = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}$/;
const REGISTRATION = /^[0-9A-Za-z\u4e00-\u9fff-]{4,40}$/;
const ACCOUNT = /^\d{8,32}$/;
const CONTROL = /[\x00-\x1f\x7f]/;

const trimmed = (value) => (typeof value === "string" && value.trim() ? value.trim() : null);

/** `id-number-format` or `id-number-checksum` for a 居民身份证 number that is not valid (GB 11643), else null. */
export function idNumberProblem(value) {
  const text = value.trim().toUpperCase();
  if (!/^[1-9]\d{16}[\dX]$/.test(text)) return "id-number-format";
  const [y, m, d] = [text.slice(6, 10), text.slice(10, 12), text.slice(12, 14)].map(Number);
  const day = new Date(Date.UTC(y, m - 1, d));
  if (day.getUTCFullYear() !== y || day.getUTCMonth() !== m - 1 || day.getUTCDate() !== d) return "id-number-format";
  let total = 0;
  for (let i = 0; i < 17; i += 1) total += Number(text[i]) * ID_WEIGHTS[i];
  return ID_CHECK[total % 11] === text[17] ? null : "id-number-checksum";
}

/** A phone as the platform compares it (`parties.normalise_phone`): spaces and brackets dropped,
 * a mobile without +86/0086 and a landline without extension as digits. */
export function normalisePhone(value) {
  let text = value.replace(/[\s()（）]/g, "");
  for (const prefix of ["+86", "0086"]) {
    if (text.startsWith(prefix) && MOBILE.test(text.slice(prefix.length).replace(/-/g, ""))) text = text.slice(prefix.length);
  }
  const digits = text.replace(/-/g, "");
  return MOBILE.test(digits) || LANDLINE_DIGITS.test(digits) ? digits : text;
}

function nameProblems(path, value, rule) {
  const text = trimmed(value);
  if (text === null || text.length > NAME_LIMIT || CONTROL.test(text)) return [new ResponseProblem(rule, path)];
  return [];
}

function accountProblems(number, bank, path) {
  const problems = [];
  const text = trimmed(number);
  if (text === null || !ACCOUNT.test(text.replace(/[\s-]/g, ""))) problems.push(new ResponseProblem("account-number-format", `${path}.accountNo`));
  const name = trimmed(bank);
  if (name === null || name.length > BANK_LIMIT || CONTROL.test(name)) problems.push(new ResponseProblem("bank-name", `${path}.bank`));
  return problems;
}

/** The rules the response's `projectManager`, `contacts` and `bidSecurityPayer` break, in the
 * order of `bidding.client.parties.problems` (absent ones break none). */
export function partyProblems(document) {
  const problems = [];
  const manager = document.projectManager;
  if (isObject(manager)) {
    problems.push(...nameProblems("$.projectManager.name", manager.name, "project-manager-name"));
    const idNumber = trimmed(manager.idNumber);
    const registration = trimmed(manager.registrationNo);
    if (idNumber === null && registration === null) problems.push(new ResponseProblem("project-manager-identity", "$.projectManager"));
    const rule = idNumber === null ? null : idNumberProblem(idNumber);
    if (rule) problems.push(new ResponseProblem(rule, "$.projectManager.idNumber"));
    if (registration !== null && !REGISTRATION.test(registration)) problems.push(new ResponseProblem("registration-no-format", "$.projectManager.registrationNo"));
  }
  if (Array.isArray(document.contacts)) {
    if (document.contacts.length > MAX_CONTACTS) problems.push(new ResponseProblem("contacts-count", "$.contacts", String(MAX_CONTACTS)));
    document.contacts.forEach((contact, i) => {
      if (!isObject(contact)) return;
      const path = `$.contacts[${i}]`;
      problems.push(...nameProblems(`${path}.name`, contact.name, "contact-name"));
      const phone = trimmed(contact.phone);
      const email = trimmed(contact.email);
      if (phone === null && email === null) problems.push(new ResponseProblem("contact-reachable", path));
      if (phone !== null) {
        const normal = normalisePhone(phone);
        if (!MOBILE.test(normal) && !LANDLINE_DIGITS.test(normal) && !LANDLINE.test(normal)) problems.push(new ResponseProblem("phone-format", `${path}.phone`));
      }
      if (email !== null && (email.length > EMAIL_LIMIT || !EMAIL.test(email))) problems.push(new ResponseProblem("email-format", `${path}.email`));
    });
  }
  if (isObject(document.bidSecurityPayer)) {
    problems.push(...accountProblems(document.bidSecurityPayer.accountNo, document.bidSecurityPayer.bank, "$.bidSecurityPayer"));
  }
  return problems;
}

const isObject = (value) => value !== null && typeof value === "object" && !Array.isArray(value);

/** A value as the SDK's messages show it (Python's `str`: a missing one is "None"). */
const shown = (value) => (value === undefined || value === null ? "None" : String(value));

/** The codes under `key` of a list's objects, as strings. */
function codes(items, key) {
  if (!Array.isArray(items)) return [];
  return items.filter(isObject).map((item) => shown(item[key]));
}

/** Where the response does not answer the requirement set, in the SDK's order: `tender-match`,
 * `qualification-claimed`, `star-answered`, `bill-priced`, `bill-listed`. Empty when it does. */
export function requirementProblems(answer, wanted) {
  const problems = [];
  if (answer.tender !== wanted.tender || answer.lot !== wanted.lot) {
    problems.push(new ResponseProblem("tender-match", "$.tender", `${shown(answer.tender)}/${shown(answer.lot)}`));
  }
  const claimed = new Set(codes(answer.qualifications, "ref"));
  for (const c of codes(wanted.qualifications, "code")) {
    if (!claimed.has(c)) problems.push(new ResponseProblem("qualification-claimed", "$.qualifications", c));
  }
  const answered = new Set(codes(answer.starResponses, "item"));
  for (const c of codes(wanted.starItems, "code")) {
    if (!answered.has(c)) problems.push(new ResponseProblem("star-answered", "$.starResponses", c));
  }
  const priced = codes(answer.bill, "code");
  const listed = codes(wanted.bill, "code");
  for (const c of listed) if (!priced.includes(c)) problems.push(new ResponseProblem("bill-priced", "$.bill", c));
  for (const c of priced) if (!listed.includes(c)) problems.push(new ResponseProblem("bill-listed", "$.bill", c));
  return problems;
}
