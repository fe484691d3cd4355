"""``python -m bidding.award.verify ARCHIVE.zip``: check a tender's archive offline.

Standard library and `certs` only (``tests/bidding/award/test_verify_imports.py``), so it runs
anywhere ``certs`` is installed, without the platform, its database or the network. Exit 0 when
every check passes; 1 naming the first failure (and listing the others); 2 for bad arguments.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

from bidding.award.archive.checks import verify_archive


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bidding.award.verify", description="Check a ggzy-archive/1 bundle offline."
    )
    parser.add_argument("archive", type=Path, help="the archive (ZIP)")
    parser.add_argument(
        "--platform-key",
        action="append",
        type=Path,
        default=[],
        help="PEM public key the platform's signatures must be made with (default: the archive's own, reported)",
    )
    parser.add_argument(
        "--trust",
        action="append",
        type=Path,
        default=[],
        help="PEM root certificate(s) the signers' chains must end at (default: the archive's roots, reported)",
    )
    arguments = parser.parse_args(argv)
    try:
        report = verify_archive(
            arguments.archive,
            platform_keys=[path.read_bytes() for path in arguments.platform_key],
            trusted_roots=[path.read_bytes() for path in arguments.trust],
        )
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)  # noqa: T201 - a command-line tool
        return 2
    print(report.text())  # noqa: T201 - a command-line tool
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
