"""Public verification of a guarantee by its code (or the QR code printed on it): the page
``/guarantees/verify`` (a form; ``/guarantees/verify/{code}`` for the QR link) and the API
``GET /api/v1/guarantees/verify/{code}``. Anyone may ask, without signing in; both reveal only
what ``service.PublicGuarantee`` holds (number, kind, issuer, applicant, beneficiary, project,
lot, amount, currency, validity, status) and are rate-limited per client address, so codes cannot
be tried in bulk.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import msgspec
from litestar import Controller, Request, get
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Template
from litestar.status_codes import HTTP_404_NOT_FOUND
from sqlalchemy.ext.asyncio import AsyncSession

from trading.guarantees.models import GuaranteeKind, GuaranteeStatus
from trading.guarantees.service import PublicGuarantee, verify_code
from trading.kernel.api.errors import documents_problems
from trading.kernel.errors import NotFound
from trading.kernel.ratelimit import throttle
from trading.kernel.web.i18n import N_
from trading.kernel.web.pages import page

PAGE = "/guarantees/verify"
PAGE_CODE = "/guarantees/verify/{code}"
API = "/api/v1/guarantees/verify/{code}"
PUBLIC_PATHS = frozenset({PAGE, PAGE_CODE, API})
THROTTLE = "guarantee_verification"
MAX_CODE = 64

NOT_FOUND = N_("No such guarantee on this platform — it may be forged.")
KIND_LABELS = {
    GuaranteeKind.BID: N_("Bid guarantee"),
    GuaranteeKind.PERFORMANCE: N_("Performance guarantee"),
    GuaranteeKind.ADVANCE_PAYMENT: N_("Advance payment guarantee"),
    GuaranteeKind.QUALITY: N_("Quality guarantee"),
}
STATUS_LABELS = {
    GuaranteeStatus.ISSUED: N_("Issued, not yet verified"),
    GuaranteeStatus.VERIFIED: N_("Verified by the platform"),
    GuaranteeStatus.CLAIMED: N_("Claimed"),
    GuaranteeStatus.PAID_OUT: N_("Paid out"),
    GuaranteeStatus.RELEASED: N_("Released (cancelled)"),
    GuaranteeStatus.EXPIRED: N_("Expired (validity ended)"),
}


class GuaranteeVerificationRead(msgspec.Struct):
    """What anyone may learn of a guarantee from its verification code: nothing more."""

    guarantee_no: str
    kind: GuaranteeKind
    issuer: str
    applicant: str
    beneficiary: str
    project_code: str
    lot_code: str
    lot_name: str
    amount: Decimal
    currency: str
    valid_from: date
    valid_until: date
    status: GuaranteeStatus

    @classmethod
    def of(cls, found: PublicGuarantee) -> GuaranteeVerificationRead:
        return cls(**{name: getattr(found, name) for name in cls.__struct_fields__})


async def _lookup(db_session: AsyncSession, code: str) -> PublicGuarantee | None:
    return await verify_code(db_session, code[:MAX_CODE])


class VerificationPages(Controller):
    path = "/guarantees"
    include_in_schema = False
    guards = [throttle(THROTTLE)]

    @get("/verify", name="guarantees.verify")
    async def form(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], code: FromQuery[str] = ""
    ) -> Template:
        """The form; with ``?code=`` the answer under it."""
        return await self._answer(request, db_session, code)

    @get("/verify/{code:str}", name="guarantees.verify_code")
    async def by_code(
        self, request: Request[Any, Any, Any], db_session: NamedDependency[AsyncSession], code: FromPath[str]
    ) -> Template:
        """The QR code's link: the answer for the code in the path."""
        return await self._answer(request, db_session, code)

    @staticmethod
    async def _answer(request: Request[Any, Any, Any], db_session: AsyncSession, code: str) -> Template:
        asked = code.strip()
        found = await _lookup(db_session, asked) if asked else None
        context = {
            "code": asked[:MAX_CODE],
            "asked": bool(asked),
            "found": found,
            "not_found": NOT_FOUND,
            "kind_labels": KIND_LABELS,
            "status_labels": STATUS_LABELS,
        }
        return await page(
            request, "guarantees/verify.html", context, status_code=HTTP_404_NOT_FOUND if asked and not found else 200
        )


class VerificationApi(Controller):
    path = "/guarantees"
    tags = ["guarantees"]
    guards = [throttle(THROTTLE)]

    @get(
        "/verify/{code:str}",
        operation_id="guarantees_verify",
        opt=documents_problems(HTTP_404_NOT_FOUND, 429),
    )
    async def verify(self, code: FromPath[str], db_session: NamedDependency[AsyncSession]) -> GuaranteeVerificationRead:
        """Is this a guarantee issued on the platform, and what is its status? Public, rate-limited.
        Answers only the guarantee number, kind, issuer, applicant, beneficiary, project, lot,
        amount, currency, validity and status; an unknown code is a 404 (it may be forged).
        """
        found = await _lookup(db_session, code)
        if found is None:
            raise NotFound("no such guarantee on this platform — it may be forged", field="code", rule="exists")
        return GuaranteeVerificationRead.of(found)


PAGE_CONTROLLERS = (VerificationPages,)
API_CONTROLLERS = (VerificationApi,)
