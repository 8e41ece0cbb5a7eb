#!/usr/bin/env bash
# PostgreSQL for the tests and the benchmark.
#
#   scripts/postgres.sh install              install PostgreSQL (the Debian package) when
#                                            its server programs are missing
#   scripts/postgres.sh start                make sure a server answers on 127.0.0.1:5432
#                                            with trust authentication and a database `test`:
#                                            when none does, start a cluster of our own there
#                                            (recorded in .brokers/started)
#   scripts/postgres.sh stop                 stop what `start` started
#   scripts/postgres.sh cluster DIR PORT up|down|kill
#                                            a private cluster in DIR on PORT (created when
#                                            DIR is empty): the tests that restart or kill
#                                            PostgreSQL use one of these, never the shared one;
#                                            with PG_SSL_CERT and PG_SSL_KEY (PEM files) set,
#                                            `up` serves TLS with them
#
# The tests run `install` and `start` themselves when they find no server, so `cargo test`
# alone works on a fresh machine. PostgreSQL refuses to run as root: as root, the clusters
# run as the `postgres` user (which the package creates), in directories it owns.
set -euo pipefail
cd "$(dirname "$0")/.."
mkdir -p .brokers

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

bindir() {
    local dir
    dir="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

install() {
    if [ -z "$(bindir || true)" ]; then
        echo "installing postgresql"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    fi
    "$(bindir)/postgres" --version
}

# Runs a PostgreSQL program as the user the cluster runs as.
as_owner() {
    if [ "$(id -u)" = 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

# cluster DIR PORT up|down|kill
cluster() {
    local dir="$1" port="$2" action="$3" bin
    bin="$(bindir)"
    case "$action" in
        up)
            if [ ! -f "$dir/PG_VERSION" ]; then
                mkdir -p "$dir"
                if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
                chmod 700 "$dir"
                as_owner "$bin/initdb" -D "$dir" -U postgres --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
            fi
            local ssl=""
            if [ -n "${PG_SSL_CERT:-}" ]; then
                cp "$PG_SSL_CERT" "$dir/server.crt"
                cp "$PG_SSL_KEY" "$dir/server.key"
                chmod 600 "$dir/server.crt" "$dir/server.key"
                if [ "$(id -u)" = 0 ]; then chown postgres: "$dir/server.crt" "$dir/server.key"; fi
                ssl="-c ssl=on -c ssl_cert_file=$dir/server.crt -c ssl_key_file=$dir/server.key"
            fi
            as_owner "$bin/pg_ctl" -D "$dir" -l "$dir/server.log" -w -t 60 \
                -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=on $ssl" start >/dev/null
            for _ in $(seq 1 120); do port_open "$port" && break; sleep 0.25; done
            as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -tAc \
                "SELECT 1 FROM pg_database WHERE datname = 'test'" | grep -q 1 \
                || as_owner "$bin/createdb" -h 127.0.0.1 -p "$port" -U postgres test
            ;;
        down) as_owner "$bin/pg_ctl" -D "$dir" -w -t 60 -m fast stop >/dev/null ;;
        kill) as_owner "$bin/pg_ctl" -D "$dir" -m immediate stop >/dev/null ;;
        *) echo "usage: $0 cluster DIR PORT up|down|kill" >&2; exit 2 ;;
    esac
}

start() {
    if port_open 5432; then
        return 0
    fi
    install
    echo "starting a PostgreSQL cluster of our own on 127.0.0.1:5432"
    cluster /var/tmp/integra-postgres 5432 up
    echo postgres >> .brokers/started
}

stop() {
    if [ -f .brokers/started ] && grep -qx postgres .brokers/started; then
        cluster /var/tmp/integra-postgres 5432 down || true
        sed -i '/^postgres$/d' .brokers/started
    fi
}

locked() {
    exec 9>".brokers/postgres.lock"
    flock 9
    "$@"
}

case "${1:-}" in
    install) locked install ;;
    start) locked start ;;
    stop) stop ;;
    cluster) shift; cluster "$@" ;;
    *) echo "usage: $0 install|start|stop|cluster DIR PORT up|down|kill" >&2; exit 2 ;;
esac
