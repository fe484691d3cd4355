"""Ledger refusals. Each carries its HTTP meaning through the kernel's domain errors."""

from __future__ import annotations

from trading.kernel.errors import DomainError, ValidationFailed


class LedgerFieldInvalid(ValidationFailed):
    """An entry field the ledger cannot record as given (wrong shape, control characters, too long)."""

    code = "ledger_field_invalid"


class LedgerDataNotCanonical(ValidationFailed):
    """``data`` or ``summary`` holds a value without a single canonical JSON encoding."""

    code = "ledger_data_not_canonical"


class LedgerCursorInvalid(ValidationFailed):
    code = "ledger_cursor_invalid"


class LedgerEncodingMismatch(DomainError):
    """The database's hash of an entry differs from the reference encoding: a bug, never input."""

    status_code = 500
    code = "ledger_encoding_mismatch"
    title = "Ledger encoding mismatch"


class SigningKeyUnusable(DomainError):
    """The platform signing key cannot be loaded: checkpoints cannot be signed or checked."""

    status_code = 500
    code = "ledger_signing_key_unusable"
    title = "Signing key unusable"


class LedgerChainDamaged(DomainError):
    """A chain's entries do not end where its head says: no checkpoint is signed over damage."""

    status_code = 500
    code = "ledger_chain_damaged"
    title = "Ledger chain damaged"


class CheckpointFileInvalid(ValidationFailed):
    """An outsider's checkpoint copy (``CHECKPOINT.json``) that cannot be read as one."""

    code = "ledger_checkpoint_file_invalid"
