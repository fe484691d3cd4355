"""The intermediary's workspace (``/market/intermediary``): register for open announcements (with
a price where the method needs one), upload the deliverables of the services it was selected for,
and answer blacklisting notices (the response within the period, the appeal after the decision).

A deliverable's bytes go to the file store under their SHA-256 (``deliverables/…``) before the
row naming the digest commits, so a committed digest always finds its file.
"""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath, URLEncodedBody
from litestar.response import Redirect
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import APPEAL_WINDOW, BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.delivery import DeliveryService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import AnnouncementStatus, Registration
from intermediary_market.policies import MarketPermission, assert_own_organisation
from intermediary_market.selection import PRICED_METHODS
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS
from intermediary_market.web.parsing import (
    UNPROCESSABLE,
    Form,
    clean,
    client_error,
    errors_of,
    form_decimal,
    in_savepoint,
)
from intermediary_market.web.paths import INTERMEDIARY
from intermediary_market.web.views import clock_view
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import DomainError, NotFound, ValidationFailed
from trading.kernel.storage import FileStore
from trading.kernel.web.forms import FieldError, read_form
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

MAX_DELIVERABLE_BYTES = 50 * 1024 * 1024
DELIVERABLES = "deliverables"
"""The file store's namespace for deliverables."""
CHOOSE_FILE = N_("Choose a file to upload.")


async def _deliverable(request: Request[Any, Any, Any]) -> bytes:
    form = await read_form(request)
    upload = form.get("file")
    data = await upload.read() if isinstance(upload, UploadFile) and upload.filename else b""
    if not data:
        raise ValidationFailed(CHOOSE_FILE, field="file", rule="required")
    return data


