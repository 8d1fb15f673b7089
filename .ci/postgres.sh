#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite, idempotently.
#
# * installs the server (apt-get) when no initdb/pg_ctl can be found;
# * initdb's a cluster in $PARTNERMINE_PGDATA (default /tmp/partnermine-ci-pgdata:
#   a path the non-root server user can reach wherever the clone lives), owned by
#   a non-root user when run as root (postgres refuses to run as root);
# * listens on 127.0.0.1 only, on a free port, trust auth (loopback, throwaway);
# * creates the database `partnermine_test` and writes .ci/postgres.env with
#   PARTNERMINE_TEST_POSTGRES=postgresql://... (sourced by .ci/run).
#
# Run it again at any time: a running cluster is reused, a stopped one restarted.
# Stop it with: pg_ctl -D /tmp/partnermine-ci-pgdata stop   (as the cluster's owner)
set -euo pipefail
cd "$(dirname "$0")"
CI_DIR="$(pwd)"
PGDATA="${PARTNERMINE_PGDATA:-/tmp/partnermine-ci-pgdata}"
ENV_FILE="$CI_DIR/postgres.env"
DB=partnermine_test
SUPERUSER=postgres

find_bindir() {
    local candidate
    if command -v pg_config >/dev/null 2>&1; then
        candidate="$(pg_config --bindir 2>/dev/null || true)"
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
            echo "$candidate"; return 0
        fi
    fi
    for candidate in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -rV); do
        if [ -x "$candidate/initdb" ] && [ -x "$candidate/pg_ctl" ]; then
            echo "$candidate"; return 0
        fi
    done
    if command -v initdb >/dev/null 2>&1 && command -v pg_ctl >/dev/null 2>&1; then
        dirname "$(readlink -f "$(command -v initdb)")"; return 0
    fi
    return 1
}

if ! BINDIR="$(find_bindir)"; then
    echo "postgres.sh: no PostgreSQL server found, installing it" >&2
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
    BINDIR="$(find_bindir)" || { echo "postgres.sh: install failed" >&2; exit 3; }
fi

# Run the server as a non-root user: postgres refuses to run as root.
RUN_AS=()
if [ "$(id -u)" -eq 0 ]; then
    OWNER=postgres
    if ! id "$OWNER" >/dev/null 2>&1; then
        OWNER=pgci
        id "$OWNER" >/dev/null 2>&1 || useradd --system --no-create-home "$OWNER"
    fi
    if command -v runuser >/dev/null 2>&1; then
        RUN_AS=(runuser -u "$OWNER" --)
    else
        RUN_AS=(su "$OWNER" -s /bin/sh -c)
    fi
fi

as_owner() {
    if [ "${#RUN_AS[@]}" -eq 0 ]; then
        "$@"
    elif [ "${RUN_AS[0]}" = "su" ]; then
        "${RUN_AS[@]}" "$(printf '%q ' "$@")"
    else
        "${RUN_AS[@]}" "$@"
    fi
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

if [ ! -s "$PGDATA/PG_VERSION" ]; then
    rm -rf "$PGDATA"
    mkdir -p "$PGDATA"
    if [ "$(id -u)" -eq 0 ]; then chown "$OWNER" "$PGDATA"; fi
    chmod 700 "$PGDATA"
    as_owner "$BINDIR/initdb" -D "$PGDATA" -U "$SUPERUSER" --auth=trust \
        --encoding=UTF8 --locale=C >/dev/null
fi

PORT=""
if [ -f "$PGDATA/ci_port" ]; then PORT="$(cat "$PGDATA/ci_port")"; fi

if ! as_owner "$BINDIR/pg_ctl" -D "$PGDATA" status >/dev/null 2>&1; then
    # A stopped cluster: take a fresh free port (the old one may be taken now).
    PORT="$(free_port)"
    echo "$PORT" > "$PGDATA/ci_port"
    as_owner "$BINDIR/pg_ctl" -D "$PGDATA" -l "$PGDATA/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$PORT -c unix_socket_directories='' -c max_connections=200 -c fsync=off" \
        start >/dev/null
fi

PSQL=("$BINDIR/psql" -X -q -h 127.0.0.1 -p "$PORT" -U "$SUPERUSER")
if [ "$("${PSQL[@]}" -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname = '$DB'")" != "1" ]; then
    "${PSQL[@]}" -d postgres -c "CREATE DATABASE $DB"
fi

URL="postgresql://$SUPERUSER@127.0.0.1:$PORT/$DB"
echo "PARTNERMINE_TEST_POSTGRES=$URL" > "$ENV_FILE"
echo "postgres.sh: PostgreSQL ready at $URL (written to .ci/postgres.env)"
