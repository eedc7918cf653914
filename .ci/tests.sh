#!/usr/bin/env bash
# Runs the suite on the embedded default (SQLite), then the database suite on a real
# PostgreSQL server started here from Debian's packages.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
export OMP_THREAD_LIMIT=1

# The code's shape first: lint and format, types of the public API, import contracts.
.venv/bin/ruff check src tests bench
.venv/bin/ruff format --check src tests bench
.venv/bin/mypy
.venv/bin/lint-imports
# Every message in the catalogues, translated, none fuzzy, the compiled .mo files up to date.
$PY scripts/messages.py check

$PY -m pytest -q tests

# A wheel built from the checkout runs the demo in a fresh virtualenv outside it.
bash .ci/wheel.sh

if [ -n "${DANGAN_SKIP_POSTGRES:-}" ]; then
  echo "DANGAN_SKIP_POSTGRES set: PostgreSQL suite skipped"; exit 0
fi
source .ci/postgres.sh
source .ci/redis.sh
start_postgres
start_redis
trap 'stop_redis; stop_postgres' EXIT
# The database suite again on a real PostgreSQL server, then shared mode: stations and
# OCR workers through Redis against the same server.
DANGAN_TEST_DB="$PG_URL" $PY -m pytest -q -m database tests
# The fault tests stop and start these servers mid-batch, through .ci/server.sh.
export PG_PORT PG_DIR REDIS_PORT REDIS_DIR
export DANGAN_TEST_PG_STOP="$PWD/.ci/server.sh postgres stop" DANGAN_TEST_PG_START="$PWD/.ci/server.sh postgres start"
export DANGAN_TEST_REDIS_STOP="$PWD/.ci/server.sh redis stop" DANGAN_TEST_REDIS_START="$PWD/.ci/server.sh redis start"
DANGAN_TEST_DB="$PG_URL" DANGAN_TEST_REDIS="$REDIS_URL" $PY -m pytest -q -m distributed tests/distributed
