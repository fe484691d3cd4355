"""The structured response inside an opened bid package (``ggzy bid seal --response``)."""

from __future__ import annotations

from collections.abc import Callable, Collection

from bidding.client.format import RESPONSE_FILE
from bidding.evaluation.response.bid import Response, read_response


def response_in_package(names: Collection[str], read: Callable[[str], bytes]) -> Response | None:
    """The response sealed in a package (file `RESPONSE_FILE`), read strictly (`FormatError` with the
    JSON path and rule); None for a package without one — every container sealed before issue 15.
    """
    if RESPONSE_FILE not in names:
        return None
    return read_response(read(RESPONSE_FILE))
