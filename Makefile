# The two commands of the README. Both install what is missing first (see scripts/bootstrap.sh).
.PHONY: run test lint bench

run:
	scripts/bootstrap.sh
	.venv/bin/ggzy run

test:
	scripts/bootstrap.sh --test
	scripts/test.sh

lint:
	.venv/bin/ruff check . && .venv/bin/ruff format --check . && .venv/bin/mypy && .venv/bin/lint-imports \
		&& .venv/bin/vulture

bench:
	scripts/bootstrap.sh --bench
	.venv/bin/python bench/ledger.py
	.venv/bin/python bench/http_auth.py
	.venv/bin/python bench/certs.py --seconds 3
	.venv/bin/python bench/intermediary.py
	.venv/bin/python bench/submission.py
	.venv/bin/python bench/pdf.py
	.venv/bin/python bench/opening.py
	.venv/bin/python bench/evaluation/aggregate.py
