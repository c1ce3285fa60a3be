#!/usr/bin/env bash
# A local CloudWatch for the telemetry tests: ministack (which serves the
# Smithy RPC v2 CBOR protocol the Rust SDK speaks) on 127.0.0.1 only.
#
#   scripts/cloudwatch-emulator.sh start    # prints "started" or "already running"
#   scripts/cloudwatch-emulator.sh stop
#   scripts/cloudwatch-emulator.sh status
#
# The venv is created and filled from PyPI when missing. Settings:
# CUTOVER_CW_VENV (default /tmp/venv-cw), CUTOVER_CW_PORT (4577),
# CUTOVER_CW_STATE (folder for the pid file and log).
set -euo pipefail

venv=${CUTOVER_CW_VENV:-/tmp/venv-cw}
port=${CUTOVER_CW_PORT:-4577}
state=${CUTOVER_CW_STATE:-/tmp/cutover-cw-$port}
health="http://127.0.0.1:$port/_ministack/health"

answering() {
    python3 - "$health" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
urllib.request.urlopen(sys.argv[1], timeout=1).read()
EOF
}

install() {
    if [ -x "$venv/bin/ministack" ] && "$venv/bin/python" -c 'import cbor2, boto3' 2>/dev/null; then
        return
    fi
    if ! python3 -m venv "$venv" 2>/dev/null; then
        # Debian keeps ensurepip in a separate package.
        apt-get install -y -qq python3-venv >/dev/null 2>&1 ||
            { apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; }
        rm -rf "$venv"
        python3 -m venv "$venv"
    fi
    # cbor2 is not pulled in by ministack itself; ministack pins botocore 1.43.
    "$venv/bin/pip" install -q ministack cbor2 'boto3<1.44'
}

start() {
    mkdir -p "$state"
    exec 9>"$state/lock"
    flock 9
    if answering; then
        echo "already running on 127.0.0.1:$port"
        return
    fi
    install
    (
        cd "$state"
        BIND_HOST=127.0.0.1 GATEWAY_PORT=$port setsid "$venv/bin/ministack" \
            >"$state/ministack.log" 2>&1 </dev/null 9>&- &
        echo $! >"$state/pid"
    )
    for _ in $(seq 1 150); do
        if answering; then
            echo "started on 127.0.0.1:$port"
            return
        fi
        if ! kill -0 "$(cat "$state/pid")" 2>/dev/null; then
            echo "ministack exited; its log:" >&2
            tail -n 20 "$state/ministack.log" >&2
            exit 1
        fi
        sleep 0.2
    done
    echo "ministack did not answer on 127.0.0.1:$port within 30 s" >&2
    exit 1
}

stop() {
    local pid
    pid=$(cat "$state/pid" 2>/dev/null || true)
    if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
        kill "$pid"
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        echo "stopped"
    else
        echo "not running"
    fi
    rm -f "$state/pid"
}

case ${1:-} in
start) start ;;
stop) stop ;;
status) if answering; then echo "running on 127.0.0.1:$port"; else echo "not running"; exit 1; fi ;;
*)
    echo "usage: $0 start|stop|status" >&2
    exit 2
    ;;
esac
