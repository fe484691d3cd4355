"""The expert workspace's actions: read a bid's files, decide reviews, vote objective criteria, score
subjective ones, submit a sheet, resolve findings; and what each member (and the chair) sees.

Every call checks the actor is a current member (`access.require_member`, refusals recorded), the
evaluation's state (CONTRACTS15: review decisions in ``qualification-review`` / ``detailed-review``,
scores and votes in ``scoring``), and only flushes: the request owns the transaction. Every change
appends a ledger entry on the tender's project chain; score values travel only in the entry's
hashed ``data``, never in its summary (nobody sees another's scores before submitting).
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Final
from zoneinfo import ZoneInfo

from bidding.evaluation.methods.common import Criterion, CriterionKind, round_score
from bidding.evaluation.methods.gp import gp_price_scores
from bidding.evaluation.methods.settings import MethodSettings
from bidding.evaluation.models import (
    DocumentRead,
    Evaluation,
    Finding,
    FindingSource,
    Member,
    ObjectiveVote,
    Resolution,
    ReviewDecision,
    ReviewStage,
    Score,
    SessionState,
    SheetSubmission,
)
from bidding.evaluation.response.bid import Response
from bidding.evaluation.scoring import documents, findings
from bidding.evaluation.scoring.access import Seat, is_chair, require_member
from bidding.evaluation.scoring.documents import FileRead, PackageFile, PackageSource
from bidding.evaluation.scoring.errors import (
    ScoringForbidden,
    ScoringNotFound,
    ScoringRefused,
    ScoringStateConflict,
)
from bidding.evaluation.scoring.repository import OpenedBid, ScoringRepository
from bidding.evaluation.scoring.rules import (
    Decision,
    canonical_sheet,
    criteria_of,
    majorities,
    method_settings,
    rejected_bids,
    sheet_sha256,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.storage import Store
from trading.ledger.service import append_entry

CHINA: Final = ZoneInfo("Asia/Shanghai")
REVIEW_STATES: Final = {
    SessionState.QUALIFICATION: ReviewStage.QUALIFICATION,
    SessionState.DETAILED: ReviewStage.DETAILED,
}
SHEET_STATES: Final = (SessionState.QUALIFICATION, SessionState.DETAILED, SessionState.SCORING)
SUBJECT: Final = "evaluation_scoring"
MAX_POINTS_PLACES: Final = 2


@dataclass(frozen=True, slots=True)
class BidLine:
    """One bid on the member's list."""

    bid: OpenedBid
    valid: bool
    invalid_reason: str
    conflict: str | None
    price_score: Decimal | None = None


@dataclass
class Workspace:
    """What one member sees: never another member's scores or votes."""

    evaluation: Evaluation
    member: Member
    chair: bool
    settings: MethodSettings
    bids: list[BidLine]
    scores: dict[tuple[uuid.UUID, str], Score]
    votes: dict[tuple[uuid.UUID, str], ObjectiveVote]
    reviews: dict[tuple[uuid.UUID, str], ReviewDecision]
    submitted: dict[str, SheetSubmission]
    my_findings: list[Finding]
    advisory: list[Finding]
    decisions: dict[tuple[uuid.UUID, str], Decision] = field(default_factory=dict)
    """Joint objective decisions, shown once the member voted on that criterion and bid."""

    @property
    def subjective(self) -> tuple[Criterion, ...]:
        return criteria_of(self.settings, CriterionKind.SUBJECTIVE)

    @property
    def objective(self) -> tuple[Criterion, ...]:
        return criteria_of(self.settings, CriterionKind.OBJECTIVE)

    @property
    def price(self) -> tuple[Criterion, ...]:
        return criteria_of(self.settings, CriterionKind.PRICE)

    def total(self, bid: uuid.UUID) -> Decimal:
        """The member's own weighted subtotal for a bid (subjective scores and their own votes)."""
        total = Decimal(0)
        for c in self.subjective:
            if (s := self.scores.get((bid, c.code))) is not None:
                total += round_score(s.points * c.weight)
        for c in self.objective:
            if (v := self.votes.get((bid, c.code))) is not None:
                total += round_score(v.points * c.weight)
        return total


