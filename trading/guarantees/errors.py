"""Guarantee errors: the kernel's domain errors with this package's names. Each names a field and a rule."""

from __future__ import annotations

from trading.kernel.errors import Conflict, ValidationFailed


class GuaranteeRefused(ValidationFailed):
    """Input breaks a rule (an amount with three decimals, a validity ending before it starts …);
    ``extra["errors"]`` names every field when several are wrong.
    """

    code = "guarantee_refused"
    title = "Guarantee request refused"


class GuaranteeStateError(Conflict):
    """The record is not in a state that allows the change (issuing a refused application …)."""

    code = "guarantee_state"
    title = "Guarantee not in the right state"


class GuaranteeAlreadyUsed(Conflict):
    """The guarantee already secures another bid: one guarantee serves one bid."""

    code = "guarantee_already_used"
    title = "Guarantee already used by another bid"
