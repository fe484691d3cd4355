"""Requests/s of an authenticated JSON endpoint against a bare Litestar endpoint, same run.

    .venv/bin/python bench/http_auth.py

Both apps run under one uvicorn worker on this machine and are loaded by wrk (2 threads, 32
connections, 8 s each). The ggzy endpoint is ``GET /api/v1/auth/me`` with a bearer token: it runs
the whole stack (request id, metrics, the global permission guard, the actor resolved from the
token in PostgreSQL, JSON serialisation). The floor is ``GET /ping`` of ``bench/bare_app.py``:
Litestar with nothing else. Goal: ratio ≥ 0.3.
"""

from __future__ import annotations

import os
import tempfile

import httpx
from common import scratch_database, uvicorn_server, wrk

from trading.kernel.settings import Settings
from trading.server.demo import seed_demo_data

SECONDS = int(os.environ.get("GGZY_BENCH_SECONDS", "8"))


def main() -> None:
    with scratch_database("ggzy_bench_http") as url, tempfile.TemporaryDirectory() as var:
        env = {"GGZY_DB_URL": url, "GGZY_VAR_DIR": var, "GGZY_LOG_LEVEL": "WARNING"}
        settings = Settings(db={"url": url}, var_dir=var)  # type: ignore[arg-type]
        seed_demo_data(settings)
        with uvicorn_server("bench.bare_app:app") as bare:
            bare_rps = wrk(f"{bare}/ping", seconds=SECONDS)
        with uvicorn_server("trading.server.asgi:app", env=env) as ggzy:
            response = httpx.post(
                f"{ggzy}/api/v1/auth/tokens", json={"username": "bidder1", "password": "ggzy-demo-2026"}
            )
            response.raise_for_status()
            body = response.json()
            token = body.get("token") or body["access_token"]
            me = httpx.get(f"{ggzy}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
            assert me.status_code == 200, me.text
            auth_rps = wrk(f"{ggzy}/api/v1/auth/me", seconds=SECONDS, header=f"Authorization: Bearer {token}")
    print(f"bare Litestar GET /ping            {bare_rps:10.0f} req/s  (floor)")
    print(f"ggzy GET /api/v1/auth/me (bearer)  {auth_rps:10.0f} req/s  ratio {auth_rps / bare_rps:.2f}x (goal >= 0.30)")


if __name__ == "__main__":
    main()
