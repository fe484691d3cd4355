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
  return [document, []];
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
