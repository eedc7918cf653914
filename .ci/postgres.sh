# A throw-away PostgreSQL cluster on a private port and socket folder, owned by 'postgres'.
PG_PORT=${PG_PORT:-55432}
PG_DIR=${PG_DIR:-/tmp/dangan-pg}
PG_URL="postgresql+psycopg://dangan:dangan@127.0.0.1:${PG_PORT}/dangan"

start_postgres() {
  local bin
  bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n1)
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"; chown postgres "$PG_DIR"
  su postgres -c "$bin/initdb -D $PG_DIR/data -A trust -U postgres" >/dev/null
  su postgres -c "$bin/pg_ctl -D $PG_DIR/data -o '-p $PG_PORT -k $PG_DIR -c listen_addresses=127.0.0.1' -l $PG_DIR/log -w start" >/dev/null
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE dangan LOGIN PASSWORD 'dangan' SUPERUSER" >/dev/null
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE dangan OWNER dangan" >/dev/null
  export PG_BIN="$bin"
}

stop_postgres() {
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR/data -m fast stop" >/dev/null 2>&1 || true
}
