"""Electronic seal images: the red round seal (公章) shown where a PDF is signed.

A seal image is bound to a signature by being the appearance of that signature's field (PAdES,
`certs.sign.pades`): it is drawn inside the signed revision, so it cannot be moved to another
document or signature. Organisations register their own seal image; `render_seal_image` draws a
conventional one (red ring, the organisation's name along the upper arc, a star, the seal's
purpose underneath) for the platform's own seal and for demos, using a CJK font from Debian's
``fonts-noto-cjk``.
"""

from __future__ import annotations

import io
import math
from pathlib import Path
from typing import Final

from PIL import Image, ImageDraw, ImageFont

DEFAULT_FONT: Final = Path("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc")
SEAL_RED: Final = (220, 30, 30, 255)
_SC_INDEX: Final = 2  # Simplified Chinese face inside the Noto CJK collection


def _font(path: Path, size: int) -> ImageFont.FreeTypeFont:
    index = _SC_INDEX if path.suffix == ".ttc" else 0
    return ImageFont.truetype(str(path), size=size, index=index)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else radius * 0.382
        angle = -math.pi / 2 + i * math.pi / 5
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def render_seal_image(
    name: str, purpose: str = "电子签章", *, size: int = 360, font_path: Path = DEFAULT_FONT
) -> bytes:
    """A PNG (transparent background) of a round seal reading ``name`` along its upper arc."""
    image = Image.new("RGBA", (size, size), (255, 255, 255, 0))
    draw = ImageDraw.Draw(image)
    centre = size / 2
    ring = size * 0.03
    draw.ellipse((ring, ring, size - ring, size - ring), outline=SEAL_RED, width=int(ring * 1.6))
    _star(draw, centre, centre, size * 0.16)
    char_size = max(12, int(size * 0.11))
    font = _font(font_path, char_size)
    # The name runs clockwise over the top, centred, across at most 240 degrees.
    span = min(math.radians(240), len(name) * math.radians(24))
    radius = centre - ring * 2.5 - char_size * 0.65
    for i, char in enumerate(name):
        angle = -math.pi / 2 - span / 2 + (span * (i + 0.5) / len(name))
        glyph = Image.new("RGBA", (char_size * 2, char_size * 2), (255, 255, 255, 0))
        ImageDraw.Draw(glyph).text((char_size, char_size), char, font=font, fill=SEAL_RED, anchor="mm")
        glyph = glyph.rotate(-math.degrees(angle) - 90, resample=Image.Resampling.BICUBIC)
        x = centre + radius * math.cos(angle) - char_size
        y = centre + radius * math.sin(angle) - char_size
        image.alpha_composite(glyph, (int(x), int(y)))
    small = _font(font_path, max(10, int(size * 0.075)))
    draw.text((centre, centre + size * 0.27), purpose, font=small, fill=SEAL_RED, anchor="mm")
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()
