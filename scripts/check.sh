#!/usr/bin/env bash
# The static checks CI runs before the tests: lint, format, types, migrations.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check .
.venv/bin/ruff format --check .
.venv/bin/mypy
.venv/bin/digitalcity makemigrations --check --dry-run
