"""Fixtures for the certs suite: one development PKI per session (key generation is the slow part).

The certs tests are pure: no database, no application, no network. External verifiers
(``openssl``, ``pdfsig``) run as subprocesses on files under ``tmp_path``.
"""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from certs.devpki.devlist import PEER_NAME, dev_trust_list, peer_trust_list
from certs.devpki.pki import DevPki, PkiFetcher, build_dev_pki
from certs.pathval.revocation import RevocationChecker
from certs.pathval.validate import PathValidator
from certs.trustlist.registry import TrustRegistry
from certs.trustlist.sign import PublishedList, publish
from certs.trustlist.verify import MemorySequenceStore, load_trust_list
from certs.tsa.client import LocalTsa
from certs.tsa.server import TimeStampAuthority

# No example database in the work tree, no per-example deadline (key wrapping is slower than the
# default 200 ms on a loaded 2-core machine); session fixtures are fine to share between examples.
settings.register_profile(
    "certs", database=None, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
settings.load_profile("certs")


@pytest.fixture(scope="session")
def pki() -> DevPki:
    return build_dev_pki()


@pytest.fixture
def fetcher(pki: DevPki) -> PkiFetcher:
    return PkiFetcher(pki)


@pytest.fixture(scope="session")
def tsa_authority(pki: DevPki) -> TimeStampAuthority:
    serials = itertools.count(1)
    return TimeStampAuthority(
        identity=pki.tsa.signing(),
        clock=lambda: datetime.now(UTC).replace(microsecond=0),
        serials=lambda: next(serials),
    )


@pytest.fixture(scope="session")
def tsa(tsa_authority: TimeStampAuthority) -> LocalTsa:
    return LocalTsa(tsa_authority)


@pytest.fixture(scope="session")
async def published(pki: DevPki, tsa: LocalTsa) -> PublishedList:
    return await publish(dev_trust_list(pki), pki.operator.signing(), tsa=tsa)


@pytest.fixture(scope="session")
async def peer_published(pki: DevPki, tsa: LocalTsa) -> PublishedList:
    return await publish(peer_trust_list(pki), pki.peer_operator.signing(), tsa=tsa)


@pytest.fixture(scope="session")
def registry(pki: DevPki, published: PublishedList, peer_published: PublishedList) -> TrustRegistry:
    """Our verified list plus the Anhui peer's, as a platform would load them."""
    store = MemorySequenceStore()
    own = load_trust_list(
        published.document, published.signature, pinned=[pki.operator.certificate], now=pki.now, store=store
    )
    registry = TrustRegistry(own)
    pointer = registry.pointer(PEER_NAME)
    peer = load_trust_list(
        peer_published.document,
        peer_published.signature,
        pinned=pointer.operator_certificates,
        now=pki.now,
        store=store,
    )
    registry.add_peer(peer)
    return registry


@pytest.fixture
def validator(registry: TrustRegistry, fetcher: PkiFetcher, pki: DevPki) -> PathValidator:
    return PathValidator(registry, RevocationChecker(fetcher, clock=lambda: pki.now))


PDF_TEXT = (
    "开标记录 南京示例建设工程有限公司 合肥示例工程咨询有限公司 "
    "投标报价 人民币壹仟贰佰叁拾肆万元整 工期日历天 评标报告 中标通知书"
)


@pytest.fixture(scope="session")
def cjk_font(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Noto Sans CJK SC subset to the characters the test documents use (rendering then takes ~50 ms)."""
    from fontTools import subset
    from fontTools.ttLib import TTFont

    options = subset.Options()
    options.font_number = 2
    options.layout_features = ["*"]
    path = tmp_path_factory.mktemp("fonts") / "cjk-subset.otf"
    with TTFont("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", fontNumber=2, lazy=True) as font:
        subsetter = subset.Subsetter(options)
        subsetter.populate(text=PDF_TEXT + "".join(chr(c) for c in range(32, 127)) + "：，。（）")
        subsetter.subset(font)
        font.save(str(path))
    return path


@pytest.fixture(scope="session")
def render_pdf(cjk_font: Path):
    import weasyprint

    def render(body_html: str) -> bytes:
        html = (
            "<html><head><style>"
            f"@font-face {{ font-family: CJK; src: url({cjk_font.as_uri()}); }}"
            "body { font-family: CJK; font-size: 12pt; } @page { size: A4; margin: 2cm; }"
            f"</style></head><body>{body_html}</body></html>"
        )
        return weasyprint.HTML(string=html).write_pdf()

    return render
