#!/usr/bin/env bash
# with-postgres.sh COMMAND...: runs COMMAND with a throwaway PostgreSQL cluster of
# its own, then removes the cluster. No database server needs to be running and
# nothing outside a temporary directory is touched.
#
#   - installs Debian's PostgreSQL server (apt) when no initdb is found;
#   - initdb into a temporary directory (as the `postgres` user when run as root:
#     PostgreSQL refuses to run as root), trust authentication on 127.0.0.1 only;
#   - starts it on a free local port, its socket in that directory;
#   - exports DANVAN_TEST_POSTGRES=postgres://postgres@127.0.0.1:PORT/postgres
#     (the tests create one database per test in it: crates/server/tests/common);
#   - stops the cluster and deletes the directory when COMMAND ends, whatever its
#     exit status, which it returns.
#
# The cluster runs with fsync off: it is thrown away after the tests, whose
# durability claims are about the server's transactions, not the disk. The
# benchmarks (bench/) use their own clusters with the defaults.
set -euo pipefail

find_bin() {
    local dir
    for dir in /usr/lib/postgresql/*/bin; do
        [ -x "$dir/initdb" ] && { echo "$dir"; return 0; }
    done
    command -v initdb >/dev/null 2>&1 && { dirname "$(command -v initdb)"; return 0; }
    return 1
}

if ! PGBIN=$(find_bin); then
    echo "with-postgres: PostgreSQL server not found; installing Debian's package" >&2
    if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
    $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2 \
        || { $SUDO apt-get update -q >&2 && $SUDO env DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >&2; }
    PGBIN=$(find_bin) || { echo "with-postgres: initdb still missing after installing postgresql" >&2; exit 1; }
fi

DIR=$(mktemp -d -t danvan-pg.XXXXXX)
AS=()
if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir "$DIR" --shell /bin/sh postgres
    chown postgres "$DIR"
    chmod 700 "$DIR"
    AS=(runuser -u postgres --)
fi

PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')

cleanup() {
    "${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -m immediate -w stop >/dev/null 2>&1 || true
    rm -rf "$DIR"
}
trap cleanup EXIT INT TERM

"${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
    || "${AS[@]}" "$PGBIN/initdb" -D "$DIR/data" -U postgres --auth=trust --encoding=UTF8 --locale=C >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; exit 1; }
"${AS[@]}" "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
    -o "-h 127.0.0.1 -p $PORT -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=400" \
    start >/dev/null || { cat "$DIR/server.log" >&2; exit 1; }

export DANVAN_TEST_POSTGRES="postgres://postgres@127.0.0.1:$PORT/postgres"
echo "with-postgres: throwaway cluster on 127.0.0.1:$PORT ($DIR)" >&2
set +e
"$@"
STATUS=$?
set -e
if [ "$STATUS" != 0 ] && [ -s "$DIR/server.log" ]; then
    echo "with-postgres: last lines of the cluster's log:" >&2
    tail -n 20 "$DIR/server.log" >&2
fi
exit "$STATUS"
