"""The expert pool's pages (``/evaluation``), in Chinese with the English switch.

* Centre admins (``evaluation:expert:read``/``manage``): the pool's list with filters (specialty,
  region, status), each expert's record (specialties, certificates, availability, conflicts,
  status history, ratings and the rules' verdict, draws and attendances), suspend / remove /
  restore with a reason, the import of a CSV or Excel file (refused whole with a table of rows,
  columns and rules) with its templates, and the load of the shipped specialty list.
* Experts (``evaluation:profile:manage``): their own profile, unavailable days and conflicts.
* Agencies (``evaluation:expert:rate``): rate an expert after an evaluation they ran.

Forms go the kernel's way (typed body, `submit`: savepoint, 303 or 422 naming field and rule).
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any, Final

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.evaluation.pool.api import pool_filter
from bidding.evaluation.pool.errors import ExpertImportRefused
from bidding.evaluation.pool.importing import EXAMPLE, EXPERTS, MAX_ROWS, ImportFormat, ImportResult, import_experts
from bidding.evaluation.pool.models import ExpertStatus, RelationType
from bidding.evaluation.pool.policies import EvaluationPermission
from bidding.evaluation.pool.profile import ConflictInput, ExpertProfile, ProfileUpdate
from bidding.evaluation.pool.ratings import ExpertRatings, RatingInput
from bidding.evaluation.pool.repository import PAGE_SIZE
from bidding.evaluation.pool.service import CHINA, ExpertPool, split_codes, today_in_china
from bidding.evaluation.pool.web_labels import (
    BAD_DAY,
    CHANGE_RULE_LABELS,
    FIELD_LABELS,
    LABELS,
    RELATION_LABELS,
    STATUS_LABELS,
    import_problem,
)
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.web import i18n
from trading.kernel.web.forms import FieldError, FieldParser, FormBody, Many, field_errors, many, read_form, submit
from trading.kernel.web.i18n import N_, gettext
from trading.kernel.web.pages import page

IMPORT_MAX_BYTES: Final = 4 * 1024 * 1024
POOL: Final = "evaluation.pool"
PROFILE: Final = "evaluation.profile"
RATINGS: Final = "evaluation.ratings"
IMPORT_REFUSED = N_("The file was refused and nothing was imported. Correct every row listed and upload it again.")
CHOOSE_FILE = "Choose a CSV or Excel file to import."
UNKNOWN_FORMAT = "The file's name ends in .csv or .xlsx."
TEMPLATE_TYPES: Final = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}


def _day(parser: FieldParser, name: str, value: str, *, required: bool = True) -> date | None:
    raw = value.strip()
    if not raw:
        if required:
            parser.add(name, "required", "This field is required.")
        return None
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        parser.add(name, "format", BAD_DAY)
        return None
    if not 2000 <= day.year <= 2100 and name != "period_from":  # noqa: PLR2004 - the platform's years
        parser.add(name, "year_range", BAD_DAY)
        return None
    return day


def _specialty_names(specialties: dict[str, Any]) -> dict[str, str]:
    english = i18n.get_locale() == "en"
    return {code: (row.name_en if english else row.name) for code, row in specialties.items()}


def _context(**extra: Any) -> dict[str, Any]:
    return {
        "status_labels": STATUS_LABELS,
        "relation_labels": RELATION_LABELS,
        "change_rule_labels": CHANGE_RULE_LABELS,
        "labels": FIELD_LABELS,
        "statuses": [status.value for status in ExpertStatus],
        "relations": [relation.value for relation in RelationType],
        "errors": [],
        "failed": "",
        "form": {},
        **extra,
    }


# --- forms --------------------------------------------------------------------------------------


@dataclass
class SuspendForm:
    until: str = ""
    reason: str = ""


@dataclass
class ReasonForm:
    reason: str = ""


@dataclass
class ProfileForm:
    specialties: Many = ""
    region_code: str = ""
    employer_uscc: str = ""
    employer_name: str = ""
    title: str = ""


@dataclass
class UnavailableForm:
    first_day: str = ""
    last_day: str = ""
    reason: str = ""


@dataclass
class ConflictForm:
    organisation_uscc: str = ""
    organisation_name: str = ""
    relation: str = ""
    period_from: str = ""
    period_until: str = ""
    note: str = ""


@dataclass
class RatingForm:
    tender_code: str = ""
    expert_name: str = ""
    id_suffix: str = ""
    score: str = ""
    comment: str = ""


# --- the centre ---------------------------------------------------------------------------------


class PoolPages(Controller):
    """The centre's pages of the pool."""

    path = "/evaluation"
    include_in_schema = False

    @get("/experts", name=POOL, opt=requires(EvaluationPermission.EXPERT_READ))
    async def pool(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        specialty: FromQuery[str] = "",
        region: FromQuery[str] = "",
        status: FromQuery[str] = "",
        offset: FromQuery[int] = 0,
    ) -> Response[Any]:
        """The pool's experts, filtered; a bad filter is named next to its field (422)."""
        pool = ExpertPool(db_session)
        parser = FieldParser()
        chosen = parser.choice("status", status, ExpertStatus) if status else None
        start = max(0, min(offset, 1_000_000))
        errors: list[FieldError] = []
        rows: Any = []
        total = 0
        codes: dict[uuid.UUID, list[str]] = {}
        try:
            parser.done()
            rows, total, codes = await pool.experts(pool_filter(specialty, region, chosen, start))
        except ValidationFailed as exc:
            errors = field_errors(exc, LABELS)
        last, shipped = await pool.list_state()
        specialties = await pool.current_codes()
        context = _context(
            experts=rows,
            total=total,
            codes=codes,
            offset=start,
            page_size=PAGE_SIZE,
            filters={"specialty": specialty, "region": region, "status": status},
            specialties=list(specialties.values()),
            specialty_names=_specialty_names(specialties),
            last_load=last,
            shipped=shipped,
            list_behind=last is None or last.sha256 != shipped.sha256,
            manages=actor.has(EvaluationPermission.EXPERT_MANAGE),
            errors=errors,
        )
        return await page(request, "evaluation/pool/list.html", context, status_code=422 if errors else 200)

    @get("/experts/{expert_id:uuid}", name="evaluation.expert", opt=requires(EvaluationPermission.EXPERT_READ))
    async def expert(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        expert_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        return await self._expert_page(request, db_session, actor, expert_id, [])

    async def _expert_page(  # noqa: PLR0917 - the page and what failed on it
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        expert_id: uuid.UUID,
        errors: list[FieldError],
        failed: str = "",
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        pool = ExpertPool(db_session)
        record = await pool.record(expert_id)
        specialties = await pool.current_codes()
        context = _context(
            record=record,
            specialty_names=_specialty_names(specialties),
            rules=pool.rules,
            manages=actor.has(EvaluationPermission.EXPERT_MANAGE),
            today=today_in_china(await clock.now(db_session)),
            errors=errors,
            failed=failed,
            form=form or {},
        )
        return await page(request, "evaluation/pool/expert.html", context)

    async def _status(  # noqa: PLR0917 - one status form of the page
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        expert_id: uuid.UUID,
        work: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, Any],
    ) -> Response[Any]:
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse("evaluation.expert", expert_id=expert_id) + "#status",
            refusal=lambda errors: self._expert_page(request, db_session, actor, expert_id, errors, failed, form),
        )

    @post(
        "/experts/{expert_id:uuid}/suspension",
        name="evaluation.expert_suspend",
        opt=requires(EvaluationPermission.EXPERT_MANAGE),
    )
    async def suspend(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        expert_id: FromPath[uuid.UUID],
        data: FormBody[SuspendForm],
    ) -> Response[Any]:
        """Suspend until the end of the given day (Beijing time), with a reason."""

        async def work() -> object:
            parser = FieldParser()
            last = _day(parser, "until", data.until)
            reason = parser.required("reason", data.reason, max_length=1000, single_line=False)
            parser.done()
            assert last is not None  # noqa: S101 - done() returned
            until = datetime.combine(last + timedelta(days=1), time(0), CHINA)
            return await ExpertPool(db_session).suspend(expert_id, until, reason, actor=actor)

        return await self._status(request, db_session, actor, expert_id, work, "suspend", vars(data))

    @post(
        "/experts/{expert_id:uuid}/removal",
        name="evaluation.expert_remove",
        opt=requires(EvaluationPermission.EXPERT_MANAGE),
    )
    async def remove(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        expert_id: FromPath[uuid.UUID],
        data: FormBody[ReasonForm],
    ) -> Response[Any]:
        """Remove (清退) with a reason."""

        async def work() -> object:
            parser = FieldParser()
            reason = parser.required("reason", data.reason, max_length=1000, single_line=False)
            parser.done()
            return await ExpertPool(db_session).remove(expert_id, reason, actor=actor)

        return await self._status(request, db_session, actor, expert_id, work, "remove", vars(data))

    @post(
        "/experts/{expert_id:uuid}/restoration",
        name="evaluation.expert_restore",
        opt=requires(EvaluationPermission.EXPERT_MANAGE),
    )
    async def restore(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        expert_id: FromPath[uuid.UUID],
        data: FormBody[ReasonForm],
    ) -> Response[Any]:
        """Restore a suspended or removed expert, with a reason."""

        async def work() -> object:
            parser = FieldParser()
            reason = parser.required("reason", data.reason, max_length=1000, single_line=False)
            parser.done()
            return await ExpertPool(db_session).restore(expert_id, reason, actor=actor)

        return await self._status(request, db_session, actor, expert_id, work, "restore", vars(data))

    @post("/specialties", name="evaluation.specialties_load", opt=requires(EvaluationPermission.EXPERT_MANAGE))
    async def load_specialties(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Bring the stored specialty list to the shipped edition (new versions of changed codes)."""

        async def refused(errors: list[FieldError]) -> Response[Any]:
            del errors
            raise ValidationFailed("the specialty list could not be loaded", field="list", rule="load")

        return await submit(
            db_session,
            lambda: ExpertPool(db_session).sync_specialties(actor=actor),
            labels=LABELS,
            redirect=request.app.route_reverse(POOL) + "#specialties",
            refusal=refused,
        )

    # --- the import -------------------------------------------------------------------------------

    @get("/imports", name="evaluation.import_form", opt=requires(EvaluationPermission.EXPERT_MANAGE))
    async def import_form(
        self,
        *,
        request: Request[Any, Any, Any],
        created: FromQuery[int | None] = None,
        updated: FromQuery[int | None] = None,
        unchanged: FromQuery[int | None] = None,
    ) -> Response[Any]:
        counts = (created, updated, unchanged)
        done = None
        if all(count is not None and 0 <= count <= MAX_ROWS for count in counts):
            done = {"created": created, "updated": updated, "unchanged": unchanged}
        return await page(request, "evaluation/pool/import.html", self._import_context(result=done))

    @get(
        "/imports/templates/{fmt:str}",
        name="evaluation.import_template",
        opt=requires(EvaluationPermission.EXPERT_MANAGE),
    )
    async def import_template(self, fmt: FromPath[str]) -> Response[bytes]:
        """The file to fill in: the Chinese headers and one example row, as CSV (UTF-8 with BOM) or Excel."""
        if fmt not in TEMPLATE_TYPES:
            raise NotFound("no such template", field="fmt", rule="exists")
        content = EXPERTS.template_xlsx([EXAMPLE], title="专家") if fmt == "xlsx" else EXPERTS.template([EXAMPLE])
        return Response(
            content,
            media_type=TEMPLATE_TYPES[fmt],
            headers={"Content-Disposition": f'attachment; filename="experts-template.{fmt}"'},
        )

    @post(
        "/imports",
        name="evaluation.import",
        request_max_body_size=IMPORT_MAX_BYTES,
        opt=requires(EvaluationPermission.EXPERT_MANAGE),
    )
    async def import_file(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """Import the uploaded CSV or Excel file; a refusal lists every bad row and writes nothing."""
        refused: list[dict[str, Any]] = []

        async def work() -> ImportResult:
            form = await read_form(request)
            upload = form.get("file")
            data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
            if not data or not isinstance(upload, UploadFile):
                raise ValidationFailed(CHOOSE_FILE, field="file", rule="required")
            suffix = (upload.filename or "").rsplit(".", 1)[-1].lower()
            if suffix not in {f.value for f in ImportFormat}:
                raise ValidationFailed(UNKNOWN_FORMAT, field="file", rule="format")
            try:
                return await import_experts(
                    ExpertPool(db_session, request.app.state.settings), data, ImportFormat(suffix), actor=actor
                )
            except ExpertImportRefused as exc:
                listed = exc.extra.get("errors") or [
                    {"row": None, "field": exc.field, "rule": exc.rule, "message": exc.message}
                ]
                refused.extend({**item, "problem": _problem(item)} for item in listed)
                raise

        def done(result: ImportResult) -> str:
            counts = f"created={result.created}&updated={result.updated}&unchanged={result.unchanged}"
            return f"{request.app.route_reverse('evaluation.import_form')}?{counts}#import-result"

        async def refusal(errors: list[FieldError]) -> Response[Any]:
            context = self._import_context(
                errors=[] if refused else errors,
                row_errors=refused,
                message=gettext(IMPORT_REFUSED) if refused else "",
            )
            return await page(request, "evaluation/pool/import.html", context)

        return await submit(db_session, work, labels=LABELS, redirect=done, refusal=refusal)

    @staticmethod
    def _import_context(**extra: Any) -> dict[str, Any]:
        blank: dict[str, Any] = {"result": None, "row_errors": [], "message": ""}
        return _context(columns=EXPERTS.columns, max_rows=MAX_ROWS, **{**blank, **extra})


def _problem(item: dict[str, Any]) -> str:
    """A refused row's problem in the reader's language, looked up by the column's own name."""
    field = item.get("field")
    column = EXPERTS.by_header.get(str(field))
    return import_problem(column.name if column else field, item.get("rule"), item.get("message"))


# --- the expert's own profile -------------------------------------------------------------------


class ProfilePages(Controller):
    """An expert's own profile, availability and conflict declarations."""

    path = "/evaluation/profile"
    include_in_schema = False

    @get("/", name=PROFILE, opt=requires(EvaluationPermission.PROFILE_MANAGE))
    async def profile(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        """The expert's profile; an expert account not in the pool yet is told so (200)."""
        return await self._page(request, db_session, actor, [])

    async def _page(  # noqa: PLR0917 - the page and what failed on it
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        errors: list[FieldError],
        failed: str = "",
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        profile = ExpertProfile(db_session)
        expert = await profile.mine(actor)
        specialties = await profile.current_codes()
        today = today_in_china(await clock.now(db_session))
        context = _context(
            expert=expert,
            mine=(await profile.repo.specialties_of([expert.id]))[expert.id] if expert else [],
            unavailability=await profile.repo.unavailability(expert.id, from_day=today) if expert else [],
            conflicts=await profile.repo.conflicts(expert.id) if expert else [],
            specialties=list(specialties.values()),
            specialty_names=_specialty_names(specialties),
            today=today,
            errors=errors,
            failed=failed,
            form=form or {},
        )
        return await page(request, "evaluation/pool/profile.html", context)

    async def _submit(  # noqa: PLR0917 - one form of the page
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        work: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, Any],
    ) -> Response[Any]:
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(PROFILE) + f"#{failed}",
            refusal=lambda errors: self._page(request, db_session, actor, errors, failed, form),
        )

    @post("/", name="evaluation.profile_update", opt=requires(EvaluationPermission.PROFILE_MANAGE))
    async def update(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[ProfileForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            codes = [code for value in many(data.specialties) for code in split_codes(value)]
            region = parser.required("region_code", data.region_code, max_length=6)
            uscc = parser.required("employer_uscc", data.employer_uscc, max_length=18)
            employer = parser.required("employer_name", data.employer_name, max_length=200)
            title = parser.text("title", data.title, max_length=100, single_line=True)
            parser.done()
            return await ExpertProfile(db_session).update(
                actor, ProfileUpdate(tuple(codes), region, uscc, employer, title)
            )

        form = {**vars(data), "specialties": many(data.specialties)}
        return await self._submit(request, db_session, actor, work, "profile", form)

    @post(
        "/unavailability", name="evaluation.unavailability_declare", opt=requires(EvaluationPermission.PROFILE_MANAGE)
    )
    async def declare_unavailable(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[UnavailableForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            first = _day(parser, "first_day", data.first_day)
            last = _day(parser, "last_day", data.last_day)
            reason = parser.text("reason", data.reason, max_length=200, single_line=True)
            parser.done()
            assert first is not None  # noqa: S101 - done() returned
            assert last is not None  # noqa: S101
            return await ExpertProfile(db_session).declare_unavailable(actor, first, last, reason)

        return await self._submit(request, db_session, actor, work, "availability", vars(data))

    @post(
        "/unavailability/{entry_id:uuid}/withdrawal",
        name="evaluation.unavailability_withdraw",
        opt=requires(EvaluationPermission.PROFILE_MANAGE),
    )
    async def withdraw_unavailable(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        entry_id: FromPath[uuid.UUID],
    ) -> Response[Any]:
        async def work() -> object:
            return await ExpertProfile(db_session).withdraw_unavailable(actor, entry_id)

        return await self._submit(request, db_session, actor, work, "availability", {})

    @post("/conflicts", name="evaluation.conflict_declare", opt=requires(EvaluationPermission.PROFILE_MANAGE))
    async def declare_conflict(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[ConflictForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            uscc = parser.text("organisation_uscc", data.organisation_uscc, max_length=18, single_line=True)
            name = parser.text("organisation_name", data.organisation_name, max_length=200, single_line=True)
            relation = parser.choice("relation", data.relation, RelationType) if data.relation.strip() else None
            start = _day(parser, "period_from", data.period_from, required=False)
            end = _day(parser, "period_until", data.period_until, required=False)
            note = parser.text("note", data.note, max_length=500)
            parser.done()
            conflict = ConflictInput(uscc, name, relation, start, end, note)
            return await ExpertProfile(db_session).declare_conflict(actor, conflict)

        return await self._submit(request, db_session, actor, work, "conflicts", vars(data))


# --- ratings ------------------------------------------------------------------------------------


class RatingPages(Controller):
    """An agency rates the experts of the evaluations it ran."""

    path = "/evaluation/ratings"
    include_in_schema = False

    @get("/", name=RATINGS, opt=requires(EvaluationPermission.EXPERT_RATE))
    async def ratings(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        return await self._page(request, db_session, actor, [])

    async def _page(
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        actor: Actor,
        errors: list[FieldError],
        form: dict[str, Any] | None = None,
    ) -> Response[Any]:
        service = ExpertRatings(db_session)
        organisation = actor.organisation_id
        tenders = await service.repo.rated_tenders(organisation) if organisation else []
        given = await service.repo.ratings_given_by(organisation) if organisation else []
        by_id = {tender.id: tender for tender in tenders}
        context = _context(
            tenders=[
                t for t in tenders if t.status.value not in {"draft", "published", "closed", "failed", "cancelled"}
            ],
            given=given,
            tender_codes={
                rating.tender_id: by_id[rating.tender_id].project_code
                for rating, _ in given
                if rating.tender_id in by_id
            },
            rules=service.rules,
            errors=errors,
            form=form or {},
            failed="rate" if errors else "",
        )
        return await page(request, "evaluation/pool/ratings.html", context)

    @post("/", name="evaluation.rate", opt=requires(EvaluationPermission.EXPERT_RATE))
    async def rate(
        self,
        *,
        request: Request[Any, Any, Any],
        db_session: NamedDependency[AsyncSession],
        actor: NamedDependency[Actor],
        data: FormBody[RatingForm],
    ) -> Response[Any]:
        async def work() -> object:
            parser = FieldParser()
            code = parser.required("tender_code", data.tender_code, max_length=64)
            name = parser.required("expert_name", data.expert_name, max_length=100)
            suffix = parser.required("id_suffix", data.id_suffix, max_length=4)
            score = parser.integer("score", data.score, required=True, low=-1_000, high=1_000)
            comment = parser.required("comment", data.comment, max_length=1000, single_line=False)
            parser.done()
            return await ExpertRatings(db_session).rate(actor, RatingInput(code, name, suffix, score, comment))

        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=request.app.route_reverse(RATINGS) + "#given",
            refusal=lambda errors: self._page(request, db_session, actor, errors, vars(data)),
        )


CONTROLLERS = (PoolPages, ProfilePages, RatingPages)
