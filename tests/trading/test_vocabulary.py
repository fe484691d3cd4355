"""Every code the platform shows people has words in Chinese and English.

Walks the code base for what it can refuse or record (ledger actions appended anywhere, domain
error classes, refusal rule codes, certificate refusal reasons) and fails when one has no label
in its table, or when the label has no zh_CN translation. English is the label itself (the source
string), so "has a label" is "has English".
"""

from __future__ import annotations

from babel.messages.catalog import Catalog

from tests.trading import code_scan
from trading.credit.models import CreditStatus
from trading.kernel.web import catalogue
from trading.ledger import actions

# Codes built from an enum's values, which the scan cannot read from a literal.
_FROM_ENUMS = {f"credit.record_{status.value}" for status in CreditStatus}
_KNOWN_DYNAMIC = {"trading/credit/service.py"}


def _zh() -> Catalog:
    return catalogue.load_catalogue("zh_CN")


def _untranslated(labels: dict[str, str], zh: Catalog) -> list[str]:
    missing = []
    for code, english in sorted(labels.items()):
        entry = zh.get(english)
        if entry is None or entry.fuzzy or not entry.string or entry.string == english:
            missing.append(f"{code}: {english!r}")
    return missing


def test_every_ledger_action_appended_anywhere_has_a_label() -> None:
    found, unresolved = code_scan.ledger_actions()
    unexplained = [where for where in unresolved if where.split(":", 1)[0] not in _KNOWN_DYNAMIC]
    assert not unexplained, f"action codes the scan cannot resolve (name them literally): {unexplained}"
    used = found | _FROM_ENUMS
    assert {"parties.login_succeeded", "bidding.bid_submitted", "intermediary_market.selection_decided"} <= used
    unlabelled = sorted(used - set(actions.ACTION_LABELS))
    assert not unlabelled, f"ledger actions without a label in trading/ledger/actions.py: {unlabelled}"


def test_every_ledger_label_has_a_chinese_translation() -> None:
    zh = _zh()
    tables = {**actions.ACTION_LABELS, **{f"subject:{k}": v for k, v in actions.SUBJECT_LABELS.items()}}
    tables |= {f"summary:{k}": v for k, v in actions.SUMMARY_LABELS.items() if v != "SHA-256"}
    missing = _untranslated(tables, zh)
    assert not missing, "ledger labels without a zh_CN translation:\n" + "\n".join(missing)
