"""Credit errors: the kernel's domain errors with credit's names. Each names a field and a rule."""

from __future__ import annotations

from trading.kernel.errors import PermissionDenied, ValidationFailed


class Ineligible(PermissionDenied):
    """An effective credit record bars the organisation from the activity; ``extra["records"]``
    lists each blocking record with its reason and period.
    """

    code = "credit_ineligible"
    title = "Barred by a credit record"


class CreditRecordRefused(ValidationFailed):
    """A record a source publishes breaks a rule (an empty reason, an end before the start …)."""

    code = "credit_record_refused"
    title = "Credit record refused"


class CreditImportRefused(ValidationFailed):
    """An import with bad rows, refused whole; ``extra["errors"]`` names every row and field."""

    code = "credit_import_refused"
    title = "Credit import refused"
