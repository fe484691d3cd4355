"""A seeded procurement market with planted cartels and their ground truth, for testing the screens.

``simulate(seed)`` builds bidders, tenderees and lots. Honest lots: every bidder's cost is a
lot-level common cost (a share of the estimate) times a bidder-level noise, plus its own markup; 3–12
bidders; the lowest bid wins. Planted lots, each with a ``LotTruth``:

- ``cover-bidding``: a cartel's designated winner bids high, the other members bid clustered a few
  per cent above it (low CV among the losers, a large first gap: high RD); no outsider bids.
- ``bid-rotation``: a group whose lots are won by its members in turn, each lot rigged by cover
  bidding (so its lots carry both kinds).
- ``identical-documents``: two or three members submit the same technical proposal (their own names
  on it), at honest-looking prices.
- ``shared-device``: two or three members submit from the same device (one ``device_hash``), at
  honest-looking prices.
- ``copied-price``: one member copies another's price with an offset of 0.001–0.01 % (near-identical).

``price_traces`` is true for the kinds that change prices (cover bidding, rotation, copied price):
the price screens can only be asked to find those. Every bid's text quotes long parts of its tender
document (the template), honest or not, so similarity screens must subtract the template.

``iter_simulated(seed, …)`` yields the same lots one at a time (memory flat, optional texts) for
large packages; ``to_ocds_package`` writes either as a streamed OCDS 1.1 release package with the
bids and lots extensions, one release per tender, that ``bidding.integrity.ocds.read_lots`` reads
back to the same ``LotBids``.
"""

from __future__ import annotations

import hashlib
import json
import random
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

from bidding.integrity.ocds import market_stratum
from bidding.integrity.screens.model import BidPrice, BidSignals, LotBids

COVER_BIDDING = "cover-bidding"
BID_ROTATION = "bid-rotation"
IDENTICAL_DOCUMENTS = "identical-documents"
SHARED_DEVICE = "shared-device"
COPIED_PRICE = "copied-price"
KINDS = (COVER_BIDDING, BID_ROTATION, IDENTICAL_DOCUMENTS, SHARED_DEVICE, COPIED_PRICE)
PRICE_TRACE_KINDS = frozenset({COVER_BIDDING, BID_ROTATION, COPIED_PRICE})

BIDS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_bid_extension/v1.1.5/extension.json"
)
LOTS_EXTENSION = (
    "https://raw.githubusercontent.com/open-contracting-extensions/ocds_lots_extension/v1.1.5/extension.json"
)

LotKey = tuple[str, str | None]

# (mainProcurementCategory, classification, Chinese project noun)
_CATEGORIES = (
    ("works", "GB/T4754:E4811", "市政道路改造工程"),
    ("works", "GB/T4754:E4710", "房屋建筑施工工程"),
    ("goods", "CPV:30213100", "便携式计算机采购"),
    ("services", "CPV:90910000", "物业保洁服务"),
)
_MIN_POOL = 24  # the five cartels take 20 bidders; honest lots need outsiders
_MIN_BIDS = 3
_MEMBER_COMPETES_SHARE = 0.2  # honest lots where one cartel member bids as an ordinary competitor
_QUOTED_SHARE = 0.7  # the share of the tender's clauses a bid quotes back

_CITIES = ("江宁", "鼓楼", "玄武", "浦口", "栖霞", "雨花台", "建邺", "六合", "溧水", "高淳", "秦淮", "仙林")
_TRADES = ("建设", "建工", "路桥", "市政", "科技", "实业", "工程", "环境", "信息", "安装")
_SURNAMES = "王李张刘陈杨赵黄周吴徐孙胡朱高林何郭马罗"
_GIVEN = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚"


@dataclass(frozen=True, slots=True)
class LotTruth:
    """What was planted in a lot: empty ``kinds`` for an honest lot."""

    kinds: frozenset[str] = frozenset()
    members: tuple[str, ...] = ()  # the cartel members bidding in this lot
    price_traces: bool = False  # the planted kinds change the prices (the price screens' positives)


