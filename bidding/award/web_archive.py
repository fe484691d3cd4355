"""The tender's electronic archive, public once the tender is closed (电子档案).

* ``/bidding/tenders/{code}/archive``: every archive version of the closed tender (from its ledger
  entries: version, SHA-256, files, ledger entries, retention), each downloadable, with the command
  that verifies it offline (`python -m bidding.award.verify`). Linked from the tender's public page.
* ``/bidding/tenders/{code}/archive/{sha256}.zip``: the stored bytes (content-addressed: what is
  served is what the ledger entry names).

Nothing before the award is closed: an archive built earlier (``ggzy tender archive`` after the
deadline) may hold the bidders' signed manifests, and who bid is not public before the opening.
"""

from __future__ import annotations

import re
from typing import Any, Final

from litestar import Controller, Request, Response, get
from litestar.di import NamedDependency
from litestar.params import FromPath
from sqlalchemy.ext.asyncio import AsyncSession

from bidding.award import closing, publicity
from bidding.award.archive.builder import ARCHIVES_NAMESPACE
from bidding.award.lookups import tender_of
from bidding.award.states import AwardState
from bidding.models import Tender
from bidding.visibility import Exposure, exposes
from bidding.web.common import attachment
from trading.kernel.errors import NotFound
from trading.kernel.storage import FileStore, open_store
from trading.kernel.web.pages import page

ARCHIVE: Final = "award.archive"
ARCHIVE_FILE: Final = "award.archive_file"
PUBLIC_PATHS: Final = frozenset({"/bidding/tenders/{code}/archive", "/bidding/tenders/{code}/archive/{file}"})
_SHA256_ZIP = re.compile(r"^(?P<sha256>[0-9a-f]{64})\.zip$")


async def _closed_tender(db_session: AsyncSession, code: str) -> Tender:
    """The tender, when one of its awards is closed; else 404 (not archived publicly yet)."""
    tender = await tender_of(db_session, code)
    if not await is_closed(db_session, tender):
        raise NotFound(
            "the tender is not closed: its archive is published when it closes",
            field="code",
            rule="archive_after_close",
        )
    return tender


async def is_closed(db_session: AsyncSession, tender: Tender) -> bool:
    awards = await publicity.awards_of_tender(db_session, tender.id)
    return any(award.state is AwardState.CLOSED for award in awards)


class ArchivePages(Controller):
    path = "/bidding/tenders/{code:str}/archive"
    include_in_schema = False

    @get("", name=ARCHIVE, opt=exposes(Exposure.PUBLIC))
    async def versions(
        self, *, request: Request[Any, Any, Any], code: FromPath[str], db_session: NamedDependency[AsyncSession]
    ) -> Response[Any]:
        """The closed tender's archives, newest first, with how to verify one; before it closes, when
        the archive will be published.
        """
        tender = await tender_of(db_session, code)
        closed = await is_closed(db_session, tender)
        versions = list(reversed(await closing.archives_of(db_session, tender.project_code))) if closed else []
        return await page(request, "award/archive.html", {"tender": tender, "versions": versions, "closed": closed})

    @get("/{file:str}", name=ARCHIVE_FILE, opt=exposes(Exposure.PUBLIC))
    async def download(
        self,
        *,
        request: Request[Any, Any, Any],
        code: FromPath[str],
        file: FromPath[str],
        db_session: NamedDependency[AsyncSession],
    ) -> Response[bytes]:
        """One archive's bytes, as its ledger entry names them (``<sha256>.zip``)."""
        tender = await _closed_tender(db_session, code)
        found = _SHA256_ZIP.match(file)
        known = {v.sha256 for v in await closing.archives_of(db_session, tender.project_code)}
        if found is None or found["sha256"] not in known:
            raise NotFound("no archive of this tender by that name", field="file", rule="exists")
        store = open_store(request.app.state.settings)
        data = await store.read_bytes(FileStore.key_for(ARCHIVES_NAMESPACE, found["sha256"]))
        return attachment(data, f"{tender.project_code}-archive-{found['sha256'][:12]}.zip", "application/zip")


CONTROLLERS: Final = [ArchivePages]
