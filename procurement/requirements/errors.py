"""Requirement errors: the kernel's domain errors with the requirements' names, each naming a field and a rule."""

from __future__ import annotations

from trading.kernel.errors import Conflict, NotFound, PermissionDenied, ValidationFailed


class RequirementRefused(ValidationFailed):
    """A part, a justification or a decision breaks a rule (``extra["errors"]`` names every field)."""

    code = "requirement_refused"
    title = "Requirement refused"


class RequirementBlocked(Conflict):
    """An unfixed blocking finding without an approved justification stops submission, approval
    and publication; ``extra["findings"]`` names each (rule, version, field, clause).
    """

    code = "requirement_blocked"
    title = "Blocking findings stop the requirement"


class RequirementState(Conflict):
    """The requirement is not in a state that allows the step."""

    code = "requirement_state"
    title = "The requirement's state does not allow this"


class RequirementNotFound(NotFound):
    code = "requirement_not_found"
    title = "Requirement not found"


class FourEyes(PermissionDenied):
    """The author of a requirement may not review it or approve its justifications."""

    code = "requirement_four_eyes"
    title = "The author cannot review their own requirement"
