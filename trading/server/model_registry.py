"""Imports every package's models so ``Base.metadata`` is complete (Alembic, mapper configuration)."""

from __future__ import annotations

import bidding.award.models  # registers the award stage's tables
import bidding.award.rule_models  # registers the tenders' published 定标 rules
import bidding.evaluation.models  # registers the evaluation stage's tables
import bidding.evaluation.pool.models  # registers the expert-pool tables
import bidding.integrity.models  # registers the integrity rule versions, alerts, reviews, lot screenings, market state
import bidding.models
import bidding.opening.models  # noqa: F401 - registers the opening tables
import intermediary_market.models  # noqa: F401 - registers the marketplace tables
import procurement.libraries.models  # registers the purchaser, supplier and item-catalogue libraries
import procurement.projects.models  # registers intentions, plans and projects
import procurement.requirements.models  # registers requirements, findings, justifications and reviews
import procurement.rule_catalogue.models  # noqa: F401 - registers the negative-list rule versions
import trading.credit.models  # registers the credit tables
import trading.guarantees.api_store  # registers the guarantor API's nonce and idempotency tables
import trading.guarantees.callbacks  # registers the callback outbox
import trading.guarantees.models  # registers the guarantees tables
import trading.kernel.calendar_versions  # registers the loaded versions of the working-day calendar
import trading.ledger.models  # registers the ledger tables
import trading.parties.models  # registers the parties tables
import trading.parties.pdf_signing  # noqa: F401 - registers the table of PDFs prepared for signing in the page
from trading.kernel.db.base import Base
from trading.notifications import models as notifications_models  # noqa: F401 - registers the inbox and e-mail tables

metadata = Base.metadata
