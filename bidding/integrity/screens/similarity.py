"""Document similarity between the bids of one lot after template subtraction (issue 19 §4).

Reference: anomaly-screens.md §5.2 (MinHash + LSH, shingles of 8–9 characters for CJK, shingles of
the tender's own documents removed, exact Jaccard on candidates) and §7 D (≥ 0.8 RED, ≥ 0.5 AMBER).
Rules and thresholds: ``catalogue/documents.toml`` (DOC-SIMILAR, DOC-CLUSTER).

How a lot is screened:

1. **Normalise** each text: NFKC (full-width letters, digits and punctuation become half-width),
   case-folded, then every whitespace, punctuation and symbol character dropped, so a retyped
   copy with different spacing or ``，`` for ``,`` is the same text.
2. **Shingle**: every run of k characters (``shingle_chars``) as a 64-bit rolling hash computed
   with NumPy over the code points; in the word mode, every run of k jieba tokens.
3. **Subtract the template**: the shingles of the tender document (and of any ``boilerplate`` the
   caller passes, e.g. the 投标文件格式 of the agency) are removed from every bid. Two honest bids
   that restate the requirements verbatim then share almost nothing; a copied technical proposal
   is not in the template and remains.
4. **Candidates**: a 128-slot MinHash per bid by one-permutation hashing (the shingle hashes are
   already uniform 64-bit values, so the top 7 bits pick the slot and the minimum per slot is the
   signature; empty slots are filled from the next slot, Shrivastava & Li 2014), indexed in a
   ``datasketch.MinHashLSH`` with 42 bands of 3 rows (a pair at J = 0.5 becomes a candidate with
   probability 99.6 %). The classic 128-permutation MinHash would cost 128 multiplications per
   shingle; this costs one sort per document.
5. **Exact Jaccard** of the remaining shingle sets on each candidate pair; DOC-SIMILAR at ≥ amber.
6. **Evidence**: the pair's shared substantive paragraphs side by side (paragraphs mostly made of
   template shingles or shorter than ``paragraph_min_chars`` are left out; near-duplicates are
   matched by the Jaccard of their remaining shingles, not only exact copies), capped at
   ``max_paragraphs``; DOC-CLUSTER for every connected component of ≥ 3 bidders over the pairs.
7. **Shared rare misspellings** (DOC-TYPOS, when the rule set has it): pairs of bids with ≥ 3
   known misspellings (``typos.MISSPELLINGS``) in common that few bids of the lot make and the
   tender does not contain, each shown in both bids' words.

**Characters, not words, by default.** Measured by ``bench/alerts/similarity.py`` (300 bids of
20–51 KB of Chinese, 11 MB, one 12 KB template quoted by all, planted copies found with precision
and recall 1.00; 2 shared cores): the whole screen takes 250–280 ms of CPU (wall 460 ms, and
~950 ms when the machine's load average is 8), 45–70× (CPU) a SHA-256 pass over the same bytes; jieba
with ``HMM=False`` segments 0.25–0.5 MB/s here, 20–40 s for the lot's text before any shingling.
The reference's own CJK setting is character shingles, and a copied paragraph is caught either way.
``unit="words"`` is kept for callers that want word shingles (it uses ``shingle_words``).

Pure: standard library, NumPy, datasketch, jieba (word mode only) and the screens' own model.
"""

from __future__ import annotations

import re
import unicodedata
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
from datasketch import LeanMinHash, MinHashLSH

from bidding.integrity.screens.model import Finding, Severity
from bidding.integrity.screens.rules import RuleSet
from bidding.integrity.screens.typos import MISSPELLINGS

SIMILAR = "DOC-SIMILAR"
CLUSTER = "DOC-CLUSTER"
TYPOS = "DOC-TYPOS"

Unit = Literal["chars", "words"]
U64 = np.ndarray  # a sorted array of distinct uint64 shingle hashes

