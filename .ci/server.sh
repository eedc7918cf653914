#!/usr/bin/env bash
# Stop or start the test servers of .ci/postgres.sh and .ci/redis.sh again, for the shared-mode
# fault tests (DANGAN_TEST_PG_STOP etc. in .ci/tests.sh). Uses the same PG_PORT, PG_DIR,
# REDIS_PORT and REDIS_DIR as the servers were started with.
#   .ci/server.sh postgres|redis stop|start
set -euo pipefail
cd "$(dirname "$0")"
source ./postgres.sh
source ./redis.sh
case "$1 $2" in
  "postgres stop") pg_down ;;
  "postgres start") pg_up ;;
  "redis stop") redis_down ;;
  "redis start") redis_up ;;
  *) echo "usage: $0 postgres|redis stop|start" >&2; exit 2 ;;
esac
