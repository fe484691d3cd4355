"""The layers of DESIGN.md hold: import-linter's contracts (pyproject.toml) are all kept."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_import_linter_contracts_are_kept() -> None:
    result = subprocess.run(
        [str(Path(sys.executable).with_name("lint-imports"))],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "0 broken" in result.stdout


def test_packages_init_modules_hold_no_code() -> None:
    """Package ``__init__`` modules are docstrings only, so importing a low layer never pulls a
    higher one in (certs/__init__ is the library's facade and may import its own submodules)."""
    offenders = []
    for init in sorted((ROOT / "trading").rglob("__init__.py")):
        body = [
            line
            for line in init.read_text().splitlines()
            if line.strip() and not line.lstrip().startswith(("#", '"""', "'''"))
        ]
        code = [line for line in body if line.startswith(("import ", "from ", "def ", "class "))]
        if code:
            offenders.append(str(init.relative_to(ROOT)))
    assert offenders == []