_NOT_TEXT = re.compile(r"[\W_]+")  # whitespace, punctuation and symbols after NFKC
_SENTENCE_END = ("。", "！", "？", "；", "：", ".", "!", "?", ";", ":")
_WRAPPED_LINE_CHARS = 20  # a PDF line the page wrapped is longer than this (A4: ~35 CJK characters)
_SHOWN_CHARS = 400  # a paragraph shown as evidence is cut here: the finding stays readable
_MAX_SLOTS = 1024  # MinHash slots: more buys no precision worth its cost
_BASE = np.uint64(0x100000001B3)  # odd multiplier of the rolling hash
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)  # splitmix64 finaliser: spreads the hash over all 64 bits
_MIX2 = np.uint64(0x94D049BB133111EB)


class SimilarityConfigError(ValueError):
    """A DOC-SIMILAR threshold no screen can use, named with the rule and the reason."""


@dataclass(frozen=True, slots=True)
class Thresholds:
    red: float
    amber: float
    k: int
    num_perm: int
    bands: int
    rows: int
    min_shingles: int
    paragraph_min_chars: int
    paragraph_template_share: float
    paragraph_similarity: float
    max_paragraphs: int
    points_red: float
    points_amber: float
    cluster_min_members: int
    cluster_points: float

    @classmethod
    def from_rules(cls, rules: RuleSet, unit: Unit) -> Thresholds:
        def value(name: str, rule: str = SIMILAR) -> float:
            if rule not in rules:
                raise SimilarityConfigError(f"rule {rule} is not in the rule set")
            try:
                return rules.threshold(rule, name)
            except KeyError as missing:
                raise SimilarityConfigError(f"rule {rule}: threshold {name!r} is missing") from missing

        settings = cls(
            red=value("red"),
            amber=value("amber"),
            k=int(value("shingle_chars" if unit == "chars" else "shingle_words")),
            num_perm=int(value("num_perm")),
            bands=int(value("lsh_bands")),
            rows=int(value("lsh_rows")),
            min_shingles=int(value("min_shingles")),
            paragraph_min_chars=int(value("paragraph_min_chars")),
            paragraph_template_share=value("paragraph_template_share"),
            paragraph_similarity=value("paragraph_similarity"),
            max_paragraphs=int(value("max_paragraphs")),
            points_red=value("points_red"),
            points_amber=value("points_amber"),
            cluster_min_members=int(value("min_members", CLUSTER)),
            cluster_points=value("points", CLUSTER),
        )
        settings._check()
        return settings

    def _check(self) -> None:
        problems = []
        if not 0 < self.amber <= self.red <= 1:
            problems.append(f"need 0 < amber ({self.amber}) ≤ red ({self.red}) ≤ 1")
        if self.k < 1:
            problems.append(f"shingle length {self.k} must be ≥ 1")
        if self.num_perm <= 1 or self.num_perm & (self.num_perm - 1) or self.num_perm > _MAX_SLOTS:
            problems.append(f"num_perm {self.num_perm} must be a power of two between 2 and {_MAX_SLOTS}")
        if self.bands < 1 or self.rows < 1 or self.bands * self.rows > self.num_perm:
            problems.append(f"lsh_bands × lsh_rows ({self.bands} × {self.rows}) must be ≥ 1 and ≤ num_perm")
        if self.cluster_min_members <= 1:
            problems.append(f"{CLUSTER} min_members {self.cluster_min_members} must be ≥ 2")
        if problems:
            raise SimilarityConfigError(f"rule {SIMILAR}: " + "; ".join(problems))


# -- text → shingles ------------------------------------------------------------------------------


def normalise(text: str) -> str:
    """Full-width → half-width (NFKC), case-folded, without whitespace, punctuation or symbols."""
    # Punctuation goes first: Chinese text is full of full-width commas, which would send every
    # paragraph through the slow NFKC rewrite; what remains (ideographs, letters, digits) is
    # usually NFKC already, which the quick check sees without rewriting. NFKC can make new
    # punctuation (㈠ → (一)), hence the second pass when it does rewrite.
    kept = _NOT_TEXT.sub("", text)
    if not unicodedata.is_normalized("NFKC", kept):
        kept = _NOT_TEXT.sub("", unicodedata.normalize("NFKC", kept))
    return kept.casefold()


