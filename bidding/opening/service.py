"""The opening hall's requests (开标, Order 20 Art. 29–32), one part per responsibility
(`bidding.opening.services`): the host's transitions, pause and incidents (`host`), the bidders'
sign-in (`attendance`), online decryption and the backup channel (`decryption`), the key holders'
escrow (`escrow`), objections and confirmations (`objections`), and the hall's view (`hall`).

The state machine they drive (stages, the window's end) is `bidding.opening.stages`, shared with
the sweep (`bidding.opening.jobs`); what is read from it is `bidding.opening.readings`; the SQL is
`bidding.opening.repository`. The database clock decides every window; the host (the tender's
agency, else the tenderee) moves the stages that wait for a person.

Unlike most services, the parts open their own short units of work (`services.base`): opening a
package is file and crypto work that no transaction should span, decryptions share a group commit
(`services.decrypting`), and a refusal is recorded in the ledger in a transaction of its own before
it is answered (the refused request's own transaction rolls back). Every change appends a ledger
entry on the project chain and publishes a small event after commit (`bidding.opening.events`).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from bidding.opening.services.attendance import Attendance
from bidding.opening.services.decrypting import Decryptions
from bidding.opening.services.escrow import KeyEscrow
from bidding.opening.services.hall import HallView
from bidding.opening.services.host import HostActions
from bidding.opening.services.objections import Objections
from trading.kernel.settings import Settings
from trading.kernel.storage import Store


class OpeningService:
    """The opening hall for hosts, bidders, key holders and viewers: one per application, because
    its decryptions share transactions (`Decryptions`' group commit).
    """

    def __init__(self, session_maker: async_sessionmaker[AsyncSession], settings: Settings, store: Store) -> None:
        self.session_maker = session_maker
        self.host = HostActions(session_maker, settings, store)
        self.attendance = Attendance(session_maker, settings, store)
        self.decryption = Decryptions(session_maker, settings, store)
        self.escrow = KeyEscrow(session_maker, settings, store)
        self.objections = Objections(session_maker, settings, store)
        self.hall = HallView(session_maker, settings, store)
