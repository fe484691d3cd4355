"""The rule catalogue: the rules in force for the checker, any version for an old finding, and the
procurement office's edits (each a new, immutable version with who, when and why, in the ledger).

The shipped edition (``procurement.negative_list.catalogue.default_rules``) is stored on first use:
a rule id the table does not hold yet is written as the version it ships with. Two first uses at
once are safe: the second transaction's insert meets the unique ``(rule_id, version)`` (and the
head's primary key), its savepoint is rolled back and it reads what the first one stored.

Services only flush; the request or job owns the transaction.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from procurement.negative_list import checker as checker_module
from procurement.negative_list.catalogue import default_rules
from procurement.negative_list.checker import check_text
from procurement.negative_list.model import Finding, Rule, Severity
from procurement.rule_catalogue.models import RuleHead, RuleVersion
from procurement.rule_catalogue.repository import RuleRepository
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.bounds import INT32_MAX
from trading.kernel.errors import NotFound, ValidationFailed
from trading.ledger.service import append_entry

RULE_ID: Final = re.compile(r"^NL-[A-Z0-9]+(-[A-Z0-9]+)+$")
MAX_ID = 64
MAX_NAME = 200
MAX_BASIS = 500
MAX_TEXT = 2000  # a suggestion, a reason, one example sentence
MAX_PATTERN = 500
MAX_LINES = 50  # patterns, negations, examples of each kind
MAX_TRY_TEXT = 20000
SUBJECT = "procurement.rule"

LIST_FIELDS: Final = ("patterns", "negations", "positive_examples", "negative_examples")
_RULE_FIELDS: Final = frozenset(f.name for f in dataclasses.fields(Rule))
# How the checker compiles a rule's pattern (its edition may write shorthands such as ``{M}`` that
# it expands first: ``checker.compiled``); plain ``re.compile`` for an edition without them.
_compile: Callable[[str], re.Pattern[str]] = getattr(checker_module, "compiled", re.compile)


def _extras(item: int | None, thresholds: Sequence[Sequence[str]]) -> dict[str, Any]:
    """The fields the checker's edition of ``Rule`` has beyond the first cut's (item, thresholds)."""
    extra: dict[str, Any] = {}
    if "item" in _RULE_FIELDS:
        extra["item"] = item
    if "thresholds" in _RULE_FIELDS:
        extra["thresholds"] = tuple((str(name), str(value)) for name, value in thresholds)
    return extra


def _item_of(rule: Rule) -> int | None:
    value = getattr(rule, "item", None)
    return value if isinstance(value, int) else None


def _thresholds_of(rule: Rule) -> list[list[str]]:
    return [[str(name), str(value)] for name, value in getattr(rule, "thresholds", ())]


def category_of(rule_id: str) -> str:
    """The catalogue's grouping, read from the id (``NL-QUAL-REGION`` → ``QUAL``)."""
    parts = rule_id.split("-")
    return parts[1] if len(parts) >= 3 and parts[0] == "NL" else "OTHER"  # noqa: PLR2004 - NL-<category>-<name>


def to_rule(row: RuleVersion) -> Rule:
    return Rule(
        id=row.rule_id,
        name=row.name,
        basis=row.basis,
        severity=row.severity,
        suggestion=row.suggestion,
        version=row.version,
        patterns=tuple(row.patterns),
        negations=tuple(row.negations),
        structured=row.structured,
        positive_examples=tuple(row.positive_examples),
        negative_examples=tuple(row.negative_examples),
        **_extras(row.item, row.thresholds),
    )


# --- reading --------------------------------------------------------------------------------------


async def ensure_seeded(session: AsyncSession) -> int:
    """Store every shipped rule the table does not hold yet; the number stored (0 when none)."""
    repo = RuleRepository(session)
    stored = await repo.stored_ids()
    missing = [rule for rule in default_rules() if rule.id not in stored]
    if not missing:
        return 0
    try:
        async with session.begin_nested():
            now = await clock.now(session)
            for rule in missing:
                session.add(_row(rule, in_force=True, author=None, reason="", now=now))
                session.add(RuleHead(rule_id=rule.id, version=rule.version, updated_at=now))
            await session.flush()
            await append_entry(
                session,
                actor=Actor.system(),
                action="procurement.rules_seeded",
                subject_type=SUBJECT,
                subject_id="catalogue",
                data={"rules": [{"id": r.id, "version": r.version, **_content_of(r, in_force=True)} for r in missing]},
                summary={"rows": len(missing)},
            )
    except IntegrityError:
        return 0  # stored meanwhile by another transaction, whose rows the caller now reads
    return len(missing)