@dataclass(frozen=True, slots=True)
class BidView:
    line: BidLine
    files: list[PackageFile]
    response: Response | None
    reads: list[DocumentRead]


@dataclass(frozen=True, slots=True)
class DocumentOutcome:
    read: DocumentRead
    file: FileRead


@dataclass(frozen=True, slots=True)
class StageProgress:
    stage: SessionState
    submitted: int
    members: int
    who: list[tuple[Member, SheetSubmission | None]]


@dataclass(frozen=True, slots=True)
class Progress:
    stages: list[StageProgress]
    totals: dict[uuid.UUID, dict[uuid.UUID, Decimal]] | None
    """bid → member → the member's subtotal, only once every current member submitted the scoring sheet."""
    open_art64: int


class Scoring:
    """The scoring part's service over one request's session (flushes only)."""

    def __init__(
        self, repo: ScoringRepository, store: Store | None = None, source: PackageSource | None = None
    ) -> None:
        self.repo = repo
        self.session = repo.session
        self.store = store
        self.source = source

    # --- helpers ---

    async def seat(self, actor: Actor, evaluation_id: uuid.UUID, what: str, *, lock: bool = False) -> Seat:
        return await require_member(self.repo, evaluation_id, actor, what, lock=lock)

    async def _ledger(self, seat: Seat, actor: Actor, action: str, summary: dict[str, Any], data: Any = None) -> None:
        await append_entry(
            self.session,
            actor=actor,
            action=action,
            subject_type=SUBJECT,
            subject_id=str(seat.evaluation.id),
            summary={"member": str(seat.member.id), **summary},
            data=data,
            project_code=seat.tender.project_code,
        )

    async def lines(self, evaluation: Evaluation, member: Member | None) -> list[BidLine]:
        bids = await self.repo.bids(evaluation)
        current = [m.id for m in await self.repo.current_members(evaluation.id)]
        rejected = rejected_bids(await self.repo.reviews(evaluation.id), current)
        today = (await clock.now(self.session)).astimezone(CHINA).date()
        settings = method_settings(evaluation)
        prices = criteria_of(settings, CriterionKind.PRICE)
        lines = []
        for bid in bids:
            reason = "bid_revoked" if bid.revoked else "" if bid.package_opened else "package_not_opened"
            reason = reason or rejected.get(bid.id, "")
            conflict = await self.repo.conflicted(member, bid, today) if member is not None else None
            lines.append(BidLine(bid, not reason, reason, conflict))
        valid = {line.bid.id: line.bid.price for line in lines if line.valid and line.bid.price}
        if prices and valid and settings.method.value.startswith("gp-"):
            _base, factors, _components = gp_price_scores(
                {str(k): v for k, v in valid.items() if v is not None}, prices[0].weight
            )
            lines = [
                BidLine(ln.bid, ln.valid, ln.invalid_reason, ln.conflict, factors.get(str(ln.bid.id))) for ln in lines
            ]
        return lines

    async def _line(self, seat: Seat, bid_id: uuid.UUID) -> BidLine:
        for line in await self.lines(seat.evaluation, seat.member):
            if line.bid.id == bid_id:
                return line
        raise ScoringNotFound("no such bid in this evaluation", field="opening_bid_id", rule="exists")

    def _state(self, seat: Seat, *allowed: SessionState) -> None:
        if seat.evaluation.state not in allowed:
            wanted = " / ".join(s.value for s in allowed)
            raise ScoringStateConflict(
                f"the evaluation is in {seat.evaluation.state.value}, this needs {wanted}",
                field="state",
                rule=f"state_{allowed[0].value}",
            )

    async def _not_submitted(self, seat: Seat, stage: SessionState) -> None:
        if await self.repo.submission(seat.member.id, stage) is not None:
            raise ScoringRefused(
                "you submitted this sheet; a score changes only to correct an Art. 64 finding",
                field="points",
                rule="sheet_submitted",
            )

    @staticmethod
    def _criterion(settings: MethodSettings, code: str, kind: CriterionKind) -> Criterion:
        found = next((c for c in settings.criteria if c.code == code), None)
        if found is None:
            raise ScoringRefused(f"{code}: no such criterion", field="criterion", rule="criterion_unknown")
        if found.kind is not kind:
            rule = {
                CriterionKind.PRICE: "criterion_price",
                CriterionKind.OBJECTIVE: "criterion_objective",
                CriterionKind.SUBJECTIVE: "criterion_subjective",
            }[found.kind]
            raise ScoringRefused(f"{code} is a {found.kind.value} criterion", field="criterion", rule=rule)
        return found

    @staticmethod
    def _in_range(criterion: Criterion, points: Decimal) -> None:
        exponent = points.as_tuple().exponent
        if not points.is_finite() or (isinstance(exponent, int) and exponent < -MAX_POINTS_PLACES):
            raise ScoringRefused("at most two decimals", field="points", rule="score_places")
        if not criterion.low <= points <= criterion.high:
            raise ScoringRefused(
                f"{criterion.code}: {points} is outside [{criterion.low}, {criterion.high}] (87号令 Art. 64(2))",
                field="points",
                rule="score_range",
                extra={"low": str(criterion.low), "high": str(criterion.high)},
            )

    @staticmethod
    def _scorable(line: BidLine) -> None:
        if line.conflict is not None:
            raise ScoringRefused(
                f"you declared a relation ({line.conflict}) with {line.bid.bidder_name}: you may not evaluate it",
                field="opening_bid_id",
                rule="conflict",
            )
        if not line.valid:
            raise ScoringRefused(
                f"{line.bid.bidder_name}'s bid was rejected: {line.invalid_reason}",
                field="opening_bid_id",
                rule="bid_rejected",
            )

    # --- views ---

    async def workspace(self, actor: Actor, evaluation_id: uuid.UUID) -> Workspace:
        seat = await self.seat(actor, evaluation_id, "workspace")
        evaluation, member = seat.evaluation, seat.member
        mine_votes = await self.repo.votes(evaluation.id, member.id)
        current = [m.id for m in await self.repo.current_members(evaluation.id)]
        decided = majorities(await self.repo.votes(evaluation.id), current)
        voted = {(v.opening_bid_id, v.criterion) for v in mine_votes}
        all_findings = await self.repo.findings(evaluation.id)
        submitted = {s.stage.value: s for s in await self.repo.submissions(evaluation.id) if s.member_id == member.id}
        return Workspace(
            evaluation=evaluation,
            member=member,
            chair=is_chair(seat),
            settings=method_settings(evaluation),
            bids=await self.lines(evaluation, member),
            scores={(s.opening_bid_id, s.criterion): s for s in await self.repo.scores(evaluation.id, member.id)},
            votes={(v.opening_bid_id, v.criterion): v for v in mine_votes},
            reviews={
                (r.opening_bid_id, f"{r.stage.value}:{r.item}"): r
                for r in await self.repo.reviews(evaluation.id, member.id)
            },
            submitted=submitted,
            my_findings=[f for f in all_findings if f.source is FindingSource.ART64 and f.member_id == member.id],
            advisory=[f for f in all_findings if f.source is FindingSource.ASSISTANCE],
            # The joint decision shows once the member voted on it, its value only after they
            # submitted the scoring sheet (before, the majority would tell them the others' votes).
            decisions={
                k: d if SessionState.SCORING.value in submitted else Decision(None, d.votes, d.members)
                for k, d in decided.items()
                if k in voted
            },
        )

    async def bid_view(self, actor: Actor, evaluation_id: uuid.UUID, bid_id: uuid.UUID) -> BidView:
        seat = await self.seat(actor, evaluation_id, "bid")
        line = await self._line(seat, bid_id)
        files: list[PackageFile] = []
        response = None
        if line.bid.package_opened and self.store is not None and self.source is not None:
            package = await documents.package_bytes(self.store, self.source, seat.tender.project_code, line.bid)
            files = documents.files_of(package)
            response = documents.structured_response(package)
        reads = [r for r in await self.repo.reads(seat.evaluation.id, seat.member.id) if r.opening_bid_id == bid_id]
        return BidView(line, files, response, reads)

    async def read_document(
        self, actor: Actor, evaluation_id: uuid.UUID, bid_id: uuid.UUID, name: str
    ) -> DocumentOutcome:
        """Read one file: checked against the inner manifest, recorded (`DocumentRead` and the ledger)
        whether it matched or not; the caller shows the bytes only when ``file.matches``.
        """
        if self.store is None or self.source is None:  # pragma: no cover - wired by the server
            raise ScoringStateConflict("no package source", field="file", rule="configured")
        seat = await self.seat(actor, evaluation_id, f"document:{bid_id}:{name}")
        line = await self._line(seat, bid_id)
        package = await documents.package_bytes(self.store, self.source, seat.tender.project_code, line.bid)
        read = documents.read_file(package, name)
        row = DocumentRead(
            evaluation_id=seat.evaluation.id,
            member_id=seat.member.id,
            opening_bid_id=bid_id,
            file_name=name,
            sha256=read.actual_sha256,
            matches_manifest=read.matches,
            read_at=await clock.now(self.session),
        )
        await self.repo.add(row)
        await self._ledger(
            seat,
            actor,
            "evaluation.document_read",
            {"bid": str(bid_id), "file": name, "sha256": read.actual_sha256, "matches_manifest": read.matches},
            {"listed_sha256": read.file.sha256},
        )
        return DocumentOutcome(row, read)

    # --- reviews, votes, scores ---

    async def review(
        self,
        actor: Actor,
        evaluation_id: uuid.UUID,
        bid_id: uuid.UUID,
        *,
        passed: bool,
        reason: str,
        item: str = "",
    ) -> ReviewDecision:
        """A pass/fail at the current review stage (a fail needs its reason)."""
        seat = await self.seat(actor, evaluation_id, "review", lock=True)
        self._state(seat, SessionState.QUALIFICATION, SessionState.DETAILED)
        await self._not_submitted(seat, seat.evaluation.state)
        line = await self._line(seat, bid_id)
        if line.conflict is not None:
            self._scorable(line)
        if not line.bid.package_opened:
            raise ScoringRefused("the package was not opened", field="opening_bid_id", rule="package_not_opened")
        reason = reason.strip()
        if not passed and not reason:
            raise ScoringRefused("a fail needs its reason in writing", field="reason", rule="reason_required")
        stage = REVIEW_STATES[seat.evaluation.state]
        now = await clock.now(self.session)
        row = await self.repo.review(seat.member.id, bid_id, stage.value, item)
        if row is None:
            row = ReviewDecision(
                evaluation_id=seat.evaluation.id,
                member_id=seat.member.id,
                opening_bid_id=bid_id,
                stage=stage,
                item=item,
                passed=passed,
                reason=reason,
                decided_at=now,
            )
            await self.repo.add(row)
        else:
            row.passed, row.reason, row.decided_at = passed, reason, now
            await self.session.flush()
        await self._ledger(
            seat,
            actor,
            "evaluation.review_decided",
            {"bid": str(bid_id), "stage": stage.value, "item": item},
            {"passed": passed, "reason": reason},
        )
        return row

    async def vote(
        self, actor: Actor, evaluation_id: uuid.UUID, bid_id: uuid.UUID, criterion: str, points: Decimal
    ) -> ObjectiveVote:
        """A member's vote on an objective criterion's value for one bid (decided by majority)."""
        seat = await self.seat(actor, evaluation_id, "vote", lock=True)
        self._state(seat, SessionState.SCORING)
        found = self._criterion(method_settings(seat.evaluation), criterion, CriterionKind.OBJECTIVE)
        self._in_range(found, points)
        self._scorable(await self._line(seat, bid_id))
        await self._not_submitted(seat, SessionState.SCORING)
        now = await clock.now(self.session)
        row = await self.repo.vote(seat.member.id, bid_id, criterion)
        if row is None:
            row = ObjectiveVote(
                evaluation_id=seat.evaluation.id,
                member_id=seat.member.id,
                opening_bid_id=bid_id,
                criterion=criterion,
                points=points,
                voted_at=now,
            )
            await self.repo.add(row)
        else:
            row.points, row.voted_at = points, now
            await self.session.flush()
        await self._ledger(
            seat,
            actor,
            "evaluation.objective_voted",
            {"bid": str(bid_id), "criterion": criterion},
            {"points": str(points)},
        )
        return row

    async def score(
        self,
        actor: Actor,
        evaluation_id: uuid.UUID,
        bid_id: uuid.UUID,
        criterion: str,
        points: Decimal,
        *,
        comment: str = "",
    ) -> Score:
        """A member's own score on a subjective criterion, within its range, before submitting."""
        seat = await self.seat(actor, evaluation_id, "score", lock=True)
        self._state(seat, SessionState.SCORING)
        found = self._criterion(method_settings(seat.evaluation), criterion, CriterionKind.SUBJECTIVE)
        self._in_range(found, points)
        self._scorable(await self._line(seat, bid_id))
        await self._not_submitted(seat, SessionState.SCORING)
        return await self._write_score(seat, actor, bid_id, criterion, points=points, comment=comment.strip())

    async def _write_score(
        self, seat: Seat, actor: Actor, bid_id: uuid.UUID, criterion: str, *, points: Decimal, comment: str
    ) -> Score:
        now = await clock.now(self.session)
        row = await self.repo.score(seat.member.id, bid_id, criterion)
        if row is None:
            row = Score(
                evaluation_id=seat.evaluation.id,
                member_id=seat.member.id,
                opening_bid_id=bid_id,
                criterion=criterion,
                points=points,
                comment=comment,
                updated_at=now,
            )
            await self.repo.add(row)
        else:
            row.points, row.comment, row.updated_at = points, comment or row.comment, now
            await self.session.flush()
        await self._ledger(
            seat,
            actor,
            "evaluation.score_recorded",
            {"bid": str(bid_id), "criterion": criterion},
            {"points": str(points), "comment": comment},
        )
        return row

    # --- submission ---

    async def submit(self, actor: Actor, evaluation_id: uuid.UUID) -> SheetSubmission:
        """Submit the member's sheet of the current stage: complete, then final (canonical SHA-256);
        a scoring sheet is checked (Art. 64) at once, and across the panel once everyone submitted.
        """
        seat = await self.seat(actor, evaluation_id, "submit", lock=True)
        self._state(seat, *SHEET_STATES)
        stage = seat.evaluation.state
        if await self.repo.submission(seat.member.id, stage) is not None:
            raise ScoringRefused("this sheet is already submitted", field="stage", rule="sheet_submitted")
        lines = await self.lines(seat.evaluation, seat.member)
        evaluation, member = seat.evaluation, seat.member
        scores: list[Score] = []
        votes: list[ObjectiveVote] = []
        reviews: list[ReviewDecision] = []
        missing: list[str] = []
        if stage in REVIEW_STATES:
            review_stage = REVIEW_STATES[stage]
            reviews = [r for r in await self.repo.reviews(evaluation.id, member.id) if r.stage is review_stage]
            decided = {r.opening_bid_id for r in reviews if r.item == ""}
            missing = [
                ln.bid.bidder_name
                for ln in lines
                if ln.bid.package_opened and ln.conflict is None and ln.bid.id not in decided
            ]
        else:
            settings = method_settings(evaluation)
            scores = await self.repo.scores(evaluation.id, member.id)
            votes = await self.repo.votes(evaluation.id, member.id)
            have = {(s.opening_bid_id, s.criterion) for s in scores} | {(v.opening_bid_id, v.criterion) for v in votes}
            wanted = [c for c in settings.criteria if c.kind is not CriterionKind.PRICE]
            missing = [
                f"{ln.bid.bidder_name}:{c.code}"
                for ln in lines
                if ln.valid and ln.conflict is None
                for c in wanted
                if (ln.bid.id, c.code) not in have
            ]
        if missing:
            raise ScoringRefused(
                "the sheet is incomplete: " + ", ".join(missing[:10]),
                field="stage",
                rule="sheet_incomplete",
                extra={"missing": missing},
            )
        digest = sheet_sha256(
            canonical_sheet(evaluation.id, member.id, stage.value, scores=scores, votes=votes, reviews=reviews)
        )
        row = SheetSubmission(
            evaluation_id=evaluation.id,
            member_id=member.id,
            stage=stage,
            sheet_sha256=digest,
            submitted_at=await clock.now(self.session),
        )
        await self.repo.add(row)
        action = "evaluation.score_submitted" if stage is SessionState.SCORING else "evaluation.review_submitted"
        await self._ledger(seat, actor, action, {"stage": stage.value, "sheet_sha256": digest})
        if stage is SessionState.SCORING:
            current = [m.id for m in await self.repo.current_members(evaluation.id)]
            submitted = {
                s.member_id for s in await self.repo.submissions(evaluation.id) if s.stage is SessionState.SCORING
            }
            everyone = set(current) <= submitted
            await findings.run_art64(
                self.repo,
                evaluation,
                seat.tender.project_code,
                actor,
                members=set(current) & submitted if everyone else {member.id},
                panel=everyone,
            )
        return row

    # --- findings ---

    async def resolve(
        self,
        actor: Actor,
        evaluation_id: uuid.UUID,
        finding_id: uuid.UUID,
        *,
        corrected: Decimal | None = None,
        justification: str = "",
    ) -> Finding:
        """The concerned member corrects the score (a new value within range) or justifies it in writing."""
        seat = await self.seat(actor, evaluation_id, "finding", lock=True)
        self._state(seat, SessionState.SCORING)
        finding = await self.repo.finding(seat.evaluation.id, finding_id)
        if finding is None or finding.source is not FindingSource.ART64:
            raise ScoringNotFound("no such Art. 64 finding", field="finding_id", rule="exists")
        if finding.member_id != seat.member.id:
            raise ScoringForbidden("only the member concerned resolves this finding", field="finding_id", rule="own")
        if finding.resolution is not None:
            raise ScoringRefused("this finding is resolved", field="finding_id", rule="finding_resolved")
        justification = justification.strip()
        if corrected is not None:
            await self._correct(seat, actor, finding, corrected, justification)
            finding.resolution = Resolution.CORRECTED
        elif justification:
            finding.resolution = Resolution.JUSTIFIED
        else:
            raise ScoringRefused(
                "correct the score or justify it in writing", field="justification", rule="justification_required"
            )
        finding.justification = justification
        finding.resolved_by = actor.user_id
        finding.resolved_at = await clock.now(self.session)
        if corrected is not None:  # the corrected score settles every open finding on it
            for other in await self.repo.open_art64(seat.evaluation.id):
                if (other.member_id, other.opening_bid_id, other.criterion) == (
                    finding.member_id,
                    finding.opening_bid_id,
                    finding.criterion,
                ):
                    other.resolution = Resolution.CORRECTED
                    other.justification = justification
                    other.resolved_by, other.resolved_at = actor.user_id, finding.resolved_at
        await self.session.flush()
        await self._ledger(
            seat,
            actor,
            "evaluation.finding_resolved",
            {"finding": str(finding.id), "rule": finding.rule, "resolution": finding.resolution.value},
            {"corrected": None if corrected is None else str(corrected), "justification": justification},
        )
        return finding

    async def _correct(
        self, seat: Seat, actor: Actor, finding: Finding, corrected: Decimal, justification: str
    ) -> None:
        """Write the corrected value of the score (or the vote) the finding names, within range."""
        if finding.opening_bid_id is None or not finding.criterion:
            raise ScoringRefused("this finding has no score to correct", field="points", rule="not_correctable")
        settings = method_settings(seat.evaluation)
        criterion = next((c for c in settings.criteria if c.code == finding.criterion), None)
        if criterion is None:
            raise ScoringRefused("no such criterion", field="points", rule="criterion_unknown")
        self._in_range(criterion, corrected)
        if criterion.kind is CriterionKind.OBJECTIVE:
            vote = await self.repo.vote(seat.member.id, finding.opening_bid_id, criterion.code)
            if vote is None:  # pragma: no cover - a finding names a vote that exists
                raise ScoringRefused("no vote to correct", field="points", rule="not_correctable")
            vote.points, vote.voted_at = corrected, await clock.now(self.session)
            await self.session.flush()
        else:
            await self._write_score(
                seat, actor, finding.opening_bid_id, criterion.code, points=corrected, comment=justification
            )

    async def acknowledge(
        self, actor: Actor, evaluation_id: uuid.UUID, finding_id: uuid.UUID, note: str = ""
    ) -> Finding:
        """A member acknowledges an advisory (assistance) finding for the committee; no score changes."""
        seat = await self.seat(actor, evaluation_id, "finding", lock=True)
        finding = await self.repo.finding(seat.evaluation.id, finding_id)
        if finding is None or finding.source is not FindingSource.ASSISTANCE:
            raise ScoringNotFound("no such advisory finding", field="finding_id", rule="exists")
        if finding.resolution is not None:
            raise ScoringRefused("already acknowledged", field="finding_id", rule="finding_resolved")
        finding.resolution = Resolution.ACKNOWLEDGED
        finding.justification = note.strip()
        finding.resolved_by = actor.user_id
        finding.resolved_at = await clock.now(self.session)
        await self.session.flush()
        await self._ledger(
            seat, actor, "evaluation.finding_acknowledged", {"finding": str(finding.id), "rule": finding.rule}
        )
        return finding

    # --- the chair ---

    async def progress(self, actor: Actor, evaluation_id: uuid.UUID) -> Progress:
        """Who submitted which stage (the chair only); subtotals only once everyone submitted scoring."""
        seat = await self.seat(actor, evaluation_id, "progress")
        if not is_chair(seat):
            raise ScoringForbidden("only the committee's chair sees the progress", field="evaluation_id", rule="chair")
        evaluation = seat.evaluation
        members = await self.repo.current_members(evaluation.id)
        by_member: dict[tuple[uuid.UUID, SessionState], SheetSubmission] = {
            (s.member_id, s.stage): s for s in await self.repo.submissions(evaluation.id)
        }
        stages = [
            StageProgress(
                stage,
                sum(1 for m in members if (m.id, stage) in by_member),
                len(members),
                [(m, by_member.get((m.id, stage))) for m in members],
            )
            for stage in SHEET_STATES
        ]
        totals: dict[uuid.UUID, dict[uuid.UUID, Decimal]] | None = None
        if members and all((m.id, SessionState.SCORING) in by_member for m in members):
            settings = method_settings(evaluation)
            weights = {c.code: c.weight for c in settings.criteria if c.kind is not CriterionKind.PRICE}
            totals = defaultdict(dict)
            current = {m.id for m in members}
            values = [
                (s.opening_bid_id, s.member_id, s.criterion, s.points) for s in await self.repo.scores(evaluation.id)
            ] + [(v.opening_bid_id, v.member_id, v.criterion, v.points) for v in await self.repo.votes(evaluation.id)]
            for bid, member, code, points in values:
                if member in current and code in weights:
                    totals[bid][member] = totals[bid].get(member, Decimal(0)) + round_score(points * weights[code])
        return Progress(stages, totals, len(await self.repo.open_art64(evaluation.id)))
