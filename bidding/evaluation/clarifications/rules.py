"""The clarification's thresholds: data (``defaults.json``), overridable by ``GGZY_CLARIFICATION_RULES``
(a JSON object with any of the same keys), versioned with the file.

- ``answer_minutes_default`` (60): the time a bidder has to answer when the member names none;
- ``answer_minutes_min`` / ``answer_minutes_max`` (10 / 2880): the range a member may set;
- ``question_max`` / ``answer_max`` (4000 / 8000 characters): the columns' sizes.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, fields
from functools import lru_cache
from pathlib import Path
from typing import Final

DEFAULTS: Final = Path(__file__).with_name("defaults.json")
ENVIRONMENT: Final = "GGZY_CLARIFICATION_RULES"


@dataclass(frozen=True, slots=True)
class ClarificationRules:
    version: str
    answer_minutes_default: int
    answer_minutes_min: int
    answer_minutes_max: int
    question_max: int
    answer_max: int


@lru_cache(maxsize=4)
def _load(override: str) -> ClarificationRules:
    data = json.loads(DEFAULTS.read_text(encoding="utf-8"))
    if override:
        data.update(json.loads(override))
    known = {f.name for f in fields(ClarificationRules)}
    rules = ClarificationRules(**{k: v for k, v in data.items() if k in known})
    if not 0 < rules.answer_minutes_min <= rules.answer_minutes_default <= rules.answer_minutes_max:
        msg = "clarification rules: answer_minutes_min <= answer_minutes_default <= answer_minutes_max, all positive"
        raise ValueError(msg)
    return rules


def clarification_rules() -> ClarificationRules:
    return _load(os.environ.get(ENVIRONMENT, ""))