@dataclass(frozen=True, slots=True)
class SimulatedLot:
    bids: LotBids
    signals: tuple[BidSignals, ...]
    tender_text: str
    truth: LotTruth


@dataclass(frozen=True, slots=True)
class SimulatedMarket:
    seed: int
    lots: tuple[LotBids, ...]
    signals: Mapping[LotKey, tuple[BidSignals, ...]]
    tender_texts: Mapping[LotKey, str]  # the tender document's text, for template subtraction
    truth: Mapping[LotKey, LotTruth]
    names: Mapping[str, str] = field(default_factory=dict)  # party id → Chinese name

    def simulated_lots(self) -> Iterator[SimulatedLot]:
        for lot in self.lots:
            key = (lot.ocid, lot.lot)
            yield SimulatedLot(lot, self.signals[key], self.tender_texts[key], self.truth[key])


def simulate(
    seed: int,
    lots: int = 400,
    *,
    bidders: int = 80,
    buyers: int = 12,
    planted_share: float = 0.3,
    year: int = 2025,
) -> SimulatedMarket:
    """A market of ``lots`` lots, about ``planted_share`` of them rigged, the same for the same seed."""
    collected = list(iter_simulated(seed, lots, bidders=bidders, buyers=buyers, planted_share=planted_share, year=year))
    return SimulatedMarket(
        seed=seed,
        lots=tuple(item.bids for item in collected),
        signals={(item.bids.ocid, item.bids.lot): item.signals for item in collected},
        tender_texts={(item.bids.ocid, item.bids.lot): item.tender_text for item in collected},
        truth={(item.bids.ocid, item.bids.lot): item.truth for item in collected},
        names=party_names(seed, bidders, buyers),
    )


def party_names(seed: int, bidders: int = 80, buyers: int = 12) -> dict[str, str]:
    rng = _rng(seed, "names")
    names = {_bidder_id(i): f"{rng.choice(_CITIES)}{rng.choice(_TRADES)}{_company_suffix(i)}" for i in range(bidders)}
    names |= {_buyer_id(i): f"{_CITIES[i % len(_CITIES)]}区公共资源交易项目{i:02d}号采购人" for i in range(buyers)}
    return names


