"""The web shell: templates, layout, HTMX helpers, locale and error pages shared by every package."""

from pathlib import Path

STATIC_DIR = Path(__file__).parent / "static"
