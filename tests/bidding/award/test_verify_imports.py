"""The offline verifier imports the standard library and `certs` only (issue 16 item 6): read from
the source of every module ``python -m bidding.award.verify`` loads of ours, and confirmed in a
fresh interpreter that neither the platform nor its database layer is loaded.

(`certs.cms` itself imports two CMS helpers of pyHanko, RFC 5035 signing-certificate-v2 and RFC 6211
algorithm protection, and that loads pyHanko's package; the verifier never calls pyHanko: PDF
signatures are found by `bidding.award.archive.pdfsig` and their CMS checked by `certs`.)"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]
VERIFIER = ("bidding.award.verify", "bidding.award.archive.checks", "bidding.award.archive.chainrule",
            "bidding.award.archive.pdfsig", "bidding.award.archive.format")  # fmt: skip
ALLOWED_OWN = {"bidding", "bidding.award", "bidding.award.archive", *VERIFIER}


def imported(module: str) -> set[str]:
    tree = ast.parse((ROOT / (module.replace(".", "/") + ".py")).read_text())
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names if node.module.startswith("bidding"))
    return names


def test_the_verifier_modules_import_only_the_standard_library_certs_and_each_other() -> None:
    for module in VERIFIER:
        for name in imported(module):
            top = name.split(".")[0]
            own = name in ALLOWED_OWN or name.rsplit(".", 1)[0] in VERIFIER  # a module, or a name of one
            allowed = top in sys.stdlib_module_names or top == "certs" or own
            assert allowed, f"{module} imports {name}: the verifier may use the standard library and certs only"


def test_running_the_verifier_loads_no_platform_module() -> None:
    code = (
        "import sys, bidding.award.verify\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in "
        "{'trading', 'sqlalchemy', 'litestar', 'celery', 'jinja2', 'httpx', 'weasyprint', 'intermediary_market'}"
        " or m in {'bidding.models', 'bidding.award.archive.builder'})\n"
        "print(','.join(bad))\n"
    )
    ran = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert ran.stdout.strip() == "", ran.stdout
