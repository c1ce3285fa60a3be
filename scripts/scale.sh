#!/usr/bin/env bash
# The scale run (issue: proof at scale): 3,000 small mailboxes in five waves
# plus a few large ones, on a separate Dovecot pair so the test testbed is
# left alone. Prints the time of the full run, of a no-op delta pass over all
# mailboxes, the engine's peak RSS, and large-message figures; then the
# snapshot and render costs at 3,000 mailboxes (cargo bench --bench scale).
#
#   scripts/scale.sh            # SCALE_USERS=3000 SCALE_MESSAGES=20 by default
set -euo pipefail
cd "$(dirname "$0")/.."
USERS=${SCALE_USERS:-3000}
MESSAGES=${SCALE_MESSAGES:-20}
WORK=${SCALE_DIR:-/tmp/cutover-scale}
export CUTOVER_TESTBED_DIR=$WORK/testbed CUTOVER_TESTBED_USERS=$USERS CUTOVER_TESTBED_MAX_MAIL=64M
export CUTOVER_SRC_PORT=12143 CUTOVER_DST_PORT=22143 CUTOVER_SRC_IMAPS_PORT=12993 CUTOVER_DST_IMAPS_PORT=22993
export CUTOVER_SRC_MASTER_PASSWORD=masterpass CUTOVER_DST_MASTER_PASSWORD=masterpass

scripts/install-deps.sh
mkdir -p "$WORK" && chmod 755 "$WORK"
scripts/testbed.sh start "$WORK/testbed"
cargo build --release --quiet
BIN=target/release/cutover

echo "== corpus: $USERS mailboxes x $MESSAGES messages"
# Filling 3,000 accounts takes minutes: done once per state dir (SCALE_REFILL=1 redoes it).
if [ ! -f "$WORK/corpus-$USERS-$MESSAGES.done" ] || [ "${SCALE_REFILL:-0}" = 1 ]; then
  python3 scripts/make-corpus.py --port 12143 --users "$USERS" --messages "$MESSAGES" --big-ratio 0 --jobs 8 --wipe | tail -1
  touch "$WORK/corpus-$USERS-$MESSAGES.done"
fi
scripts/testbed.sh wipe-dst "$WORK/testbed"

plan=$WORK/scale.toml
csv=$WORK/scale.csv
rm -rf "$WORK/state"
{
  echo "source,destination,tenant,wave"
  for n in $(seq 1 "$USERS"); do echo "user$n,user$n,t$((n % 50)),w$(( (n - 1) * 5 / USERS + 1 ))"; done
} > "$csv"
{
  echo "name = \"scale\""
  echo "state-dir = \"$WORK/state\""
  echo "mailboxes-csv = \"$csv\""
  echo "[source]"
  echo "host = \"127.0.0.1\""
  echo "port = 12143"
  echo "security = \"plain\""
  echo "auth = { mode = \"master\", user = \"master\", password-env = \"CUTOVER_SRC_MASTER_PASSWORD\" }"
  echo "[destination]"
  echo "host = \"127.0.0.1\""
  echo "port = 22143"
  echo "security = \"plain\""
  echo "auth = { mode = \"master\", user = \"master\", password-env = \"CUTOVER_DST_MASTER_PASSWORD\" }"
  echo "[concurrency]"
  echo "connections-per-server = 32"
  echo "folders-per-mailbox = 2"
  echo "[thresholds]"
  echo "hold-down-secs = 5"
  for t in $(seq 0 49); do printf '[[tenant]]\nname = "t%s"\n' "$t"; done
  for w in 1 2 3 4 5; do printf '[[wave]]\nname = "w%s"\n' "$w"; done
} > "$plan"

measure() { # label, command...
  local label=$1; shift
  local out; out=$(mktemp)
  local start; start=$(date +%s.%N)
  /usr/bin/time -v "$@" > "$WORK/last.out" 2> "$out" || { tail -20 "$WORK/last.out" "$out"; exit 1; }
  local end; end=$(date +%s.%N)
  local rss; rss=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$out")
  printf '%-44s %8.1f s   peak RSS %6d MiB\n' "$label" "$(awk -v a="$start" -v b="$end" 'BEGIN { print b - a }')" "$((rss / 1024))"
}

echo "== results"
measure "full run, $USERS mailboxes in 5 waves" $BIN --log-file "$WORK/run.log" run "$plan" --headless
measure "no-op delta pass over $USERS mailboxes" $BIN --log-file "$WORK/delta.log" sync "$plan" --no-verify
grep -E "folders unchanged|messages copied" "$WORK/last.out" | sed 's/^/   /'

echo "== large messages (one 50 MB message, ten 10 MB messages)"
python3 - <<'PY'
import imaplib, os
m = imaplib.IMAP4("127.0.0.1", 12143)
m.login("user1*master", "masterpass")
def message(size, n):
    head = f"From: big@example.test\r\nTo: user1@example.test\r\nSubject: large {n}\r\nMessage-ID: <large-{n}-{size}@example.test>\r\nContent-Type: application/octet-stream\r\n\r\n".encode()
    line = (b"A" * 998 + b"\r\n")
    body = line * (size // len(line))
    return head + body
m.create("Large")
m.append("Large", None, None, message(50 * 1000 * 1000, 0))
for n in range(1, 11):
    m.append("Large", None, None, message(10 * 1000 * 1000, n))
m.logout()
PY
measure "sync of user1 with 150 MB of large messages" $BIN --log-file "$WORK/large.log" sync "$plan" --mailbox user1
grep -E "verified|bytes copied" "$WORK/last.out" | sed 's/^/   /'

echo "== snapshot and war-room frame at $USERS mailboxes"
SCALE_MAILBOXES=$USERS cargo bench --quiet --bench scale
