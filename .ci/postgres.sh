# Sourced by .ci/run: a throw-away PostgreSQL server on 127.0.0.1 for the tuner's
# several-workers test. Installs Debian's postgresql package if it is missing, starts a
# fresh cluster on a free port (as the postgres user when run as root), creates a
# database, exports CNNLAB_TEST_POSTGRES_URL, and stops and deletes it all on exit.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
fi
PG_BIN="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
PG_DIR="$(mktemp -d /tmp/cnnlab-pg.XXXXXX)"
PG_PORT="$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
pg_as_owner() {
    if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
[ "$(id -u)" = 0 ] && chown postgres "$PG_DIR"
stop_postgres() {
    pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap stop_postgres EXIT
pg_as_owner "$PG_BIN/initdb" -D "$PG_DIR/data" -A trust -U cnnlab >/dev/null
pg_as_owner "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR" start >/dev/null
pg_as_owner "$PG_BIN/createdb" -h 127.0.0.1 -p "$PG_PORT" -U cnnlab cnnlab_tune
export CNNLAB_TEST_POSTGRES_URL="postgresql://cnnlab@127.0.0.1:$PG_PORT/cnnlab_tune"
