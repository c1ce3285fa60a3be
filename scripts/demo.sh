#!/usr/bin/env bash
# The demo: two Dovecots on loopback, a corpus on the source, and the war room
# on assets/demo-plan.toml. Run as root on Debian 12: scripts/demo.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
scripts/testbed.sh start
echo "loading the demo corpus (10 mailboxes)..."
python3 scripts/make-corpus.py --port 10143 --users 10 --messages 150 --seed 7 --wipe --jobs 4 >/dev/null
python3 scripts/make-corpus.py --port 20143 --users 10 --wipe-only >/dev/null
rm -rf /tmp/cutover-demo
cargo build --quiet   # a debug build compiles in half the time and is fast enough for ten mailboxes
export CUTOVER_SRC_MASTER_PASSWORD=masterpass CUTOVER_DST_MASTER_PASSWORD=masterpass
exec target/debug/cutover --log-file /tmp/cutover-demo/cutover.log run assets/demo-plan.toml "$@"
