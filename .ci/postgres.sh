# A throw-away PostgreSQL cluster on a private port and socket folder, owned by 'postgres'.
# Usage: source .ci/postgres.sh; start_postgres; ... ; stop_postgres   (exports PG_URL, PG_BIN)
# pg_down / pg_up stop and start the same cluster again, keeping its data (the fault tests).
PG_PORT=${PG_PORT:-55432}
PG_DIR=${PG_DIR:-/tmp/dangan-pg}
PG_URL="postgresql+psycopg://dangan:dangan@127.0.0.1:${PG_PORT}/dangan"
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1)}

start_postgres() {
  rm -rf "$PG_DIR"; mkdir -p "$PG_DIR"; chown postgres "$PG_DIR"
  su postgres -c "$PG_BIN/initdb -D $PG_DIR/data -A trust -U postgres" >/dev/null
  # the port and socket live in the cluster's own settings, so pg_up needs no options
  printf "port = %s\nunix_socket_directories = '%s'\nlisten_addresses = '127.0.0.1'\n" \
    "$PG_PORT" "$PG_DIR" >> "$PG_DIR/data/postgresql.conf"
  pg_up
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE dangan LOGIN PASSWORD 'dangan' SUPERUSER" >/dev/null
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE dangan OWNER dangan" >/dev/null
  export PG_URL PG_BIN PG_PORT PG_DIR
}

pg_up() {
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR/data -l $PG_DIR/log -w start" >/dev/null
}

pg_down() {
  su postgres -c "$PG_BIN/pg_ctl -D $PG_DIR/data -m fast -w stop" >/dev/null
}

stop_postgres() {
  pg_down 2>/dev/null || true
}
