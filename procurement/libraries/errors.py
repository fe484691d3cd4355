"""The libraries' refusals: the kernel's domain errors with the libraries' names."""

from __future__ import annotations

from trading.kernel.errors import PermissionDenied, ValidationFailed


class LibraryImportRefused(ValidationFailed):
    """A library file with bad rows, refused whole; ``extra["errors"]`` names every row, field and rule."""

    code = "procurement_library_import_refused"
    title = "Library import refused"


class SupplierRefused(PermissionDenied):
    """A credit record bars the supplier from government procurement; ``extra["records"]`` names
    each record's reason and period.
    """

    code = "procurement_supplier_refused"
    title = "Supplier barred by a credit record"
