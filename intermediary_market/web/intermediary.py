"""The intermediary's workspace (``/market/intermediary``): register for open announcements (with
a price where the method needs one), upload the deliverables of the services it was selected for,
and answer blacklisting notices (the response within the period, the appeal after the decision).

A deliverable's bytes go to the file store under their SHA-256 (``deliverables/…``) before the
row naming the digest commits, so a committed digest always finds its file.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from litestar import Controller, Request, Response, get, post
from litestar.datastructures import State, UploadFile
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from intermediary_market.blacklist import APPEAL_WINDOW, BlacklistService
from intermediary_market.complaints import ComplaintService
from intermediary_market.delivery import DeliveryService
from intermediary_market.deps import DEPENDENCIES
from intermediary_market.models import AnnouncementStatus, Registration
from intermediary_market.policies import MarketPermission, assert_own_organisation
from intermediary_market.selection import PRICED_METHODS
from intermediary_market.service import MarketService
from intermediary_market.web.labels import CONTEXT_LABELS, LABELS
from intermediary_market.web.parsing import MarketFields, path
from intermediary_market.web.paths import INTERMEDIARY
from intermediary_market.web.views import clock_view
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.auth.permissions import requires
from trading.kernel.errors import NotFound, ValidationFailed
from trading.kernel.storage import open_store
from trading.kernel.web.forms import FieldError, FormBody, read_form, submit
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

MAX_DELIVERABLE_BYTES = 50 * 1024 * 1024
DELIVERABLES = "deliverables"
"""The file store's namespace for deliverables."""
CHOOSE_FILE = N_("Choose a file to upload.")
WORKSPACE = "intermediary_market.intermediary"


@dataclass
class RegistrationForm:
    price: str = ""
    contribution_sha256: str = ""


@dataclass
class RevealForm:
    contribution: str = ""


@dataclass
class ResponseForm:
    response: str = ""


@dataclass
class AppealForm:
    appeal: str = ""


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

    @get("/", name=WORKSPACE, opt=requires(MarketPermission.REGISTRATION_CREATE))
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
        data: FormBody[RegistrationForm],
    ) -> Response[Any]:
        async def work() -> Registration:
            fields = MarketFields()
            price = fields.money("price", data.price, required=False)
            fields.done()
            commitment = data.contribution_sha256.strip() or None
            return await market.register(announcement_id, price=price, actor=actor, contribution_sha256=commitment)

        return await self._submit(
            request,
            db_session,
            market,
            actor,
            work,
            f"register-{announcement_id}",
            {},
            f"?registered={announcement_id}",
        )

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
        data: FormBody[RevealForm],
    ) -> Response[Any]:
        """Reveal the secret committed at registration, after the close (the draw's randomness)."""

        async def work() -> Registration:
            return await market.reveal(announcement_id, data.contribution, actor=actor)

        return await self._submit(
            request, db_session, market, actor, work, f"reveal-{announcement_id}", {}, f"?revealed={announcement_id}"
        )

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

        async def work() -> object:
            data = await _deliverable(request)
            digest = hashlib.sha256(data).hexdigest()
            if delivery.completed_at is None:  # the service refuses a completed one; store nothing then
                store = open_store(state.settings)
                await anyio.to_thread.run_sync(store.put, DELIVERABLES, digest, data)
            return await deliveries.upload_deliverable(announcement_id, digest, actor=actor)

        return await self._submit(
            request,
            db_session,
            market,
            actor,
            work,
            f"deliverable-{announcement_id}",
            {},
            f"?uploaded={announcement_id}",
        )

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
        data: FormBody[ResponseForm],
    ) -> Response[Any]:
        """Answer a blacklisting notice within its response period."""

        async def work() -> object:
            fields = MarketFields()
            response = fields.required("response", data.response, single_line=False)
            fields.done()
            return await blacklist.respond_blacklisting(blacklisting_id, response, actor=actor)

        return await self._submit(
            request, db_session, market, actor, work, f"response-{blacklisting_id}", vars(data), "#blacklistings"
        )

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
        data: FormBody[AppealForm],
    ) -> Response[Any]:
        """Appeal an effective listing within the appeal window."""

        async def work() -> object:
            return await blacklist.appeal_blacklisting(blacklisting_id, data.appeal, actor=actor)

        return await self._submit(
            request, db_session, market, actor, work, f"appeal-{blacklisting_id}", vars(data), "#blacklistings"
        )

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
        data: FormBody[ResponseForm],
    ) -> Response[Any]:
        """Answer a complaint about the intermediary before the regulator decides it."""

        async def work() -> object:
            return await ComplaintService(db_session).respond(complaint_id, data.response, actor=actor)

        return await self._submit(
            request, db_session, market, actor, work, f"complaint-{complaint_id}", vars(data), "#complaints"
        )

    # --- submitting and rendering ----------------------------------------------------------------

    async def _submit(  # noqa: PLR0917 - the workspace's one form path
        self,
        request: Request[Any, Any, Any],
        db_session: AsyncSession,
        market: MarketService,
        actor: Actor,
        work: Callable[[], Awaitable[object]],
        failed: str,
        form: dict[str, str],
        then: str,
    ) -> Response[Any]:
        """A form of the workspace: back to it (303, ``then`` is the query or fragment), or the
        workspace with the refusal next to the form named ``failed`` (422).
        """
        return await submit(
            db_session,
            work,
            labels=LABELS,
            redirect=path(request, WORKSPACE) + then,
            refusal=lambda errors: self._page(request, market, actor, errors, failed=failed, form=form),
        )

    async def _page(
        self,
        request: Request[Any, Any, Any],
        market: MarketService,
        actor: Actor,
        errors: list[FieldError],
        *,
        failed: str = "",
        form: dict[str, str] | None = None,
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
        )