async def active_rules(session: AsyncSession) -> list[Rule]:
    """The rules the checker applies now: every rule's current version, unless it is retired."""
    await ensure_seeded(session)
    return [to_rule(row) for row in await RuleRepository(session).current() if row.in_force]


async def rule_version(session: AsyncSession, rule_id: str, version: int) -> Rule:
    """The rule as it was at ``version`` (to explain a finding made with it)."""
    return to_rule(await version_row(session, rule_id, version))


async def version_row(session: AsyncSession, rule_id: str, version: int) -> RuleVersion:
    await ensure_seeded(session)
    row = await RuleRepository(session).version(rule_id, version) if 1 <= version <= INT32_MAX else None
    if row is None:
        raise NotFound(f"no version {version} of rule {rule_id}", field="version", rule="rule_version_exists")
    return row


async def catalogue(session: AsyncSession, *, severity: str = "", category: str = "") -> list[RuleVersion]:
    """Every rule's current version (retired ones too), filtered by severity and category."""
    await ensure_seeded(session)
    rows = await RuleRepository(session).current()
    return [
        row
        for row in rows
        if (not severity or row.severity.value == severity) and (not category or category_of(row.rule_id) == category)
    ]


async def versions(session: AsyncSession, rule_id: str) -> list[RuleVersion]:
    """A rule's versions, newest first; ``NotFound`` for an unknown rule."""
    await ensure_seeded(session)
    rows = list(await RuleRepository(session).versions(rule_id))
    if not rows:
        raise NotFound(f"no rule {rule_id}", field="rule_id", rule="rule_exists")
    return rows


# --- editing --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RuleDraft:
    """What an editor submits: a rule's next version (``base_version`` is the version the edit
    started from, 0 for a new rule), and why.
    """

    rule_id: str
    name: str
    basis: str
    severity: Severity
    suggestion: str
    reason: str
    base_version: int
    in_force: bool = True
    patterns: tuple[str, ...] = ()
    negations: tuple[str, ...] = ()
    positive_examples: tuple[str, ...] = ()
    negative_examples: tuple[str, ...] = ()
    structured: str | None = None
    item: int | None = None
    thresholds: tuple[tuple[str, str], ...] = ()

    def rule(self, version: int = 0) -> Rule:
        return Rule(
            id=self.rule_id,
            name=self.name,
            basis=self.basis,
            severity=self.severity,
            suggestion=self.suggestion,
            version=version,
            patterns=self.patterns,
            negations=self.negations,
            structured=self.structured,
            positive_examples=self.positive_examples,
            negative_examples=self.negative_examples,
            **_extras(self.item, self.thresholds),
        )


@dataclass(slots=True)
class Problems:
    """Every problem of a draft, each naming its field and rule; ``line`` (1-based) and ``text``
    say which line of a list field, for the page to show.
    """

    items: list[dict[str, Any]] = field(default_factory=list)

    def add(self, name: str, rule: str, message: str, *, line: int | None = None, text: str = "") -> None:
        self.items.append({"field": name, "rule": rule, "message": message, "line": line, "text": text})

    def raise_any(self) -> None:
        if self.items:
            first = self.items[0]
            raise ValidationFailed(
                first["message"], field=first["field"], rule=first["rule"], extra={"errors": self.items}
            )


