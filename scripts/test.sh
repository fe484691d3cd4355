#!/usr/bin/env bash
# The whole suite: static checks, then every test (PostgreSQL, Redis, a real Celery worker,
# the SQLite embedded smoke test, Chromium through Playwright). Extra arguments go to pytest.
#
# pytest-xdist runs one worker per CPU (GGZY_TEST_WORKERS overrides); each worker has its own
# databases and var directory, a module stays on one worker and the browser tests share one
# (tests/conftest.py). Branch coverage of the four packages is measured on the way and the run
# fails under the floor in pyproject.toml ([tool.coverage.report] fail_under).
set -euo pipefail
cd "$(dirname "$0")/.."
echo "== ruff";   .venv/bin/ruff check .
echo "== format"; .venv/bin/ruff format --check .
echo "== mypy";   .venv/bin/mypy
echo "== vulture"; .venv/bin/vulture
echo "== pytest"
.venv/bin/pytest -n "${GGZY_TEST_WORKERS:-logical}" --dist loadfile \
  --cov --cov-report=xml:var/coverage.xml "$@"
