"""Per-certificate caches whose hit costs a dictionary lookup, not a hash of the certificate.

`functools.lru_cache` keyed by an `x509.Certificate` hashes the certificate's whole DER on every call
(≈ 2 µs each; a guarantee's verification made about thirty such lookups). A certificate object is
immutable and the verifiers hand the same objects around (`certs.cms` keeps one per exact DER, the
trust registry keeps its own), so `per_certificate` first looks the object up by identity: the entry
holds the object itself, so its id cannot be reused while the entry exists. Another object with the
same DER falls through to the ``lru_cache`` underneath (equal certificates, equal answers), as before.
Only values are cached, never exceptions (as ``lru_cache``).
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, update_wrapper
from typing import Any, Final, Generic, TypeVar

from cryptography import x509

R = TypeVar("R")

_DEFAULT_SIZE: Final = 4096


class PerCertificate(Generic[R]):
    """``function(certificate, *hashable_args)`` cached by the certificate object's identity, then by its DER."""

    def __init__(self, function: Callable[..., R], maxsize: int) -> None:
        self._slow = lru_cache(maxsize=maxsize)(function)
        self._by_id: dict[tuple[int, tuple[Any, ...]], tuple[x509.Certificate, R]] = {}
        self._maxsize = maxsize
        update_wrapper(self, function)

    def __call__(self, certificate: x509.Certificate, *args: Any) -> R:
        key = (id(certificate), args)
        hit = self._by_id.get(key)
        if hit is not None and hit[0] is certificate:
            return hit[1]
        value = self._slow(certificate, *args)
        if len(self._by_id) >= self._maxsize:
            self._by_id.clear()
        self._by_id[key] = (certificate, value)  # the object kept alive: its id stays its own
        return value

    def cache_clear(self) -> None:
        self._by_id.clear()
        self._slow.cache_clear()


def per_certificate(maxsize: int = _DEFAULT_SIZE) -> Callable[[Callable[..., R]], PerCertificate[R]]:
    """Decorate a pure function of a certificate (and hashable arguments) with `PerCertificate`."""

    def wrap(function: Callable[..., R]) -> PerCertificate[R]:
        return PerCertificate(function, maxsize)

    return wrap
