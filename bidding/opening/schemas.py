"""Request bodies of the opening API (``/api/v1/bidding/opening``); answers are plain JSON objects."""

from __future__ import annotations

from typing import Literal

from trading.kernel.bounds import Input


class DecryptionCreate(Input, rename="camel"):
    """A content key the bidder unwrapped on its own machine, for one part of its bid for a lot."""

    lot: str
    part: Literal["price-summary", "package"]
    content_key: str


class TransitionCreate(Input, rename="camel"):
    """The host's move: the next stage, or pause/resume (the running stage's remaining time is kept)."""

    action: Literal["decryption", "price-reading", "confirmation", "closed", "pause", "resume"]
    reason: str = ""


class IncidentCreate(Input, rename="camel"):
    """A platform-side cause of a bidder's failure to decrypt, recorded by the host in the window."""

    lot: str
    bidder: str
    cause: str


class SharesCreate(Input, rename="camel"):
    """A key holder's shares of one bid (base64 per part) and its CAdES signature (base64 DER) over
    `bidding.client.format.share_release_statement`.
    """

    lot: str
    bidder: str
    shares: dict[str, str]
    signature: str


class ObjectionCreate(Input, rename="camel"):
    """An objection's text and the bidder's CAdES signature (base64 DER) over its UTF-8 bytes."""

    text: str
    signature: str


class AnswerCreate(Input, rename="camel"):
    answer: str


class ConfirmationCreate(Input, rename="camel"):
    """The bidder's CAdES signature (base64 DER) over `bidding.client.format.confirmation_statement`."""

    signature: str


class SignInCreate(Input, rename="camel"):
    """The bidder's CAdES signature (base64 DER) over `bidding.client.format.sign_in_statement`."""

    signature: str