def _check_lengths(draft: RuleDraft, problems: Problems) -> None:
    if not RULE_ID.match(draft.rule_id) or len(draft.rule_id) > MAX_ID:
        problems.add(
            "rule_id", "rule_id_format", "a rule id reads NL-<CATEGORY>-<NAME> in capitals, digits and hyphens"
        )
    for name, limit in (("name", MAX_NAME), ("basis", MAX_BASIS), ("suggestion", MAX_TEXT), ("reason", MAX_TEXT)):
        value = getattr(draft, name)
        if not value.strip():
            problems.add(name, "required", "This field is required.")
        elif len(value) > limit:
            problems.add(name, "too_long", f"at most {limit} characters")
    for name in LIST_FIELDS:
        lines = getattr(draft, name)
        if len(lines) > MAX_LINES:
            problems.add(name, "too_many_lines", f"at most {MAX_LINES} lines")
        limit = MAX_PATTERN if name in {"patterns", "negations"} else MAX_TEXT
        for number, line in enumerate(lines, 1):
            if len(line) > limit:
                problems.add(name, "too_long", f"line {number}: at most {limit} characters", line=number, text=line)


def _check_patterns(draft: RuleDraft, problems: Problems) -> bool:
    """Every pattern and negation compiles and none matches empty text; True when all are good."""
    good = True
    for name in ("patterns", "negations"):
        for number, pattern in enumerate(getattr(draft, name), 1):
            try:
                compiled = _compile(pattern)
            except re.error as exc:
                problems.add(
                    name,
                    "regex_invalid",
                    f"line {number} is not a regular expression: {exc}",
                    line=number,
                    text=pattern,
                )
                good = False
                continue
            if compiled.search("") is not None:
                problems.add(
                    name, "regex_matches_empty", f"line {number} matches empty text", line=number, text=pattern
                )
                good = False
    return good


def _check_examples(draft: RuleDraft, problems: Problems) -> None:
    """The rule as drafted finds every positive example and leaves every negative one alone."""
    if draft.structured and not draft.patterns:
        return  # a structured check reads a requirement's parts, not sentences
    if not draft.patterns:
        problems.add("patterns", "pattern_required", "a text rule needs at least one pattern")
        return
    if not draft.positive_examples:
        problems.add("positive_examples", "example_required", "give at least one sentence the rule must find")
    if not draft.negative_examples:
        problems.add("negative_examples", "example_required", "give at least one sentence the rule must leave alone")
    rule = draft.rule()
    for number, example in enumerate(draft.positive_examples, 1):
        if not check_text(example, [rule]):
            problems.add(
                "positive_examples",
                "example_missed",
                f"line {number} is not found by the rule",
                line=number,
                text=example,
            )
    for number, example in enumerate(draft.negative_examples, 1):
        if check_text(example, [rule]):
            problems.add(
                "negative_examples", "example_hit", f"line {number} is found by the rule", line=number, text=example
            )


def validate(draft: RuleDraft) -> Problems:
    """Every problem of ``draft`` (nothing is written)."""
    problems = Problems()
    _check_lengths(draft, problems)
    if _check_patterns(draft, problems):
        _check_examples(draft, problems)
    return problems


async def new_version(session: AsyncSession, draft: RuleDraft, *, actor: Actor) -> RuleVersion:
    """Write ``draft`` as the rule's next version (version 1 of a new rule), or refuse it whole."""
    await ensure_seeded(session)
    repo = RuleRepository(session)
    head = await repo.head(draft.rule_id, lock=True)
    current = await repo.version(draft.rule_id, head.version) if head is not None else None
    if current is not None:  # a structured check, its limits and §8 item are not edited here: kept
        draft = replace(
            draft,
            structured=current.structured,
            item=current.item,
            thresholds=tuple((str(name), str(value)) for name, value in current.thresholds),
        )
    problems = validate(draft)
    if head is None and draft.base_version != 0:
        raise NotFound(f"no rule {draft.rule_id}", field="rule_id", rule="rule_exists")
    if head is not None and draft.base_version == 0:
        problems.add("rule_id", "rule_id_taken", f"rule {draft.rule_id} exists already")
    elif head is not None and head.version != draft.base_version:
        problems.add(
            "base_version",
            "rule_changed_meanwhile",
            f"version {head.version} was written after version {draft.base_version} you edited",
        )
    elif current is not None and current.content() == _content_of(draft.rule(), in_force=draft.in_force):
        problems.add("form", "rule_unchanged", "the version would say what the current version says")
    problems.raise_any()
    now = await clock.now(session)
    number = head.version + 1 if head is not None else 1
    row = _row(
        replace(draft.rule(), version=number), in_force=draft.in_force, author=actor, reason=draft.reason, now=now
    )
    session.add(row)
    if head is None:
        session.add(RuleHead(rule_id=draft.rule_id, version=number, updated_at=now))
    else:
        head.version, head.updated_at = number, now
    await session.flush()
    if current is None:
        action = "procurement.rule_created"
    elif current.in_force and not draft.in_force:
        action = "procurement.rule_retired"
    elif not current.in_force and draft.in_force:
        action = "procurement.rule_reinstated"
    else:
        action = "procurement.rule_version_created"
    await append_entry(
        session,
        actor=actor,
        action=action,
        subject_type=SUBJECT,
        subject_id=draft.rule_id,
        data={"rule": draft.rule_id, "version": number, "reason": draft.reason, **row.content()},
        summary={"code": draft.rule_id, "version": number, "name": draft.name},
    )
    return row


