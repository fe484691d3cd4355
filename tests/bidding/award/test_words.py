"""Every refusal the award stage's core can name has words in Chinese and English (the table's rule
codes are positional data, which the code-base scan of ``test_vocabulary.py`` does not read).
"""

from __future__ import annotations

from bidding.award.errors import AwardRefused
from bidding.award.states import TRANSITIONS
from bidding.award.succession import Exhausted
from trading.kernel.web import catalogue, i18n, refusals


def test_every_transition_rule_and_the_error_title_have_chinese_words() -> None:
    zh = catalogue.load_catalogue("zh_CN")
    codes = {t.rule for t in TRANSITIONS} | {Exhausted(()).rule}
    for code in sorted(codes):
        words = refusals.rule_words(code)
        assert words is not None, code
        entry = zh.get(words)
        assert entry is not None, code
        assert entry.string, code
        assert entry.string != words, code
    assert refusals.ERROR_TITLES[AwardRefused.code] == AwardRefused.title
    with i18n.use_locale("zh_CN"):
        assert refusals.error_title(AwardRefused.code) == "定标环节拒绝了此操作"
        assert refusals.explain("x 9 is not a candidate", "not_a_candidate") == (
            "只能确定评标委员会推荐的中标候选人为中标人。"
        )
