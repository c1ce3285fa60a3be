#!/usr/bin/env bash
# test.sh — cutover's test command: on a fresh Debian 12 machine (as root) it
# installs what is missing, starts the testbeds and runs every test.
#
#   scripts/test.sh [extra `cargo test` arguments, e.g. -- --test-threads=2]
#
# Idempotent: packages already installed are not touched (apt-get update runs
# at most once, and only when something is missing); running testbeds are
# only reloaded. Exits non-zero when anything fails.
#
# Environment: CUTOVER_TESTBED_USERS (default 40, what the tests expect),
# CUTOVER_TESTBED_DIR / CUTOVER_DNS_DIR (testbed state, see those scripts).
set -euo pipefail

cd "$(dirname "$0")/.."

say() { echo "test.sh: $*" >&2; }
die() { say "ERROR: $*"; exit 1; }

PACKAGES=(
    dovecot-imapd      # the IMAP testbed (scripts/testbed.sh)
    knot knot-dnsutils bind9-dnsutils   # the DNS testbed (scripts/dns-testbed.sh)
    tmux isync         # war room tests; mbsync for the benchmark
    openssl python3 python3-venv ca-certificates
    chromium           # renders the status page in its test
    time               # peak RSS in the benches
    build-essential pkg-config          # C toolchain for bundled SQLite and aws-lc
)

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"
    elif command -v sudo >/dev/null 2>&1; then sudo "$@"
    else die "need root to run: $*"
    fi
}

installed() {
    dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'install ok installed'
}

install_missing() {
    if ! command -v dpkg-query >/dev/null 2>&1; then
        say "not a Debian system: not installing packages"
        return
    fi
    local missing=() p
    for p in "${PACKAGES[@]}"; do
        installed "$p" || missing+=("$p")
    done
    if [ ${#missing[@]} -eq 0 ]; then
        say "packages: all present"
        return
    fi
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # Package scripts must not start system-wide services (dovecot on 143,
    # knot on 53): the testbeds run their own instances. Only add the
    # policy file when there is none, and remove it again afterwards.
    local policy=/usr/sbin/policy-rc.d added_policy=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod 755 "$policy"
        added_policy=1
    fi
    local rc=0
    as_root apt-get update -q || rc=$?
    if [ "$rc" = 0 ]; then
        as_root apt-get install -y -q --no-install-recommends "${missing[@]}" || rc=$?
    fi
    [ "$added_policy" = 1 ] && as_root rm -f "$policy"
    [ "$rc" = 0 ] || die "apt-get failed ($rc) installing ${missing[*]}"
}

install_missing

command -v cargo >/dev/null 2>&1 || die "cargo not found (install Rust, e.g. with rustup)"

export CUTOVER_TESTBED_USERS=${CUTOVER_TESTBED_USERS:-40}
say "starting the IMAP testbed ($CUTOVER_TESTBED_USERS users)"
scripts/testbed.sh start
if [ -x scripts/dns-testbed.sh ]; then
    say "starting the DNS testbed"
    scripts/dns-testbed.sh start
elif [ -f scripts/dns-testbed.sh ]; then
    say "starting the DNS testbed"
    bash scripts/dns-testbed.sh start
fi

# Every target is compiled (benches included), and every test target run.
# Benches are only built: benches/throughput.rs is a harness=false program
# that `cargo test --all-targets` would execute as a whole benchmark (it wipes
# and refills the destination of user1..userN), which is `cargo bench`'s job.
say "cargo test --locked --all-targets --no-run"
cargo test --locked --all-targets --no-run
say "cargo test --locked --no-fail-fast --lib --bins --tests --examples $*"
cargo test --locked --no-fail-fast --lib --bins --tests --examples "$@"
say "cargo test --locked --doc"
cargo test --locked --doc
say "all tests passed"
