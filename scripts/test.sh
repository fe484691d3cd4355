#!/usr/bin/env bash
# The whole suite: static checks, then every test (PostgreSQL, Redis, a real Celery worker,
# the SQLite embedded smoke test, Chromium through Playwright). Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff";   .venv/bin/ruff check .
echo "== format"; .venv/bin/ruff format --check .
echo "== mypy";   .venv/bin/mypy
echo "== pytest"; .venv/bin/pytest "$@"
