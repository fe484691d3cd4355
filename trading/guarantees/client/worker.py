"""One pass of the guarantor's work, and the loop: decide the queue by the approval policy, issue what is
paid, answer claims by the claim policy, acknowledge releases. Each step is logged (numbers, never keys or
file contents); a refusal of one item is logged and the pass goes on with the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from certs.cms import SigningIdentity
from certs.tsa.client import TsaTransport
from trading.guarantees.client.issuer import IssuerFacts, issue_upload
from trading.guarantees.client.platform import Platform, PlatformRefused

log = logging.getLogger("guarantor.client")

STATUTORY_TRIGGERS = frozenset(
    {"withdrawal_after_deadline", "decryption_failure", "refused_to_sign", "no_performance_security"}
)
"""A claim citing one of these (domain rules §6.1) is paid automatically when the policy says so."""


@dataclass(frozen=True)
class Policy:
    approve_up_to: Decimal | None = None
    """Approve applications up to this amount (yuan); larger ones are refused. None: approve all."""
    pay_statutory_claims: bool = True
    """Pay a claim citing a statutory trigger; otherwise claims wait for ``answer-claim``."""


@dataclass
class Tally:
    approved: list[str] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    issued: list[str] = field(default_factory=list)
    claims_answered: list[str] = field(default_factory=list)
    releases_acknowledged: list[str] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


@dataclass
class Guarantor:
    platform: Platform
    identity: SigningIdentity
    issuer: IssuerFacts
    tsa: TsaTransport
    policy: Policy

    async def once(self) -> Tally:
        tally = Tally()
        for item in await self.platform.get("/applications", {"status": "applied,paid"}):
            number = item["application_no"]
            try:
                await self._application(number, item, tally)
            except PlatformRefused as refused:
                log.warning("application %s refused by the platform: %s", number, refused)
                tally.failures.append(number)
        for claim in await self.platform.get("/claims", {"status": "filed"}):
            if self.policy.pay_statutory_claims and claim["trigger"] in STATUTORY_TRIGGERS:
                await self.answer_claim(claim["claim_id"], pay=True, answer=_answer(claim))
                tally.claims_answered.append(claim["claim_id"])
        for release in await self.platform.get("/releases", {"status": "pending"}):
            number = release["guarantee_no"]
            await self.platform.post(f"/releases/{number}/acknowledge", {}, idempotency_key=f"ack-{number}")
            log.info("release of %s acknowledged (%s)", number, release["reason"])
            tally.releases_acknowledged.append(number)
        return tally

    async def _application(self, number: str, item: dict[str, Any], tally: Tally) -> None:
        if item["status"] == "applied":
            limit = self.policy.approve_up_to
            if limit is not None and Decimal(str(item["amount"])) > limit:
                await self.platform.post(
                    f"/applications/{number}/decision",
                    {"decision": "refuse", "reason": f"金额超过本机构自动审批上限 {limit} 元"},
                    idempotency_key=f"decide-{number}",
                )
                log.info("application %s refused (amount %s over %s)", number, item["amount"], limit)
                tally.refused.append(number)
                return
            await self.platform.post(
                f"/applications/{number}/decision", {"decision": "approve"}, idempotency_key=f"decide-{number}"
            )
            log.info("application %s approved", number)
            tally.approved.append(number)
        detail = await self.platform.get(f"/applications/{number}")
        if detail["status"] != "paid":
            return
        body = await issue_upload(detail, self.issuer, self.identity, self.tsa)
        recorded = await self.platform.post(
            f"/applications/{number}/guarantee", body, idempotency_key=f"issue-{number}-{body['guarantee_no']}"
        )
        log.info(
            "guarantee %s issued for %s (code %s)", recorded["guarantee_no"], number, recorded["verification_code"]
        )
        tally.issued.append(recorded["guarantee_no"])

    async def answer_claim(self, claim_id: str, *, pay: bool, answer: str) -> dict[str, Any]:
        result: dict[str, Any] = await self.platform.post(
            f"/claims/{claim_id}/answer", {"pay": pay, "answer": answer}, idempotency_key=f"answer-{claim_id}"
        )
        log.info("claim %s answered: %s", claim_id, "paid" if pay else "rejected")
        return result

    async def run(self, poll_seconds: float, stop: asyncio.Event) -> None:
        """Poll until ``stop`` is set; a pass that fails (platform down) is logged and retried next time."""
        while not stop.is_set():
            try:
                tally = await self.once()
                if tally.issued or tally.refused or tally.claims_answered or tally.releases_acknowledged:
                    log.info(
                        "pass: %d issued, %d refused, %d claims answered, %d releases acknowledged",
                        len(tally.issued),
                        len(tally.refused),
                        len(tally.claims_answered),
                        len(tally.releases_acknowledged),
                    )
            except Exception as exc:  # noqa: BLE001 - the loop outlives a bad pass; the cause is logged
                log.warning("pass failed: %s: %s", type(exc).__name__, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=poll_seconds)


def _answer(claim: dict[str, Any]) -> str:
    return f"受益人索赔理由属法定情形（{claim['trigger']}），经审核依保函约定赔付 {claim['amount']} 元。"
