"""Every code the platform shows people has words in Chinese and English.

Walks the code base for what it can refuse or record (ledger actions appended anywhere, domain
error classes, refusal rule codes, certificate refusal reasons) and fails when one has no label
in its table, or when the label has no zh_CN translation. English is the label itself (the source
string), so "has a label" is "has English".
"""

from __future__ import annotations

import importlib
import pkgutil

from babel.messages.catalog import Catalog

from certs.errors import Reason
from tests.trading import code_scan
from trading.credit.models import CreditStatus
from trading.guarantees.verify import GuaranteeReason
from trading.kernel.errors import DomainError
from trading.kernel.web import catalogue, i18n, refusals
from trading.ledger import actions
from trading.parties.certificates.trust import PlatformReason

# Codes built from values the scan cannot read from a literal: an enum's, an import's kind.
_FROM_ENUMS = {f"credit.record_{status.value}" for status in CreditStatus} | {
    f"intermediary_market.{kind}_imported" for kind in ("items", "qualifications")
}
_KNOWN_DYNAMIC = {"trading/credit/service.py", "intermediary_market/importing.py"}


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


def test_every_subject_type_appended_anywhere_has_a_label() -> None:
    found, unresolved = code_scan.append_entry_values("subject_type")
    unexplained = [where for where in unresolved if where.split(":", 1)[0] not in _KNOWN_DYNAMIC]
    assert not unexplained, f"subject types the scan cannot resolve (name them literally): {unexplained}"
    used = found | {f"{kind}_import" for kind in ("items", "qualifications")}
    assert {"bidding.tender", "parties.user", "qualification"} <= used
    unlabelled = sorted(used - set(actions.SUBJECT_LABELS))
    assert not unlabelled, f"subject types without a label in trading/ledger/actions.py: {unlabelled}"


def test_every_ledger_action_belongs_to_a_labelled_group() -> None:
    """The ledger page groups its action filter by the code's first part (`actions.choices`)."""
    prefixes = {code.split(".", 1)[0] for code in actions.ACTION_LABELS}
    unlabelled = sorted(prefixes - set(actions.GROUP_LABELS))
    assert not unlabelled, f"action groups without a label in trading/ledger/actions.py GROUP_LABELS: {unlabelled}"
    assert actions.choices(), "the filter offers no action"


def test_every_ledger_label_has_a_chinese_translation() -> None:
    zh = _zh()
    tables = {**actions.ACTION_LABELS, **{f"subject:{k}": v for k, v in actions.SUBJECT_LABELS.items()}}
    tables |= {f"group:{k}": v for k, v in actions.GROUP_LABELS.items()}
    tables |= {f"summary:{k}": v for k, v in actions.SUMMARY_LABELS.items() if v != "SHA-256"}
    tables |= {f"value:{k}={v}": words for (k, v), words in actions.SUMMARY_VALUES.items()}
    missing = _untranslated(tables, zh)
    assert not missing, "ledger labels without a zh_CN translation:\n" + "\n".join(missing)


def _import_everything() -> None:
    """Import every module of the platform, so every error class and label table exists."""
    for name in code_scan.SOURCE_PACKAGES:
        try:
            package = importlib.import_module(name)
        except ModuleNotFoundError:
            continue
        for module in pkgutil.walk_packages(package.__path__, f"{name}."):
            if ".migrations" not in module.name and not module.name.endswith("__main__"):
                importlib.import_module(module.name)


def _subclasses(cls: type[DomainError]) -> set[type[DomainError]]:
    found: set[type[DomainError]] = set()
    for sub in cls.__subclasses__():
        found |= {sub, *_subclasses(sub)}
    return found


