# A throw-away Redis server on a private port, for the shared-mode (Celery) tests.
# Usage: source .ci/redis.sh; start_redis; ... ; stop_redis     (exports REDIS_URL)
REDIS_PORT=${REDIS_PORT:-56379}
REDIS_DIR=${REDIS_DIR:-/tmp/dangan-redis}
REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"

start_redis() {
  rm -rf "$REDIS_DIR"; mkdir -p "$REDIS_DIR"
  # no persistence, loopback only, no protected-mode surprises: a test broker, nothing more
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/log"
  local i
  for i in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && { export REDIS_URL; return 0; }
    sleep 0.1
  done
  echo "redis-server did not start on port $REDIS_PORT (see $REDIS_DIR/log)" >&2
  return 1
}

stop_redis() {
  if [ -f "$REDIS_DIR/redis.pid" ]; then
    kill "$(cat "$REDIS_DIR/redis.pid")" 2>/dev/null || true
  fi
}
