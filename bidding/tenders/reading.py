"""Reading tenders: the detail view, the search, downloads (recorded, sealed until the deadline)
and, after the deadline, who downloaded.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from bidding.errors import SealedUntilDeadline, TenderStateConflict
from bidding.models import (
    DocumentDownload,
    Tender,
    TenderCategory,
    TenderDocument,
    TenderStatus,
)
from bidding.repository.tenders import decode_cursor, encode_cursor
from bidding.tenders.base import DOWNLOADABLE, SEARCH_LIMIT_MAX, TenderBase, TenderView
from bidding.visibility import may_list_bidders
from trading.kernel import clock
from trading.kernel.auth.identity import Actor
from trading.kernel.db.types import uuid7
from trading.kernel.errors import NotFound, PermissionDenied
from trading.kernel.storage import ServedFile
from trading.parties.models import Organisation
from trading.parties.repository import OrganisationRepository

OWNED_LIMIT = 500
"""The management list shows at most this many tenders (newest first)."""


@dataclass(frozen=True)
class Downloader:
    organisation_id: uuid.UUID
    name: str
    uscc: str
    downloads: int
    first_download_at: datetime


@dataclass(frozen=True)
class SearchPage:
    items: list[Tender]
    next_cursor: str | None


class TenderReading(TenderBase):
    """Detail, search, published documents, downloads and who downloaded."""

    async def detail(self, code: str, actor: Actor) -> TenderView:
        """A tender with its lots and documents: published ones for everybody; a draft (and its
        unpublished documents) only for the tenderee and its agency.
        """
        tender = await self.tender(code)
        owner = self.owns(actor, tender)
        if tender.status is TenderStatus.DRAFT and not owner:
            raise NotFound("no such tender", field="code", rule="exists")
        documents = await self.repo.documents(tender.id, published_only=not owner)
        return TenderView(tender, await self.repo.lots(tender.id), documents)

    async def owned(self, actor: Actor, *, limit: int = OWNED_LIMIT) -> list[Tender]:
        """The tenders the actor's organisation runs: its own as tenderee, and those it runs as the
        agency of a tenderee (and, for a tenderee, those an agency runs for it); drafts included.
        """
        if actor.organisation_id is None:
            return []
        return await self.repo.owned_by(actor.organisation_id, limit=limit)

    async def parties_of(self, tenders: Sequence[Tender]) -> dict[uuid.UUID, Organisation]:
        """The tenderees and agencies of ``tenders`` by id (one query)."""
        ids = [t.tenderee_organisation_id for t in tenders]
        ids += [t.agency_organisation_id for t in tenders if t.agency_organisation_id is not None]
        return await OrganisationRepository(self.session).by_ids(ids)

    async def search(
        self,
        actor: Actor,
        *,
        q: str | None = None,
        status: TenderStatus | None = None,
        category: TenderCategory | None = None,
        limit: int = 20,
        cursor: str | None = None,
    ) -> SearchPage:
        """Published (and later) tenders, newest first; drafts only of the caller's organisation."""
        limit = max(1, min(limit, SEARCH_LIMIT_MAX))
        rows = await self.repo.search(
            organisation_id=actor.organisation_id,
            q=(q or "").strip() or None,
            status=status,
            category=category,
            limit=limit + 1,
            after=decode_cursor(cursor) if cursor else None,
        )
        page = rows[:limit]
        return SearchPage(page, encode_cursor(page[-1]) if len(rows) > limit else None)

    # --- downloads -------------------------------------------------------------------------------

    async def document(self, tender: Tender, document_id: uuid.UUID) -> TenderDocument:
        document = await self.repo.document(tender.id, document_id)
        if document is None or document.published_at is None:
            raise NotFound("no such published document", field="document_id", rule="exists")
        return document

    async def download_document(
        self, actor: Actor, code: str, document_id: uuid.UUID
    ) -> tuple[TenderDocument, ServedFile]:
        """What the API and the pages serve for a document download: the document, its download
        recorded (:meth:`download`), and where its bytes are.
        """
        tender = await self.tender(code)
        document = await self.document(tender, document_id)
        _, served = await self.download(actor, tender, document)
        return document, served

    async def download(
        self, actor: Actor, tender: Tender, document: TenderDocument
    ) -> tuple[DocumentDownload, ServedFile]:
        """Record a bidder's download (row and sealed ledger entry) and return where the bytes are."""
        if actor.organisation_id is None or actor.user_id is None:
            raise PermissionDenied("a download is recorded against an organisation", rule="organisation")
        if tender.status not in DOWNLOADABLE:
            raise TenderStateConflict("the tender's documents are not available", field="status", rule="published_only")
        if document.tender_id != tender.id or document.published_at is None:
            raise NotFound("no such published document", field="document_id", rule="exists")
        now = await clock.now(self.session)
        row = DocumentDownload(
            id=uuid7(),
            document_id=document.id,
            tender_id=tender.id,
            organisation_id=actor.organisation_id,
            user_id=actor.user_id,
            client_ip=(actor.client_ip or None),
            downloaded_at=now,
        )
        self.session.add(row)
        await self.session.flush()
        # Sealed: the entry's actor alone would tell who downloaded (Order 20 Art. 21).
        await self._record(
            actor,
            "document_downloaded",
            tender,
            summary={"document_id": str(document.id), "sha256": document.sha256},
            data={"organisation_id": str(actor.organisation_id), "download_id": str(row.id)},
            sealed=True,
        )
        return row, await self.store.served_file(document.storage_key)

    def signature_of(self, document: TenderDocument) -> bytes:
        return document.signature

    async def downloads(self, actor: Actor, tender: Tender) -> list[Downloader] | SealedUntilDeadline:
        """Who downloaded, with counts, once the deadline has passed.

        Before it the answer is a `SealedUntilDeadline` *returned* after the refusal is recorded
        (``bidding.downloads_list_refused``, on the visible project chain: the attempt is not a
        secret), so the caller's transaction commits the record; the API turns it into a 403.
        """
        if not may_list_bidders(actor, tenderee=tender.tenderee_organisation_id, agency=tender.agency_organisation_id):
            raise PermissionDenied(
                "only the tenderee, its agency and the supervisors see who downloaded", field="code", rule="owner"
            )
        now = await clock.now(self.session)
        revealed = (
            tender.status in {TenderStatus.CLOSED, TenderStatus.OPENING, TenderStatus.FAILED}
            and tender.deadline is not None
            and now >= tender.deadline
        )
        if not revealed:
            await self._record(
                actor,
                "downloads_list_refused",
                tender,
                summary={"rule": "sealed_until_deadline", "status": tender.status.value},
            )
            return SealedUntilDeadline(
                "who downloaded the documents is secret until the bid deadline (Order 20 Art. 21)",
                field="code",
                rule="sealed_until_deadline",
            )
        return [Downloader(*row) for row in await self.repo.downloaders(tender.id)]
