#!/usr/bin/env bash
# dns-testbed.sh — two throw-away Knot DNS servers for cutover's DNS watcher tests.
#
#   scripts/dns-testbed.sh start  [STATE_DIR]
#   scripts/dns-testbed.sh stop   [STATE_DIR]
#   scripts/dns-testbed.sh status [STATE_DIR]
#   scripts/dns-testbed.sh reload [STATE_DIR]
#   scripts/dns-testbed.sh set RECORD TYPE TTL VALUE [SERVER]
#
# STATE_DIR defaults to $CUTOVER_DNS_DIR, then /tmp/cutover-dns.
#
#   ns1  127.0.0.1:$CUTOVER_DNS_NS1_PORT (5353), the zone's primary
#   ns2  127.0.0.1:$CUTOVER_DNS_NS2_PORT (5354), a second server with its own
#        copy of the zone, used to play a nameserver that lags behind
#
# Both serve example.test from their own zone file:
#   @ SOA/NS ns1, ns1 A 127.0.0.1, @ MX 10 mail, mail A 127.0.0.1,
#   autodiscover CNAME mail — all with TTL 3600.
#
# `start` installs Knot when it is missing, writes fresh configs and zone files
# and starts both servers, then waits until both answer. If both are already
# running it leaves them (and any record set since) alone, so parallel tests
# can share them: give each test its own record names and `set` them first.
#
# `set` changes one record live through a Knot zone transaction (zone-begin,
# zone-unset, zone-set, zone-commit): RECORD is a name relative to
# example.test (or an absolute name ending in a dot), VALUE is the record data
# as one argument (e.g. "10 mail" for MX), SERVER is ns1, ns2 or both (the
# default). A record that does not exist yet is created.
#
# `reload` re-reads both zone files after a hand edit: the files become the truth
# again, so records changed or created with `set` go back to what the files say.
set -euo pipefail

ACTION=${1:-status}
ZONE=example.test
declare -A PORT=([ns1]=${CUTOVER_DNS_NS1_PORT:-5353} [ns2]=${CUTOVER_DNS_NS2_PORT:-5354})
SERVERS=(ns1 ns2)

if [[ $ACTION == set ]]; then
    STATE=${CUTOVER_DNS_DIR:-/tmp/cutover-dns}
else
    STATE=${2:-${CUTOVER_DNS_DIR:-/tmp/cutover-dns}}
fi

die() { echo "dns-testbed: $*" >&2; exit 1; }

as_root() {
    if [[ $(id -u) -eq 0 ]]; then "$@"
    elif command -v sudo >/dev/null; then sudo "$@"
    else die "need root to run: $*"
    fi
}

install_knot() {
    if command -v knotd >/dev/null && command -v knotc >/dev/null \
        && command -v kdig >/dev/null && command -v dig >/dev/null; then
        return
    fi
    echo "dns-testbed: installing knot, knot-dnsutils and bind9-dnsutils" >&2
    export DEBIAN_FRONTEND=noninteractive
    as_root apt-get install -y knot knot-dnsutils bind9-dnsutils \
        || { as_root apt-get update && as_root apt-get install -y knot knot-dnsutils bind9-dnsutils; } \
        || die "could not install Knot"
    # Debian's package may start a system-wide knotd on port 53; ours do not need it.
    command -v knotd >/dev/null || die "knotd is still missing after apt-get install"
}

knotd_bin() { command -v knotd || echo /usr/sbin/knotd; }
knotc_bin() { command -v knotc || echo /usr/sbin/knotc; }

conf() { echo "$STATE/$1/knot.conf"; }

running() {
    local pidfile=$STATE/$1/knot.pid
    [[ -s $pidfile ]] && kill -0 "$(cat "$pidfile")" 2>/dev/null
}

answers() {
    local port=$1
    if command -v kdig >/dev/null; then
        [[ -n $(kdig @127.0.0.1 -p "$port" +short +time=1 +retry=0 SOA "$ZONE" 2>/dev/null) ]]
    else
        [[ -n $(dig @127.0.0.1 -p "$port" +short +time=1 +tries=1 SOA "$ZONE" 2>/dev/null) ]]
    fi
}