def iter_simulated(
    seed: int,
    lots: int = 400,
    *,
    bidders: int = 80,
    buyers: int = 12,
    planted_share: float = 0.3,
    year: int = 2025,
    texts: bool = True,
    max_bidders: int = 12,
) -> Iterator[SimulatedLot]:
    """The lots of ``simulate`` one at a time; ``texts=False`` leaves the documents out (benchmarks)."""
    if lots < 1 or bidders < _MIN_POOL or not 0 <= planted_share <= 1 or max_bidders < _MIN_BIDS:
        raise ValueError("simulate: lots ≥ 1, bidders ≥ 24, 0 ≤ planted_share ≤ 1 and max_bidders ≥ 3 are required")
    rng = _rng(seed)
    names = party_names(seed, bidders, buyers)
    pool = [_bidder_id(i) for i in range(bidders)]
    cartel_pool = rng.sample(pool, 20)
    cartels = [cartel_pool[0:5], cartel_pool[5:9], cartel_pool[9:13], cartel_pool[13:17], cartel_pool[17:20]]
    rotation_group = cartels[1]
    honest_pool = [bidder for bidder in pool if bidder not in set(cartel_pool)]
    rotation_turn = 0
    start = datetime(year, 1, 6, 9, 30, tzinfo=UTC)
    written = 0
    tender = 0
    while written < lots:
        tender += 1
        lot_count = min(rng.choice((1, 1, 1, 2, 3)), lots - written)
        ocid = f"ocds-ggzysm-{seed}-{tender:06d}"
        buyer = _buyer_id(rng.randrange(buyers))
        category, classification, noun = rng.choice(_CATEGORIES)
        deadline = start + timedelta(days=(tender * 365 // max(lots, 1)) % 360, hours=rng.randrange(0, 6))
        for number in range(1, lot_count + 1):
            lot_id = None if lot_count == 1 else str(number)
            estimate = round(rng.uniform(2e5, 5e7), -2)
            planted = rng.random() < planted_share
            kind = rng.choice(KINDS) if planted else None
            if kind == BID_ROTATION:
                winner_index = rotation_turn % len(rotation_group)
                rotation_turn += 1
                members = rotation_group
            else:
                winner_index = 0
                members = rng.choice([c for c in cartels if c is not rotation_group])
            project = (
                f"{_CITIES[int(buyer[-2:]) % len(_CITIES)]}区{noun}（{tender:04d}{'-' + lot_id if lot_id else ''}标段）"
            )
            yield _lot(
                rng,
                seed=seed,
                ocid=ocid,
                lot_id=lot_id,
                buyer=buyer,
                market=market_stratum(category, classification, deadline.year),
                deadline=deadline,
                estimate=estimate,
                kind=kind,
                members=list(members),
                winner_index=winner_index,
                honest_pool=honest_pool,
                names=names,
                project=project,
                texts=texts,
                max_bidders=max_bidders,
            )
            written += 1


def _lot(
    rng: random.Random,
    *,
    seed: int,
    ocid: str,
    lot_id: str | None,
    buyer: str,
    market: str | None,
    deadline: datetime,
    estimate: float,
    kind: str | None,
    members: list[str],
    winner_index: int,
    honest_pool: list[str],
    names: Mapping[str, str],
    project: str,
    texts: bool,
    max_bidders: int,
) -> SimulatedLot:
    prices, planted = _prices(
        rng,
        common_cost=estimate * rng.uniform(0.72, 0.9),
        kind=kind,
        members=members,
        winner_index=winner_index,
        honest_pool=honest_pool,
        max_bidders=max_bidders,
    )
    order = list(prices)
    rng.shuffle(order)
    bids = tuple(
        BidPrice(bidder, round(prices[bidder], 2), deadline - timedelta(minutes=rng.randrange(30, 60 * 72)))
        for bidder in order
    )
    winner_id = min(bids, key=lambda bid: bid.amount).bidder
    lot = LotBids(
        ocid=ocid,
        lot=lot_id,
        bids=bids,
        currency="CNY",
        estimate=estimate,
        winner=winner_id,
        buyer=buyer,
        market=market,
        date=deadline.date(),
        price_formula="lowest",
    )
    tender_text = _tender_text(_rng(seed, ocid, lot_id, "tender"), project) if texts else ""
    shared_proposal = (
        _proposal(_rng(seed, ocid, lot_id, "shared"), project) if kind == IDENTICAL_DOCUMENTS and texts else None
    )
    device = hashlib.sha256(f"{seed}:{ocid}:{lot_id}:device".encode()).hexdigest()
    signals: list[BidSignals] = []
    for bid in order:
        own = _rng(seed, ocid, lot_id, bid)
        index = int(bid.removeprefix("SIM-B"))
        text = ""
        if texts:
            proposal = shared_proposal if shared_proposal and bid in planted else _proposal(own, project)
            text = _bid_text(own, names[bid], project, tender_text, proposal)
        signals.append(
            BidSignals(
                bidder=bid,
                bidder_name=names[bid],
                device_hash=device
                if kind == SHARED_DEVICE and bid in planted
                else hashlib.sha256(f"{seed}:{bid}:device".encode()).hexdigest(),
                file_digests=(hashlib.sha256(text.encode()).hexdigest(),) if texts else (),
                # per bidder and unique: honest bidders never share an office address, phone or manager
                submit_ip=f"10.{index // 250}.{index % 250 + 1}.{own.randrange(2, 254)}",
                contacts=(f"139{seed % 1000:03d}{index:05d}",),
                project_manager=f"{_person(_rng(seed, bid, 'manager'))}（证号 PM{seed % 1000:03d}{index:05d}）",
                texts=(text,) if texts else (),
            )
        )
    truth = LotTruth(
        kinds=frozenset({kind, COVER_BIDDING} if kind == BID_ROTATION else {kind}) if kind else frozenset(),
        members=planted,
        price_traces=kind in PRICE_TRACE_KINDS,
    )
    return SimulatedLot(lot, tuple(signals), tender_text, truth)


def _prices(
    rng: random.Random,
    *,
    common_cost: float,
    kind: str | None,
    members: list[str],
    winner_index: int,
    honest_pool: list[str],
    max_bidders: int,
) -> tuple[dict[str, float], tuple[str, ...]]:
    """Each bidder's price in a lot, and the cartel members planted in it."""
    prices: dict[str, float] = {}

    def honest_price() -> float:
        return common_cost * rng.lognormvariate(0, 0.05) * (1 + rng.uniform(0.02, 0.14))

    if kind in (COVER_BIDDING, BID_ROTATION):
        planted = tuple(members if kind == BID_ROTATION else rng.sample(members, rng.randint(3, len(members))))
        winner = planted[winner_index % len(planted)]
        winning = common_cost * (1 + rng.uniform(0.15, 0.25))
        prices[winner] = winning
        for cover in planted:
            if cover != winner:
                prices[cover] = winning * (1 + rng.uniform(0.05, 0.08)) * (1 + rng.gauss(0, 0.004))
        return prices, planted
    count = rng.randint(3, max_bidders)
    planted = tuple(rng.sample(members, 2 if kind == COPIED_PRICE else rng.randint(2, 3))) if kind else ()
    outsiders = rng.sample(honest_pool, max(0, count - len(planted)))
    if kind is None and rng.random() < _MEMBER_COMPETES_SHARE:
        # cartel members also compete honestly elsewhere: the market screens must tell the difference
        outsiders[0] = rng.choice(members)
    for bidder in (*planted, *outsiders):
        prices[bidder] = honest_price()
    if kind == COPIED_PRICE:
        original, copier = planted
        # 0.001 %–0.01 %: a few yuan to a few hundred on a typical lot, far closer than honest bids
        # fall by chance (ProZorro's 43,789.00 against 43,788.90 is 0.0002 %, reference §4.6)
        prices[copier] = prices[original] * (1 + rng.choice((-1, 1)) * rng.uniform(0.00001, 0.0001))
    return prices, planted


# --- documents -----------------------------------------------------------------------------------

_TENDER_CLAUSES = (
    "投标人应具备独立法人资格，具有有效的营业执照，并具备相应的资质证书和安全生产许可证。",
    "本项目实行资格后审，投标人须在投标截止时间前通过交易平台递交加密的电子投标文件，逾期送达的投标文件将被拒绝。",
    "投标保证金的金额为人民币贰万元整，可以采用银行保函或者电子保函的形式提交，有效期应与投标有效期一致。",
    "评标委员会按照招标文件规定的评标办法，对通过初步评审的投标文件进行详细评审，并推荐排名前三的中标候选人。",
    "投标人应当对招标文件提出的实质性要求和条件作出响应，未作出实质性响应的投标将被否决。",
    "工程质量应达到国家现行施工质量验收规范合格标准，施工过程中应严格执行安全文明施工的各项规定。",
    "投标报价应包括完成本项目所需的全部费用，包括人工费、材料费、机械使用费、管理费、利润、规费和税金。",
    "中标人不得将中标项目转包，也不得违法分包；经招标人同意的分包工作不得再次分包。",
    "招标人对招标文件所作的澄清或者修改，将在投标截止时间至少十五日前以书面形式通知所有获取招标文件的潜在投标人。",
    "投标有效期为投标截止之日起九十日历天，在此期间投标人不得撤销其投标文件。",
)
_OPENINGS = ("为确保", "针对", "结合", "围绕", "依据", "按照")
_SUBJECTS = (
    "现场地质条件复杂的特点",
    "工期紧、交叉作业多的实际情况",
    "雨季施工和夜间施工的要求",
    "既有管线密集的现场环境",
    "业主对质量和进度的双重要求",
    "周边居民出行和环境保护的需要",
    "材料供应周期较长的问题",
    "多专业协同施工的组织难点",
)
_ACTIONS = (
    "我方将成立以项目经理为核心的项目管理部",
    "我方拟采用分段流水作业的施工组织方式",
    "我方将配置足够的机械设备和专业作业班组",
    "我方将实施样板引路和首件验收制度",
    "我方将建立每日例会和周进度分析制度",
    "我方将采用信息化平台对质量安全进行实时监控",
    "我方将提前编制专项施工方案并组织专家论证",
    "我方将设立专职安全员并落实三级安全教育",
)
_RESULTS = (
    "确保关键线路上的工作按期完成",
    "把质量通病消除在萌芽状态",
    "将扬尘和噪声控制在规定限值以内",
    "保证各工序之间的有序衔接",
    "使重大危险源处于受控状态",
    "实现文明施工标准化工地的目标",
    "将返工率控制在百分之一以内",
    "确保竣工资料与工程进度同步形成",
)


def _tender_text(rng: random.Random, project: str) -> str:
    clauses = list(_TENDER_CLAUSES)
    rng.shuffle(clauses)
    return "\n".join([f"{project}招标文件", *(f"第{i + 1}条 {clause}" for i, clause in enumerate(clauses))])


def _proposal(rng: random.Random, project: str) -> str:
    paragraphs = []
    for _ in range(rng.randint(4, 6)):
        sentences = [
            f"{rng.choice(_OPENINGS)}{rng.choice(_SUBJECTS)}，{rng.choice(_ACTIONS)}，{rng.choice(_RESULTS)}。"
            for _ in range(rng.randint(3, 5))
        ]
        sentences.append(
            f"本标段计划投入管理人员{rng.randint(6, 30)}名、作业人员{rng.randint(40, 300)}名，"
            f"工期{rng.randint(90, 540)}日历天。"
        )
        paragraphs.append("".join(sentences))
    return f"{project}技术标（施工组织设计）\n" + "\n".join(paragraphs)


def _bid_text(rng: random.Random, name: str, project: str, tender_text: str, proposal: str) -> str:
    quoted = [line for line in tender_text.split("\n")[1:] if rng.random() < _QUOTED_SHARE]
    return "\n".join(
        [
            f"投标函\n致：{project}招标人\n我方{name}已仔细研究招标文件，愿意按照招标文件的要求承担本项目的实施。",
            "对招标文件实质性条款的响应：",
            *quoted,
            proposal,
            f"投标人：{name}（盖单位章）",
        ]
    )


def _person(rng: random.Random) -> str:
    return f"{rng.choice(_SURNAMES)}{rng.choice(_GIVEN)}{rng.choice(_GIVEN)}"


def _rng(*parts: object) -> random.Random:
    return random.Random(":".join(map(str, parts)))  # noqa: S311 - a reproducible simulation, not a secret


def _bidder_id(number: int) -> str:
    return f"SIM-B{number:04d}"


def _buyer_id(number: int) -> str:
    return f"SIM-T{number:02d}"


def _company_suffix(number: int) -> str:
    return f"第{number + 1}工程有限公司" if number % 3 else f"集团{number + 1}有限公司"


# --- OCDS writer -----------------------------------------------------------------------------------


def to_ocds_package(
    market: SimulatedMarket | Iterable[SimulatedLot],
    *,
    names: Mapping[str, str] | None = None,
    published: datetime | None = None,
) -> Iterator[bytes]:
    """The lots as a streamed OCDS 1.1 release package (bids and lots extensions), one release per tender.

    Lots of one tender must be consecutive (``iter_simulated`` and ``simulate`` yield them so). Party
    names come from the market, else ``names`` (``party_names(seed)``), else the ids stand in.
    """
    lots = market.simulated_lots() if isinstance(market, SimulatedMarket) else iter(market)
    if names is None:
        names = market.names if isinstance(market, SimulatedMarket) else {}
    when = (published or datetime(2026, 1, 1, tzinfo=UTC)).isoformat()
    head = {
        "uri": "https://ggzy.example/ocds/simulated.json",
        "version": "1.1",
        "publishedDate": when,
        "publisher": {"name": "ggzy simulator"},
        "license": "https://creativecommons.org/publicdomain/zero/1.0/",
        "extensions": [BIDS_EXTENSION, LOTS_EXTENSION],
    }
    yield json.dumps(head, ensure_ascii=False)[:-1].encode() + b', "releases": ['
    first = True
    group: list[SimulatedLot] = []
    for item in lots:
        if group and group[0].bids.ocid != item.bids.ocid:
            yield (b"" if first else b",\n") + _release(group, names).encode()
            first = False
            group = []
        group.append(item)
    if group:
        yield (b"" if first else b",\n") + _release(group, names).encode()
    yield b"]}\n"


def _release(group: list[SimulatedLot], names: Mapping[str, str]) -> str:
    first = group[0].bids
    ocid = first.ocid
    deadline = datetime.combine(first.date or date(2025, 1, 1), datetime.min.time(), tzinfo=UTC).replace(
        hour=9, minute=30
    )
    multi = first.lot is not None
    category, classification, _year = (first.market or "-|-|-").split("|")
    scheme, _, code = classification.partition(":")
    roles: dict[str, list[str]] = {}

    def party(party_id: str, role: str) -> dict[str, str]:
        held = roles.setdefault(party_id, [])
        if role not in held:
            held.append(role)
        return {"id": party_id, "name": names.get(party_id, party_id)}

    buyer = party(first.buyer or "unknown", "buyer")
    details: list[dict[str, object]] = []
    awards: list[dict[str, object]] = []
    lots: list[dict[str, object]] = []
    items: list[dict[str, object]] = []
    for item in group:
        lot = item.bids
        related: dict[str, object] = {"relatedLots": [lot.lot]} if multi else {}
        if multi:
            lots.append(
                {"id": lot.lot, "title": f"第{lot.lot}标段", "value": _money(lot.estimate), "status": "complete"}
            )
        items.append(
            {"id": f"item-{lot.lot or 1}", "classification": {"scheme": scheme, "id": code}}
            | ({"relatedLot": lot.lot} if multi else {})
        )
        for number, bid in enumerate(lot.bids, start=1):
            detail: dict[str, object] = {
                "id": f"{lot.lot or 1}-{number}",
                "date": bid.submitted_at.isoformat() if bid.submitted_at else None,
                "status": "valid",
                "tenderers": [party(bid.bidder, "tenderer")],
                "value": {"amount": bid.amount, "currency": lot.currency},
            }
            details.append(detail | related)
        if lot.winner:
            award: dict[str, object] = {
                "id": f"award-{lot.lot or 1}",
                "status": "active",
                "suppliers": [party(lot.winner, "supplier")],
            }
            awards.append(award | related)
    tender: dict[str, object] = {
        "id": ocid.rsplit("-", 1)[-1],
        "status": "complete",
        "procurementMethod": "open",
        "awardCriteria": "priceOnly",
        "mainProcurementCategory": category,
        "value": _money(sum(item.bids.estimate or 0 for item in group) if multi else first.estimate),
        "tenderPeriod": {"endDate": deadline.isoformat()},
        "items": items,
    }
    if multi:
        tender["lots"] = lots
    release = {
        "ocid": ocid,
        "id": f"{ocid}-award",
        "date": deadline.isoformat(),
        "tag": ["award"],
        "initiationType": "tender",
        "parties": [{"id": pid, "name": names.get(pid, pid), "roles": held} for pid, held in roles.items()],
        "buyer": buyer,
        "tender": tender,
        "bids": {"details": details},
        "awards": awards,
    }
    return json.dumps(release, ensure_ascii=False)


def _money(amount: float | None) -> dict[str, object] | None:
    return {"amount": amount, "currency": "CNY"} if amount is not None else None


# --- scoring detections against the truth ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Score:
    """Precision and recall of one rule (or of the combined lot flag) over the simulated lots."""

    name: str
    kinds: frozenset[str]  # the planted kinds counted as this row's positives
    true_positives: int
    false_positives: int
    false_negatives: int

    @property
    def precision(self) -> float | None:
        predicted = self.true_positives + self.false_positives
        return self.true_positives / predicted if predicted else None

    @property
    def recall(self) -> float | None:
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else None


@dataclass(frozen=True, slots=True)
class Report:
    rules: tuple[Score, ...]
    combined: Score  # the lot flag, over honest lots and lots whose cartel leaves price traces
    lots: int
    left_out_of_combined: int  # planted lots without price traces: no price flag is expected there

    def to_text(self) -> str:
        def percent(value: float | None) -> str:
            return "—" if value is None else f"{value:6.1%}"

        width = max([len("rule"), len("combined lot flag"), *(len(score.name) for score in self.rules)])
        lines = [
            f"{'rule':<{width}}  {'TP':>5} {'FP':>5} {'FN':>5}  {'precision':>9} {'recall':>7}  planted kinds",
        ]
        for score in (*self.rules, self.combined):
            name = "combined lot flag" if score is self.combined else score.name
            lines.append(
                f"{name:<{width}}  {score.true_positives:>5} {score.false_positives:>5} {score.false_negatives:>5}"
                f"  {percent(score.precision):>9} {percent(score.recall):>7}  {', '.join(sorted(score.kinds)) or '—'}"
            )
        lines.append(
            f"{self.lots} lots; the combined flag is scored on honest lots and lots with price traces "
            f"({self.left_out_of_combined} planted lots without price traces left out)"
        )
        return "\n".join(lines)


def evaluate_detections(
    truth: Mapping[LotKey, LotTruth],
    fired: Mapping[LotKey, set[str]],
    flagged: Mapping[LotKey, bool],
    rule_kinds: Mapping[str, set[str]],
) -> Report:
    """Precision and recall per rule and for the combined lot flag.

    A rule's positives are the lots with a planted kind the rule is meant to catch
    (``rule_kinds[rule]``); it fires on a lot when its id is in ``fired[lot]``. The combined flag is
    scored on honest lots and lots whose cartel leaves price traces; planted lots without price
    traces (identical documents, shared devices) are left out of that row, since no price screen can
    see them, and counted in ``left_out_of_combined``. A lot in ``fired`` or ``flagged`` that is not
    in ``truth``, or a fired rule without ``rule_kinds``, is refused by name.
    """
    for mapping, what in ((fired, "fired"), (flagged, "flagged")):
        unknown = [key for key in mapping if key not in truth]
        if unknown:
            raise ValueError(f"{what}: lot {unknown[0]!r} is not in the truth (wrong seed or package?)")
    named = {rule for rules in fired.values() for rule in rules}
    missing = sorted(named - set(rule_kinds))
    if missing:
        raise ValueError(f"fired: rule {missing[0]!r} has no entry in rule_kinds")
    scores = []
    for rule, kinds in sorted(rule_kinds.items()):
        tp = fp = fn = 0
        for key, lot in truth.items():
            positive = bool(lot.kinds & kinds)
            fires = rule in fired.get(key, set())
            tp += positive and fires
            fp += fires and not positive
            fn += positive and not fires
        scores.append(Score(rule, frozenset(kinds), tp, fp, fn))
    tp = fp = fn = left_out = 0
    for key, lot in truth.items():
        if lot.kinds and not lot.price_traces:
            left_out += 1
            continue
        flag = flagged.get(key, False)
        tp += lot.price_traces and flag
        fp += flag and not lot.price_traces
        fn += lot.price_traces and not flag
    combined = Score("combined", PRICE_TRACE_KINDS, tp, fp, fn)
    return Report(tuple(scores), combined, len(truth), left_out)