class IntermediaryPages(Controller):
    """The intermediary's workspace."""

    path = INTERMEDIARY
    include_in_schema = False
    dependencies = DEPENDENCIES

    @get("/", name="intermediary_market.intermediary", opt=requires(MarketPermission.REGISTRATION_CREATE))
    async def workspace(
        self,
        *,
        request: Request[Any, Any, Any],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
    ) -> Response[Any]:
        return await self._page(request, market, actor, [])

    @post(
        "/announcements/{announcement_id:uuid}/registrations",
        name="intermediary_market.intermediary_register",
        opt=requires(MarketPermission.REGISTRATION_CREATE),
    )
    async def register(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        form = clean(data)
        try:
            price = form_decimal(form, "price", required=False)
            commitment = form.get("contribution_sha256", "").strip() or None
            await in_savepoint(
                db_session,
                market.register(announcement_id, price=price, actor=actor, contribution_sha256=commitment),
            )
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(
                request, market, actor, errors_of(exc), failed=f"register-{announcement_id}", status_code=UNPROCESSABLE
            )
        return Redirect(f"{INTERMEDIARY}?registered={announcement_id}", status_code=303)

    @post(
        "/announcements/{announcement_id:uuid}/contribution",
        name="intermediary_market.intermediary_reveal",
        opt=requires(MarketPermission.REGISTRATION_CREATE),
    )
    async def reveal(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Reveal the secret committed at registration, after the close (the draw's randomness)."""
        form = clean(data)
        try:
            await in_savepoint(db_session, market.reveal(announcement_id, form.get("contribution", ""), actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(
                request, market, actor, errors_of(exc), failed=f"reveal-{announcement_id}", status_code=UNPROCESSABLE
            )
        return Redirect(f"{INTERMEDIARY}?revealed={announcement_id}", status_code=303)

    @post(
        "/deliveries/{announcement_id:uuid}/deliverable",
        name="intermediary_market.intermediary_deliverable",
        request_max_body_size=MAX_DELIVERABLE_BYTES,
        opt=requires(MarketPermission.DELIVERY_UPLOAD),
    )
    async def upload_deliverable(
        self,
        *,
        request: Request[Any, Any, Any],
        announcement_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        deliveries: NamedDependency[DeliveryService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        state: State,
    ) -> Response[Any]:
        """Upload a deliverable (multipart ``file``): the bytes are stored, their SHA-256 recorded."""
        delivery = await deliveries.repo.delivery(announcement_id)
        if delivery is None:
            raise NotFound("no contract has been filed", field="announcement_id", rule="contract_filed")
        assert_own_organisation(actor, delivery.organisation_id, "upload the deliverables")
        try:
            data = await _deliverable(request)
            digest = hashlib.sha256(data).hexdigest()
            if delivery.completed_at is None:  # the service refuses a completed one; store nothing then
                store = FileStore(state.settings.storage_dir)
                await anyio.to_thread.run_sync(store.put, DELIVERABLES, digest, data)
            await in_savepoint(db_session, deliveries.upload_deliverable(announcement_id, digest, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(
                request,
                market,
                actor,
                errors_of(exc),
                failed=f"deliverable-{announcement_id}",
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{INTERMEDIARY}?uploaded={announcement_id}", status_code=303)

    @post(
        "/blacklistings/{blacklisting_id:uuid}/response",
        name="intermediary_market.intermediary_blacklist_response",
        opt=requires(MarketPermission.BLACKLIST_RESPOND),
    )
    async def respond(
        self,
        *,
        request: Request[Any, Any, Any],
        blacklisting_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Answer a blacklisting notice within its response period."""
        form = clean(data)
        try:
            response = form.get("response", "").strip()
            if not response:
                raise ValidationFailed("the response states the intermediary's case", field="response", rule="required")
            await in_savepoint(db_session, blacklist.respond_blacklisting(blacklisting_id, response, actor=actor))
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(
                request,
                market,
                actor,
                errors_of(exc),
                failed=f"response-{blacklisting_id}",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{INTERMEDIARY}#blacklistings", status_code=303)

    @post(
        "/blacklistings/{blacklisting_id:uuid}/appeal",
        name="intermediary_market.intermediary_blacklist_appeal",
        opt=requires(MarketPermission.BLACKLIST_RESPOND),
    )
    async def appeal(
        self,
        *,
        request: Request[Any, Any, Any],
        blacklisting_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        blacklist: NamedDependency[BlacklistService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Appeal an effective listing within the appeal window."""
        form = clean(data)
        try:
            await in_savepoint(
                db_session, blacklist.appeal_blacklisting(blacklisting_id, form.get("appeal", ""), actor=actor)
            )
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(
                request,
                market,
                actor,
                errors_of(exc),
                failed=f"appeal-{blacklisting_id}",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{INTERMEDIARY}#blacklistings", status_code=303)

    @post(
        "/complaints/{complaint_id:uuid}/response",
        name="intermediary_market.intermediary_complaint_response",
        opt=requires(MarketPermission.COMPLAINT_RESPOND),
    )
    async def answer_complaint(
        self,
        *,
        request: Request[Any, Any, Any],
        complaint_id: FromPath[uuid.UUID],
        market: NamedDependency[MarketService],
        actor: NamedDependency[Actor],
        db_session: NamedDependency[AsyncSession],
        data: URLEncodedBody[Form],
    ) -> Response[Any]:
        """Answer a complaint about the intermediary before the regulator decides it."""
        form = clean(data)
        try:
            await in_savepoint(
                db_session, ComplaintService(db_session).respond(complaint_id, form.get("response", ""), actor=actor)
            )
        except DomainError as exc:
            if not client_error(exc):
                raise
            return await self._page(
                request,
                market,
                actor,
                errors_of(exc),
                failed=f"complaint-{complaint_id}",
                form=form,
                status_code=UNPROCESSABLE,
            )
        return Redirect(f"{INTERMEDIARY}#complaints", status_code=303)

    async def _page(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        actor: Actor,
        errors: list[FieldError],
        *,
        failed: str = "",
        form: Form | None = None,
        status_code: int = 200,
    ) -> Response[Any]:
        session = market.session
        now = await clock.now(session)
        open_ones = list(await market.announcements(status=AnnouncementStatus.OPEN))
        registered: dict[uuid.UUID, Registration] = {}
        own = actor.organisation_id
        for announcement in open_ones:
            row = await market.repo.registration(announcement.id, own) if own is not None else None
            if row is not None:
                registered[announcement.id] = row
        assigned = await market.repo.deliveries_of(own) if own is not None else []
        notices = list(await market.repo.blacklistings(own)) if own is not None else []
        complaints = [c for c in await market.repo.complaints() if own is not None and c.organisation_id == own]
        names = await market.repo.organisation_names((a.owner_organisation_id for _, a in assigned))
        return await page(
            request,
            "intermediary_market/intermediary.html",
            {
                "announcements": open_ones,
                "registered": registered,
                "priced": PRICED_METHODS,
                "deliveries": [(d, a, clock_view(d, now)) for d, a in assigned],
                "blacklistings": notices,
                "complaints": complaints,
                "appeal_window": APPEAL_WINDOW,
                "names": names,
                "now": now,
                "errors": errors,
                "failed": failed,
                "form": form or {},
                **CONTEXT_LABELS,
            },
            status_code=status_code,
        )
