"""The web shell: templates, layout, HTMX helpers, locale and error pages shared by every package."""