# --- trying and comparing ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Segment:
    text: str
    hit: bool


def try_rule(rule: Rule, text: str) -> tuple[list[Finding], list[Segment]]:
    """The rule's findings in ``text`` and the text cut into plain and hit segments (to highlight)."""
    findings = check_text(text, [rule])
    segments: list[Segment] = []
    at = 0
    for finding in findings:
        if finding.start < at:
            continue
        if finding.start > at:
            segments.append(Segment(text[at : finding.start], hit=False))
        segments.append(Segment(text[finding.start : finding.end], hit=True))
        at = finding.end
    if at < len(text):
        segments.append(Segment(text[at:], hit=False))
    return findings, segments


@dataclass(frozen=True, slots=True)
class Change:
    """One field that differs between two versions: the old and new value (text fields, flags)
    or the lines removed and added (list fields).
    """

    field: str
    old: str = ""
    new: str = ""
    removed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()


def diff(old: RuleVersion, new: RuleVersion) -> list[Change]:
    """What changed from ``old`` to ``new``, field by field, in the form's order."""
    a, b = old.content(), new.content()

    def words(value: object) -> str:
        return "" if value is None else str(value)

    changes = [
        Change(name, old=words(a[name]), new=words(b[name]))
        for name in ("in_force", "name", "basis", "severity", "suggestion", "structured")
        if a[name] != b[name]
    ]
    changes.extend(
        Change(
            name,
            removed=tuple(line for line in a[name] if line not in b[name]),
            added=tuple(line for line in b[name] if line not in a[name]),
        )
        for name in LIST_FIELDS
        if a[name] != b[name]
    )
    return changes


# --- rows -----------------------------------------------------------------------------------------


def _content_of(rule: Rule, *, in_force: bool) -> dict[str, Any]:
    return {
        "in_force": in_force,
        "name": rule.name,
        "basis": rule.basis,
        "severity": rule.severity.value,
        "suggestion": rule.suggestion,
        "patterns": list(rule.patterns),
        "negations": list(rule.negations),
        "structured": rule.structured,
        "positive_examples": list(rule.positive_examples),
        "negative_examples": list(rule.negative_examples),
        "item": _item_of(rule),
        "thresholds": _thresholds_of(rule),
    }


def _row(rule: Rule, *, in_force: bool, author: Actor | None, reason: str, now: Any) -> RuleVersion:
    return RuleVersion(
        rule_id=rule.id,
        version=rule.version,
        in_force=in_force,
        name=rule.name,
        basis=rule.basis,
        severity=rule.severity,
        suggestion=rule.suggestion,
        patterns=list(rule.patterns),
        negations=list(rule.negations),
        structured=rule.structured,
        positive_examples=list(rule.positive_examples),
        negative_examples=list(rule.negative_examples),
        item=_item_of(rule),
        thresholds=_thresholds_of(rule),
        author_id=author.user_id if author is not None else None,
        author_name=(author.display_name or author.username or "") if author is not None else "",
        reason=reason,
        created_at=now,
    )


def summary(rows: Sequence[RuleVersion]) -> dict[str, int]:
    """How many rules are in force, retired, blocking (in force)."""
    return {
        "in_force": sum(1 for r in rows if r.in_force),
        "retired": sum(1 for r in rows if not r.in_force),
        "blocking": sum(1 for r in rows if r.in_force and r.severity is Severity.BLOCKING),
    }
