#!/usr/bin/env bash
# Throughput benchmark: the default corpus (20 mailboxes x 500 messages) on the
# Dovecot testbed, then `cargo bench --bench throughput`, which prints cutover
# next to the raw-read lower bound and mbsync, measured in the same run.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v /usr/bin/time >/dev/null || apt-get install -y -qq time >/dev/null
command -v mbsync >/dev/null || apt-get install -y -qq isync >/dev/null || true
scripts/testbed.sh start
python3 scripts/make-corpus.py --port 10143 --users "${BENCH_USERS:-20}" --messages "${BENCH_MESSAGES:-500}" --seed 1 --wipe --jobs 4
cargo bench --bench throughput