def _words(normalised: str) -> list[str]:
    with warnings.catch_warnings():
        # jieba's regexes have invalid escapes: a DeprecationWarning on 3.11, a SyntaxWarning later
        warnings.simplefilter("ignore", SyntaxWarning)
        warnings.simplefilter("ignore", DeprecationWarning)
        import jieba  # noqa: PLC0415 - only the word mode needs it, and its import costs ~1 s
    jieba.setLogLevel(40)  # no "Building prefix dict" chatter on stderr
    words: list[str] = jieba.lcut(normalised, HMM=False)
    return words


def _hashes(symbols: np.ndarray, k: int) -> np.ndarray:
    """The rolling hash of every run of ``k`` symbols (unsorted, with repeats)."""
    count = symbols.size - k + 1
    if count <= 0:
        return np.empty(0, dtype=np.uint64)
    hashed = np.zeros(count, dtype=np.uint64)
    for offset in range(k):  # uint64 arithmetic wraps: a polynomial hash modulo 2**64
        hashed = hashed * _BASE + symbols[offset : offset + count]
    hashed ^= hashed >> np.uint64(30)
    hashed *= _MIX1
    hashed ^= hashed >> np.uint64(27)
    hashed *= _MIX2
    hashed ^= hashed >> np.uint64(31)
    return hashed


def _distinct(hashes: np.ndarray) -> U64:
    """Sorted distinct values (np.unique's hash table is several times slower on these sizes)."""
    ordered = np.sort(hashes)
    if ordered.size <= 1:
        return ordered
    keep = np.empty(ordered.size, dtype=bool)
    keep[0] = True
    np.not_equal(ordered[1:], ordered[:-1], out=keep[1:])
    return ordered[keep]


def _without(hashes: U64, removed: U64) -> U64:
    """``hashes`` minus ``removed``, both sorted and distinct: a binary search per value."""
    if removed.size == 0 or hashes.size == 0:
        return hashes
    at = np.searchsorted(removed, hashes)
    at[at == removed.size] = 0
    kept: U64 = hashes[removed[at] != hashes]
    return kept


