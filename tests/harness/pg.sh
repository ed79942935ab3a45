# A throwaway PostgreSQL from Debian's packages, for tests and the demo.
# Sourced, never run. Needs: postgresql-15 (scripts/bootstrap installs it).
#
#   pg_start [PORT]  initdb a fresh cluster in a temp dir, start it on
#                    127.0.0.1:PORT (a free port when not given) with trust
#                    auth for user 'otap', and export PG_DIR, PG_PORT,
#                    PG_URL (postgresql://otap@127.0.0.1:PORT/otap)
#   pg_stop          stop it (fast shutdown); the data stays for pg_start_again
#   pg_start_again   start the same cluster again
#   pg_destroy       stop it and remove every trace
#
# As root, the server runs as the 'postgres' user (initdb refuses root).
# Tests run with fsync off; PG_FSYNC=on gives a durable server (benchmarks).

PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)}

_pg_as() {
  if [ "$(id -u)" -eq 0 ]; then
    # from /, which the postgres user can enter whatever the caller's directory
    (cd / && runuser -u postgres -- "$@")
  else
    "$@"
  fi
}

pg_start() {
  [ -x "$PG_BIN/initdb" ] || { echo "pg_start: no PostgreSQL server in /usr/lib/postgresql; run scripts/bootstrap" >&2; return 1; }
  PG_PORT=${1:-$(free_port 30000 32700)}
  PG_DIR=$(mktemp -d /tmp/otap-pg.XXXXXX)
  chmod 755 "$PG_DIR"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$PG_DIR"
  _pg_as "$PG_BIN/initdb" -D "$PG_DIR/data" -U otap --auth=trust -E UTF8 --locale=C.UTF-8 \
    >"$PG_DIR/initdb.log" 2>&1 || { cat "$PG_DIR/initdb.log" >&2; return 1; }
  export PG_DIR PG_PORT
  export PG_URL="postgresql://otap@127.0.0.1:$PG_PORT/otap"
  pg_start_again || return 1
  _pg_as "$PG_BIN/createdb" -h "$PG_DIR" -p "$PG_PORT" -U otap otap || return 1
}

pg_start_again() {
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=${PG_FSYNC:-off}" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; return 1; }
}

pg_stop() {
  [ -n "${PG_DIR:-}" ] && [ -f "$PG_DIR/data/postmaster.pid" ] || return 0
  _pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
}

pg_destroy() {
  [ -n "${PG_DIR:-}" ] || return 0
  pg_stop || true
  rm -rf "$PG_DIR"
  unset PG_DIR PG_PORT PG_URL
}
