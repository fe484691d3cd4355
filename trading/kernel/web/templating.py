"""The Jinja environment, assembled from template folders that packages hand in.

The kernel never names a domain: `trading.server` passes ``(package, folder)`` pairs and this
module builds one environment with a ``ChoiceLoader`` over them, the kernel's own shared layouts
last.
"""

from __future__ import annotations

from collections.abc import Iterable

from jinja2 import ChoiceLoader, Environment, PackageLoader, StrictUndefined, select_autoescape


def build_environment(packages: Iterable[str], *, strict: bool = True) -> Environment:
    loaders = [PackageLoader(package, "templates") for package in packages]
    loaders.append(PackageLoader("trading.kernel.web", "templates"))
    return Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(default=True),
        undefined=StrictUndefined if strict else Environment().undefined,
        extensions=["jinja2.ext.i18n"],
        enable_async=False,
    )
