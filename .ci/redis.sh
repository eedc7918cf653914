# A throw-away Redis server on a private port, for the shared-mode (Celery) tests.
# Usage: source .ci/redis.sh; start_redis; ... ; stop_redis     (exports REDIS_URL)
# redis_down / redis_up stop and start it again (the fault tests); like a crash of a Redis
# without persistence, a restart forgets the queue.
REDIS_PORT=${REDIS_PORT:-56379}
REDIS_DIR=${REDIS_DIR:-/tmp/dangan-redis}
REDIS_URL="redis://127.0.0.1:${REDIS_PORT}/0"

start_redis() {
  rm -rf "$REDIS_DIR"; mkdir -p "$REDIS_DIR"
  redis_up && export REDIS_URL REDIS_PORT REDIS_DIR
}

redis_up() {
  # no persistence, loopback only, no protected-mode surprises: a test broker, nothing more
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$REDIS_DIR" --save '' --appendonly no \
    --daemonize yes --pidfile "$REDIS_DIR/redis.pid" --logfile "$REDIS_DIR/log"
  local i
  for i in $(seq 1 50); do
    redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  echo "redis-server did not start on port $REDIS_PORT (see $REDIS_DIR/log)" >&2
  return 1
}

redis_down() {
  local pid i
  [ -f "$REDIS_DIR/redis.pid" ] || return 0
  pid=$(cat "$REDIS_DIR/redis.pid")
  kill "$pid" 2>/dev/null || return 0
  for i in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.05
  done
  echo "redis-server (pid $pid) did not stop" >&2
  return 1
}

stop_redis() {
  redis_down || true
}