def test_every_domain_error_has_a_title_in_chinese() -> None:
    _import_everything()
    classes = _subclasses(DomainError) | {DomainError}
    assert len(classes) > 40  # the walk found the platform's errors, not just the kernel's
    zh = _zh()
    codes = {
        cls.code: f"{cls.__module__}.{cls.__qualname__}" for cls in classes if not cls.__module__.startswith("tests.")
    }
    untitled = sorted(f"{code} ({where})" for code, where in codes.items() if code not in refusals.ERROR_TITLES)
    assert not untitled, f"error codes without a title in trading/kernel/web/refusals.py: {untitled}"
    missing = _untranslated({code: refusals.ERROR_TITLES[code] for code in codes}, zh)
    assert not missing, "error titles without a zh_CN translation:\n" + "\n".join(missing)


def test_every_rule_and_refusal_reason_has_words_in_chinese() -> None:
    _import_everything()
    named = code_scan.rule_codes()
    reasons = {reason.value: "certs/errors.py" for reason in Reason}
    reasons |= {reason.value: "trading/parties/certificates/trust.py" for reason in PlatformReason}
    reasons |= {reason.value: "trading/guarantees/verify.py" for reason in GuaranteeReason}
    codes = {code: ", ".join(sorted(where)) for code, where in named.items()} | reasons
    assert {"required", "container", "no-control-characters", "expired", "party-mismatch"} <= set(codes)
    unworded = sorted(f"{code} ({where})" for code, where in codes.items() if refusals.rule_words(code) is None)
    assert not unworded, f"rule codes no table words (add them to trading/kernel/web/refusals.py): {unworded}"
    zh = _zh()
    missing = _untranslated({code: refusals.rule_words(code) or "" for code in codes}, zh)
    assert not missing, "rule sentences without a zh_CN translation:\n" + "\n".join(missing)


def test_a_refusal_in_chinese_shows_no_english_and_no_code() -> None:
    """What the walk guarantees, seen from a page: any rule the code names, with a message no
    catalogue translates, comes out in Chinese; in English the service's message (with its values)."""
    with i18n.use_locale("zh_CN"):
        text = refusals.explain("not a bid container (ZIP): File is not a zip file", "container", "package")
        assert text == "该文件不是有效的投标文件包（由投标工具生成的 ZIP 文件）。"
        assert refusals.explain("boom", None, None, "tender_state") == "招标项目所处阶段不允许此操作"
        assert refusals.explain("该项目已开标。", None) == "该项目已开标。"  # already written in Chinese
        assert refusals.explain("bound to 某公司 already", None) == "请求被拒绝。"
        # A stored note (a bid's cause at the opening): translated, written in Chinese, or left out.
        backup = "opened from the bidder's backup file (digests match the signed manifest)"
        assert refusals.readable(backup) == "已用投标人的备份文件解密（摘要与已签名的清单一致）"
        assert refusals.readable("平台故障：停电") == "平台故障：停电"
        assert refusals.readable("not decrypted for a platform-side cause (撤回): 停电") == ""
        assert refusals.readable(None) == ""
    with i18n.use_locale("en"):
        assert refusals.explain("not a bid container (ZIP): bad", "container") == "not a bid container (ZIP): bad"
        assert refusals.readable("not decrypted for a platform-side cause") == "not decrypted for a platform-side cause"


def test_things_have_names_and_people_have_full_names() -> None:
    """名称 names a lot, an organisation or an item; 姓名 names a person."""
    zh = _zh()
    name, full_name = zh.get("Name"), zh.get("Full name")
    assert name is not None
    assert name.string == "名称"  # lots (tender page), organisations, service items
    assert full_name is not None
    assert full_name.string == "姓名"
    account = (code_scan.ROOT / "trading/parties/templates/parties/account.html").read_text("utf-8")
    assert '_("Full name") }}</dt><dd>{{ user.display_name }}' in account
    lots = (code_scan.ROOT / "bidding/templates/bidding/tender_detail.html").read_text("utf-8")
    assert '<th scope="col">{{ _("Lot") }}</th><th scope="col">{{ _("Name") }}</th>' in lots
