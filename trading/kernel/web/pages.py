"""Rendering pages and fragments with the context every template may rely on.

Every web handler returns ``await page(request, "pkg/noun_view.html", {...})``. The shared context
is: ``actor`` (the resolved :class:`Actor`), ``request`` and ``csrf_input`` (added by Litestar),
plus whatever the handler passes.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.response import Template

from trading.kernel.auth.guards import current_actor


async def page(
    request: Request[Any, Any, Any],
    template_name: str,
    context: dict[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Template:
    actor = await current_actor(request)
    return Template(template_name=template_name, context={"actor": actor, **(context or {})}, status_code=status_code)