class _Vocabulary:
    """Word ids shared by every text of one screening, so that equal words hash equally."""

    def __init__(self) -> None:
        self.ids: dict[str, int] = {}

    def symbols(self, normalised: str, unit: Unit) -> np.ndarray:
        if unit == "chars":
            return np.frombuffer(normalised.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
        ids = self.ids
        return np.fromiter((ids.setdefault(word, len(ids) + 1) for word in _words(normalised)), dtype=np.uint64)


def shingles(text: str, k: int, unit: Unit = "chars") -> U64:
    """The distinct shingle hashes of ``text`` (normalised first), sorted. Characters by default."""
    return _distinct(_hashes(_Vocabulary().symbols(normalise(text), unit), k))


# -- paragraphs -----------------------------------------------------------------------------------


def paragraphs(text: str) -> list[str]:
    """Paragraphs of extracted text: lines joined until one ends a sentence, is short (a heading)
    or a blank line comes.

    A PDF's text layer breaks lines where the page wrapped them; a DOCX gives one paragraph a line.
    """
    found: list[str] = []
    current: list[str] = []
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            if current:
                found.append("".join(current))
                current = []
            continue
        current.append(line)
        # a short line without a sentence end is a heading, not a line the page wrapped
        if line.endswith(_SENTENCE_END) or len(line) < _WRAPPED_LINE_CHARS:
            found.append("".join(current))
            current = []
    if current:
        found.append("".join(current))
    return found


@dataclass(frozen=True, slots=True)
class _Paragraph:
    text: str
    own: U64  # its shingles that are not in the template


def _substantive(
    text: str, template: U64, settings: Thresholds, unit: Unit, vocabulary: _Vocabulary
) -> list[_Paragraph]:
    kept = []
    for paragraph in paragraphs(text):
        normalised = normalise(paragraph)
        if len(normalised) < settings.paragraph_min_chars:
            continue
        every = _distinct(_hashes(vocabulary.symbols(normalised, unit), settings.k))
        if every.size == 0:
            continue
        own = _without(every, template)
        if 1 - own.size / every.size >= settings.paragraph_template_share:
            continue  # the tender's own text, restated
        kept.append(_Paragraph(paragraph, own))
    return kept


def _shared_paragraphs(
    first: list[_Paragraph], second: list[_Paragraph], settings: Thresholds
) -> list[dict[str, object]]:
    """The best match in ``second`` of each paragraph of ``first`` at ≥ paragraph_similarity."""
    if not first or not second:
        return []

    def flatten(items: list[_Paragraph]) -> tuple[np.ndarray, np.ndarray]:
        hashes = np.concatenate([item.own for item in items])
        owners = np.repeat(np.arange(len(items)), [item.own.size for item in items])
        # a shingle repeated inside one document counts for its first paragraph only
        hashes, first_seen = np.unique(hashes, return_index=True)
        return hashes, owners[first_seen]

    hashes_a, owners_a = flatten(first)
    hashes_b, owners_b = flatten(second)
    _, at_a, at_b = np.intersect1d(hashes_a, hashes_b, assume_unique=True, return_indices=True)
    if at_a.size == 0:
        return []
    pair_codes, counts = np.unique(owners_a[at_a] * len(second) + owners_b[at_b], return_counts=True)
    best: dict[int, tuple[float, int]] = {}
    for code, common in zip(pair_codes.tolist(), counts.tolist(), strict=True):
        index_a, index_b = divmod(code, len(second))
        union = first[index_a].own.size + second[index_b].own.size - common
        similarity = common / union if union else 0.0
        if similarity >= settings.paragraph_similarity and similarity > best.get(index_a, (0.0, -1))[0]:
            best[index_a] = (similarity, index_b)
    ranked = sorted(best.items(), key=lambda item: (-item[1][0], -len(first[item[0]].text), item[0]))
    return [
        {
            "a": _shown(first[index_a].text),
            "b": _shown(second[index_b].text),
            "similarity": round(similarity, 3),
        }
        for index_a, (similarity, index_b) in ranked[: settings.max_paragraphs]
    ]


def _shown(text: str) -> str:
    return text if len(text) <= _SHOWN_CHARS else text[:_SHOWN_CHARS] + "…"


# -- MinHash / LSH --------------------------------------------------------------------------------


def signature(hashes: U64, num_perm: int) -> np.ndarray:
    """One-permutation MinHash of sorted distinct uint64 hashes: the minimum of each of ``num_perm``
    slots (the top bits pick the slot), empty slots filled from the next non-empty slot with an
    offset per step (Shrivastava & Li 2014), so P(slot values equal) ≈ Jaccard for every slot.
    """
    bits = num_perm.bit_length() - 1
    low = np.uint64((1 << (64 - bits)) - 1)
    slots = hashes >> np.uint64(64 - bits)
    starts = np.searchsorted(slots, np.arange(num_perm, dtype=np.uint64))
    present = starts < hashes.size
    present[present] = slots[starts[present]] == np.arange(num_perm, dtype=np.uint64)[present]
    values = np.zeros(num_perm, dtype=np.uint64)
    values[present] = hashes[starts[present]] & low
    if not present.all():
        filled = np.flatnonzero(present)
        if filled.size == 0:
            return values
        for slot in np.flatnonzero(~present).tolist():
            after = filled[filled > slot]
            source = int(after[0]) if after.size else int(filled[0]) + num_perm
            values[slot] = (int(values[source % num_perm]) + (source - slot) * 0x9E3779B97F4A7C15) % (1 << 64)
    return values


def _candidates(own: Sequence[U64], settings: Thresholds) -> set[tuple[int, int]]:
    lsh = MinHashLSH(num_perm=settings.num_perm, params=(settings.bands, settings.rows))
    sketches = {}
    for index, hashes in enumerate(own):
        if hashes.size >= settings.min_shingles:
            sketch = LeanMinHash(seed=1, hashvalues=signature(hashes, settings.num_perm), scheme="affine64")
            sketches[index] = sketch
            lsh.insert(index, sketch)
    pairs: set[tuple[int, int]] = set()
    for index, sketch in sketches.items():
        for other in lsh.query(sketch):
            if other != index:
                pairs.add((min(index, other), max(index, other)))
    return pairs


# -- the screen -----------------------------------------------------------------------------------


def screen_documents(
    ocid: str,
    lot: str | None,
    template: str,
    documents: Mapping[str, str],
    rules: RuleSet,
    *,
    boilerplate: Sequence[str] = (),
    unit: Unit = "chars",
) -> list[Finding]:
    """DOC-SIMILAR for each pair of bidders whose texts are alike once the template is removed,
    DOC-CLUSTER for each group of ≥ min_members mutually linked bidders.

    ``documents``: bidder → the extracted text of its bid (all its files joined); ``template``: the
    tender document's text; ``boilerplate``: more shared text to subtract (forms, the agency's
    standard clauses). Bidders whose own text has fewer than ``min_shingles`` shingles left are not
    compared (a bid that only restates the tender has nothing of its own to copy).
    """
    settings = Thresholds.from_rules(rules, unit)
    vocabulary = _Vocabulary()
    template_shingles = _distinct(
        np.concatenate(
            [_hashes(vocabulary.symbols(normalise(text), unit), settings.k) for text in (template, *boilerplate)]
        )
    )
    bidders = sorted(documents)
    normalised = [normalise(documents[bidder]) for bidder in bidders]
    everything = [_distinct(_hashes(vocabulary.symbols(text, unit), settings.k)) for text in normalised]
    own = [_without(hashes, template_shingles) for hashes in everything]

    linked: list[tuple[int, int, float]] = []
    findings: list[Finding] = []
    paragraph_cache: dict[int, list[_Paragraph]] = {}

    def substantive(index: int) -> list[_Paragraph]:
        if index not in paragraph_cache:
            paragraph_cache[index] = _substantive(
                documents[bidders[index]], template_shingles, settings, unit, vocabulary
            )
        return paragraph_cache[index]

    for first, second in sorted(_candidates(own, settings)):
        shared = int(np.intersect1d(own[first], own[second], assume_unique=True).size)
        union = own[first].size + own[second].size - shared
        jaccard = shared / union if union else 0.0
        if jaccard < settings.amber:
            continue
        linked.append((first, second, jaccard))
        red = jaccard >= settings.red
        shown = _shared_paragraphs(substantive(first), substantive(second), settings)
        findings.append(
            Finding(
                rule=SIMILAR,
                rule_version=rules[SIMILAR].version,
                severity=Severity.RED if red else Severity.AMBER,
                summary=(
                    f"{bidders[first]} 与 {bidders[second]} 的投标文件扣除招标文件文字后相似度 {jaccard:.0%}"
                    f"（≥{settings.red if red else settings.amber:.0%}），雷同段落 {len(shown)} 处"
                ),
                evidence={
                    "ocid": ocid,
                    "lot": lot,
                    "jaccard": round(jaccard, 4),
                    "shared_shingles": shared,
                    "own_shingles": {bidders[first]: int(own[first].size), bidders[second]: int(own[second].size)},
                    "template_shingles_removed": {
                        bidders[first]: int(everything[first].size - own[first].size),
                        bidders[second]: int(everything[second].size - own[second].size),
                    },
                    "shingle": {"unit": unit, "length": settings.k},
                    "thresholds": {"red": settings.red, "amber": settings.amber},
                    "paragraphs": shown,
                },
                subjects=(bidders[first], bidders[second]),
                score=settings.points_red if red else settings.points_amber,
            )
        )
    findings.extend(_clusters(ocid=ocid, lot=lot, bidders=bidders, linked=linked, settings=settings, rules=rules))
    if TYPOS in rules:
        template_text = "".join(normalise(text) for text in (template, *boilerplate))
        in_order = {bidder: documents[bidder] for bidder in bidders}
        findings.extend(
            _shared_typos(
                ocid=ocid, lot=lot, template=template_text, documents=in_order, normalised=normalised, rules=rules
            )
        )
    return findings


# -- shared rare misspellings ---------------------------------------------------------------------

_MISSPELLED = re.compile("|".join(sorted(map(re.escape, MISSPELLINGS), key=len, reverse=True)))
_CONTEXT_CHARS = 40  # characters shown on each side of a misspelling


def _shared_typos(
    *,
    ocid: str,
    lot: str | None,
    template: str,
    documents: Mapping[str, str],
    normalised: Sequence[str],
    rules: RuleSet,
) -> list[Finding]:
    """DOC-TYPOS for each pair sharing ≥ min_shared rare misspellings (``typos.MISSPELLINGS``).

    Rare: found in at most max(2, rare_share × bidders) bids of the lot; a misspelling the tender
    itself contains is copied from it innocently and does not count. Each shared misspelling
    weighs 1 / (bids that contain it), so two bids alone in an error weigh most.
    """
    rule = rules[TYPOS]
    min_shared = int(rules.threshold(TYPOS, "min_shared"))
    bidders = list(documents)
    rare_limit = max(2, int(rules.threshold(TYPOS, "rare_share") * len(bidders)))
    in_template = set(_MISSPELLED.findall(template))
    holders: dict[str, list[int]] = {}
    for index, text in enumerate(normalised):
        for typo in set(_MISSPELLED.findall(text)) - in_template:
            holders.setdefault(typo, []).append(index)
    shared: dict[tuple[int, int], list[str]] = {}
    for typo, indices in sorted(holders.items()):
        if 2 <= len(indices) <= rare_limit:  # noqa: PLR2004 - "shared" means at least two bids
            for position, first in enumerate(indices):
                for second in indices[position + 1 :]:
                    shared.setdefault((first, second), []).append(typo)
    findings = []
    for (first, second), typos in sorted(shared.items()):
        if len(typos) < min_shared:
            continue
        a, b = bidders[first], bidders[second]
        findings.append(
            Finding(
                rule=TYPOS,
                rule_version=rule.version,
                severity=rule.severity,
                summary=f"{a} 与 {b} 的投标文件有 {len(typos)} 处相同的罕见错别字：{'、'.join(typos)}",
                evidence={
                    "ocid": ocid,
                    "lot": lot,
                    "typos": [
                        {
                            "typo": typo,
                            "correct": MISSPELLINGS[typo],
                            "bids_with_it": len(holders[typo]),
                            "a": _context(documents[a], typo),
                            "b": _context(documents[b], typo),
                        }
                        for typo in typos
                    ],
                    "weight": round(sum(1 / len(holders[typo]) for typo in typos), 3),
                    "rare_limit": rare_limit,
                },
                subjects=(a, b),
                score=rules.threshold(TYPOS, "points"),
            )
        )
    return findings


def _context(text: str, typo: str) -> str:
    """The misspelling with the text around it, as the bid wrote it (or itself, if retyped away)."""
    at = text.find(typo)
    if at < 0:  # split by a line break or spaces in the original: show the normalised form
        return typo
    start, end = max(0, at - _CONTEXT_CHARS), min(len(text), at + len(typo) + _CONTEXT_CHARS)
    return ("…" if start else "") + " ".join(text[start:end].split()) + ("…" if end < len(text) else "")


def _clusters(
    *,
    ocid: str,
    lot: str | None,
    bidders: list[str],
    linked: list[tuple[int, int, float]],
    settings: Thresholds,
    rules: RuleSet,
) -> list[Finding]:
    parent = list(range(len(bidders)))

    def root(node: int) -> int:
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for first, second, _ in linked:
        parent[root(first)] = root(second)
    members: dict[int, list[int]] = {}
    for node in {node for pair in linked for node in pair[:2]}:
        members.setdefault(root(node), []).append(node)
    findings = []
    for group in sorted((sorted(nodes) for nodes in members.values()), key=lambda nodes: nodes[0]):
        if len(group) < settings.cluster_min_members:
            continue
        inside = set(group)
        edges = [(a, b, j) for a, b, j in linked if a in inside]
        complete_red = len(edges) == len(group) * (len(group) - 1) // 2 and all(j >= settings.red for _, _, j in edges)
        names = [bidders[node] for node in group]
        findings.append(
            Finding(
                rule=CLUSTER,
                rule_version=rules[CLUSTER].version,
                severity=Severity.RED if complete_red else Severity.AMBER,
                summary=f"{len(group)} 家投标人的投标文件相互雷同：{'、'.join(names)}",
                evidence={
                    "ocid": ocid,
                    "lot": lot,
                    "members": names,
                    "pairs": [{"a": bidders[a], "b": bidders[b], "jaccard": round(j, 4)} for a, b, j in edges],
                    "min_jaccard": round(min(j for _, _, j in edges), 4),
                    "max_jaccard": round(max(j for _, _, j in edges), 4),
                },
                subjects=tuple(names),
                score=settings.cluster_points,
            )
        )
    return findings