write_config() {
    local server=$1 dir=$STATE/$1
    mkdir -p "$dir/db"
    cat >"$dir/knot.conf" <<EOF
server:
    listen: 127.0.0.1@${PORT[$server]}
    rundir: $dir
    pidfile: $dir/knot.pid
    user: $(id -un):$(id -gn)
control:
    listen: $dir/knot.sock
database:
    storage: $dir/db
template:
  - id: default
    storage: $dir
    file: "%s.zone"
    zonefile-sync: -1
    zonefile-load: difference-no-serial
    journal-content: all
zone:
  - domain: $ZONE
log:
  - target: $dir/knot.log
    any: info
EOF
    cat >"$dir/$ZONE.zone" <<'EOF'
$ORIGIN example.test.
$TTL 3600
@            3600 IN SOA   ns1 hostmaster 1 3600 600 86400 60
@            3600 IN NS    ns1
ns1          3600 IN A     127.0.0.1
@            3600 IN MX    10 mail
mail         3600 IN A     127.0.0.1
autodiscover 3600 IN CNAME mail
EOF
}

start_one() {
    local server=$1 dir=$STATE/$1
    if running "$server"; then return; fi
    rm -rf "$dir"
    write_config "$server"
    "$(knotd_bin)" -c "$(conf "$server")" -d 9>&- \
        || die "knotd for $server did not start; see $dir/knot.log"
}

wait_answering() {
    local server
    for server in "${SERVERS[@]}"; do
        local tries=0
        until answers "${PORT[$server]}"; do
            tries=$((tries + 1))
            if ((tries > 100)); then
                tail -n 20 "$STATE/$server/knot.log" >&2 || true
                die "$server (127.0.0.1:${PORT[$server]}) does not answer"
            fi
            sleep 0.1
        done
    done
}

stop_one() {
    local server=$1 pidfile=$STATE/$1/knot.pid
    running "$server" || return 0
    local pid
    pid=$(cat "$pidfile")
    kill "$pid" 2>/dev/null || true
    local tries=0
    while kill -0 "$pid" 2>/dev/null && ((tries < 50)); do
        sleep 0.1
        tries=$((tries + 1))
    done
    kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
}

# Serialises starts and transactions: Knot refuses a second open transaction,
# and parallel tests share these servers.
with_lock() {
    mkdir -p "$STATE"
    exec 9>"$STATE/.lock"
    flock 9
    "$@"
}

start_all() {
    local server
    for server in "${SERVERS[@]}"; do start_one "$server"; done
    wait_answering
}

set_record() {
    local record=$1 type=$2 ttl=$3 value=$4 which=${5:-both}
    local targets
    case $which in
        both) targets=("${SERVERS[@]}") ;;
        ns1 | ns2) targets=("$which") ;;
        *) die "SERVER must be ns1, ns2 or both, not '$which'" ;;
    esac
    [[ $ttl =~ ^[0-9]+$ ]] || die "TTL must be a number of seconds, not '$ttl'"
    local server
    for server in "${targets[@]}"; do
        running "$server" || die "$server is not running; run '$0 start' first"
        local knotc=("$(knotc_bin)" -c "$(conf "$server")")
        "${knotc[@]}" zone-begin "$ZONE" >/dev/null || die "zone-begin failed on $server"
        # Unsetting a record that does not exist yet is not an error here.
        "${knotc[@]}" zone-unset "$ZONE" "$record" "$type" >/dev/null 2>&1 || true
        if ! "${knotc[@]}" zone-set "$ZONE" "$record" "$ttl" "$type" "$value" >/dev/null; then
            "${knotc[@]}" zone-abort "$ZONE" >/dev/null 2>&1 || true
            die "zone-set $record $ttl $type $value failed on $server"
        fi
        "${knotc[@]}" zone-commit "$ZONE" >/dev/null || die "zone-commit failed on $server"
    done
}

case $ACTION in
start)
    install_knot
    with_lock start_all
    echo "dns-testbed: ns1 127.0.0.1:${PORT[ns1]}, ns2 127.0.0.1:${PORT[ns2]} (state in $STATE)"
    ;;
stop)
    for server in "${SERVERS[@]}"; do stop_one "$server"; done
    ;;
status)
    for server in "${SERVERS[@]}"; do
        if running "$server"; then state=running; else state=stopped; fi
        echo "$server 127.0.0.1:${PORT[$server]} $state"
    done
    ;;
reload)
    for server in "${SERVERS[@]}"; do
        running "$server" || die "$server is not running"
        "$(knotc_bin)" -c "$(conf "$server")" zone-reload "$ZONE" >/dev/null
    done
    ;;
set)
    (($# >= 5)) || die "usage: $0 set RECORD TYPE TTL VALUE [ns1|ns2|both]"
    with_lock set_record "$2" "$3" "$4" "$5" "${6:-both}"
    ;;
*)
    die "usage: $0 start|stop|status|reload [STATE_DIR] | set RECORD TYPE TTL VALUE [SERVER]"
    ;;
esac
