#!/usr/bin/env bash
# testbed.sh — a pair of throw-away Dovecot servers for cutover's integration tests.
#
#   scripts/testbed.sh start|stop|status|restart-dst|wipe-src|wipe-dst [STATE_DIR]
#
# STATE_DIR defaults to $CUTOVER_TESTBED_DIR, then /tmp/cutover-testbed.
#
#   src  127.0.0.1:$CUTOVER_SRC_PORT (10143), IMAPS 10993, LIST delimiter "/"
#        (maildir, LAYOUT=fs)
#   dst  127.0.0.1:$CUTOVER_DST_PORT (20143), IMAPS 20993, LIST delimiter "."
#        (classic Maildir++), with quota and a 20M message size limit
#
# Accounts (same on both): user1..userN / pass1..passN (N = $CUTOVER_TESTBED_USERS,
# default 20) and quotauser / quotapass (on dst its quota is *:storage=200K).
# Master user master / masterpass: LOGIN "user7*master" masterpass, or
# AUTHENTICATE PLAIN with authzid=user7, authcid=master.
#
# IMAPS uses a self-signed certificate, STATE_DIR/tls/cert.pem (CN 127.0.0.1,
# SAN IP:127.0.0.1 + DNS:localhost, CA:FALSE so that rustls accepts it as its
# own trust anchor). Pass that file as the CA file to make verification pass.
#
# Other environment knobs:
#   CUTOVER_SRC_IMAPS_PORT=10993  CUTOVER_DST_IMAPS_PORT=20993
#   CUTOVER_TESTBED_FSYNC=optimized   (mail_fsync; "never" is much faster)
#   CUTOVER_TESTBED_MAX_MAIL=20M      (largest message the destination accepts)
#   CUTOVER_TESTBED_MAIL_USER=vmail   (system user owning the mail, created if absent)
#
# `start` can be repeated: configs and user lists are regenerated, mail is kept,
# a running instance only gets a SIGHUP. Layout of STATE_DIR:
#   <src|dst>/dovecot.conf  <src|dst>/dovecot.log  <src|dst>/mail/<user>/Maildir
#   <src|dst>/run/master.pid  tls/cert.pem  tls/key.pem
set -euo pipefail

ACTION=${1:-status}
STATE=${2:-${CUTOVER_TESTBED_DIR:-/tmp/cutover-testbed}}
NUSERS=${CUTOVER_TESTBED_USERS:-20}
FSYNC=${CUTOVER_TESTBED_FSYNC:-optimized}
MAX_MAIL=${CUTOVER_TESTBED_MAX_MAIL:-20M}
MAIL_USER=${CUTOVER_TESTBED_MAIL_USER:-vmail}
MASTER=master
MASTER_PASS=masterpass
declare -A IMAP_PORT=([src]=${CUTOVER_SRC_PORT:-10143} [dst]=${CUTOVER_DST_PORT:-20143})
declare -A IMAPS_PORT=([src]=${CUTOVER_SRC_IMAPS_PORT:-10993} [dst]=${CUTOVER_DST_IMAPS_PORT:-20993})

say()  { echo "testbed: $*" >&2; }
fail() {
  say "ERROR: $*"
  local n
  for n in src dst; do
    [ -f "$STATE/$n/dovecot.log" ] && say "$n log: $STATE/$n/dovecot.log"
  done
  exit 1
}

case "$STATE" in /*) ;; *) STATE="$PWD/$STATE" ;; esac

# ---------------------------------------------------------------------------
install_dovecot() {
  [ "$(id -u)" = 0 ] || fail "must run as root"
  local missing=()
  { command -v dovecot && [ -x /usr/lib/dovecot/imap ]; } >/dev/null 2>&1 || missing+=(dovecot-imapd)
  command -v openssl >/dev/null 2>&1 || missing+=(openssl)
  command -v python3 >/dev/null 2>&1 || missing+=(python3)
  if [ ${#missing[@]} -gt 0 ]; then
    say "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null || fail "apt-get update failed"
    apt-get install -y -q "${missing[@]}" >/dev/null || fail "apt-get install ${missing[*]} failed"
  fi
  if ! id "$MAIL_USER" >/dev/null 2>&1; then
    say "creating system user $MAIL_USER"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$MAIL_USER"
  fi
}

# Dovecot's auth and mail processes run unprivileged: every directory from /
# down to STATE must be searchable by them. STATE itself is made 0755; existing
# parents only get a+x added (never narrowed, so /tmp keeps its sticky 1777).
prepare_state_dir() {
  mkdir -p "$STATE"
  chmod 755 "$STATE"
  local d
  d=$(dirname "$STATE")
  while [ "$d" != / ]; do
    [ "$(( 0$(stat -c %a "$d") & 0111 ))" = 73 ] || chmod a+x "$d"
    d=$(dirname "$d")
  done
  # Unix socket paths are limited to 107 bytes; Dovecot puts several in run/.
  [ ${#STATE} -le 70 ] || fail "state dir path too long for Dovecot's sockets: $STATE"
}

make_cert() {
  local t="$STATE/tls"
  mkdir -p "$t"; chmod 755 "$t"
  [ -s "$t/cert.pem" ] && [ -s "$t/key.pem" ] && return 0
  # Own config rather than the system openssl.cnf, whose v3_ca section marks
  # the certificate CA:TRUE — rustls/webpki refuses such a cert as the server
  # certificate (CaUsedAsEndEntity) even when it is the configured CA file.
  cat > "$t/openssl.cnf" <<'EOF'
[req]
prompt = no
distinguished_name = dn
x509_extensions = leaf
[dn]
CN = 127.0.0.1
O = cutover testbed
[leaf]
basicConstraints = critical, CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = IP:127.0.0.1, DNS:localhost
subjectKeyIdentifier = hash
EOF
  openssl req -x509 -config "$t/openssl.cnf" -newkey rsa:2048 -nodes -days 3650 \
    -keyout "$t/key.pem" -out "$t/cert.pem" 2>"$t/openssl.err" \
    || fail "openssl: $(cat "$t/openssl.err")"
  chmod 600 "$t/key.pem"; chmod 644 "$t/cert.pem"
}

# passwd-file: user:{PLAIN}password:uid:gid:gecos:home:shell:extra-fields
write_users() {
  local inst=$1 dir="$STATE/$1" uid gid i quota_extra=""
  uid=$(id -u "$MAIL_USER"); gid=$(id -g "$MAIL_USER")
  [ "$inst" = dst ] && quota_extra='userdb_quota_rule=*:storage=200K'
  {
    for ((i = 1; i <= NUSERS; i++)); do
      echo "user$i:{PLAIN}pass$i:$uid:$gid::$dir/mail/user$i::"
    done
    echo "quotauser:{PLAIN}quotapass:$uid:$gid::$dir/mail/quotauser::$quota_extra"
  } > "$dir/passwd.new"
  echo "$MASTER:{PLAIN}$MASTER_PASS" > "$dir/masters.new"
  chown root:dovecot "$dir/passwd.new" "$dir/masters.new"
  chmod 640 "$dir/passwd.new" "$dir/masters.new"
  mv "$dir/passwd.new" "$dir/passwd"; mv "$dir/masters.new" "$dir/masters"
  mkdir -p "$dir/mail"
  chown "$MAIL_USER:$MAIL_USER" "$dir/mail"
}

write_config() {
  local inst=$1 dir="$STATE/$1" sep location quota_cfg="" dh=""
  if [ "$inst" = src ]; then
    sep=/ location='maildir:~/Maildir:LAYOUT=fs'
  else
    sep=. location='maildir:~/Maildir'
    quota_cfg="mail_plugins = \$mail_plugins quota
protocol imap {
  mail_plugins = \$mail_plugins imap_quota
}
plugin {
  quota = maildir:User quota
  # 0 = unlimited; quotauser gets *:storage=200K from its passwd-file entry
  quota_rule = *:storage=0
  # APPEND/COPY of a single message above this size is refused
  quota_max_mail_size = $MAX_MAIL
}"
  fi
  [ -r /usr/share/dovecot/dh.pem ] && dh="ssl_dh = </usr/share/dovecot/dh.pem"
  cat > "$dir/dovecot.conf.new" <<EOF
# cutover testbed, instance "$inst" — regenerated by scripts/testbed.sh on every start.
# Self-contained: /etc/dovecot is not read.
instance_name = cutover-$inst
base_dir = $dir/run
state_dir = $dir/state
log_path = $dir/dovecot.log
info_log_path = $dir/dovecot.log
protocols = imap
listen = 127.0.0.1

ssl = yes
ssl_cert = <$STATE/tls/cert.pem
ssl_key = <$STATE/tls/key.pem
$dh

disable_plaintext_auth = no
auth_mechanisms = plain login
auth_master_user_separator = *
passdb {
  driver = passwd-file
  args = $dir/masters
  master = yes
  pass = yes
}
passdb {
  driver = passwd-file
  args = scheme=PLAIN username_format=%u $dir/passwd
}
userdb {
  driver = passwd-file
  args = username_format=%u $dir/passwd
}

first_valid_uid = $(id -u "$MAIL_USER")
mail_location = $location
mail_fsync = $FSYNC
namespace inbox {
  inbox = yes
  prefix =
  separator = $sep
}

default_vsz_limit = 1G
default_client_limit = 2000
protocol imap {
  mail_max_userip_connections = 200
  imap_max_line_length = 1M
}
service imap-login {
  inet_listener imap {
    address = 127.0.0.1
    port = ${IMAP_PORT[$inst]}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${IMAPS_PORT[$inst]}
    ssl = yes
  }
  service_count = 0
}
service imap {
  process_limit = 1024
}
$quota_cfg
EOF
  mv "$dir/dovecot.conf.new" "$dir/dovecot.conf"
  doveconf -c "$dir/dovecot.conf" -n >"$dir/doveconf.out" 2>&1 \
    || fail "$inst: config rejected: $(cat "$dir/doveconf.out")"
}

master_pid() {
  local f="$STATE/$1/run/master.pid" pid
  [ -s "$f" ] || return 1
  pid=$(cat "$f")
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q dovecot || return 1
  echo "$pid"
}

# LOGIN as user1*master and LOGOUT; prints "ok" or the error, status 0 on success.
login_probe() {
  python3 - "$1" <<'EOF'
import imaplib, sys
try:
    c = imaplib.IMAP4("127.0.0.1", int(sys.argv[1]), timeout=5)
    c.login("user1*master", "masterpass")
    c.logout()
    print("login ok")
except Exception as e:
    print(f"login failed: {e}")
    sys.exit(1)
EOF
}

wait_ready() {
  local inst=$1 i
  for ((i = 0; i < 100; i++)); do
    login_probe "${IMAP_PORT[$inst]}" >/dev/null 2>&1 && return 0
    sleep 0.2
  done
  fail "$inst: no successful LOGIN on port ${IMAP_PORT[$inst]} after 20 s ($(login_probe "${IMAP_PORT[$inst]}" 2>&1 || true))"
}

start_instance() {
  local inst=$1 dir="$STATE/$1" pid
  mkdir -p "$dir/run" "$dir/state"
  chmod 755 "$dir"
  write_users "$inst"
  write_config "$inst"
  if pid=$(master_pid "$inst"); then
    say "$inst running (pid $pid): reloading"
    kill -HUP "$pid"
  else
    rm -f "$dir/run/master.pid"
    # Detach stdio so that a caller's pipe is not held open by the daemon.
    dovecot -c "$dir/dovecot.conf" </dev/null >>"$dir/dovecot.log" 2>&1 \
      || fail "$inst: dovecot did not start"
  fi
  wait_ready "$inst"
  say "$inst ready: imap 127.0.0.1:${IMAP_PORT[$inst]}, imaps 127.0.0.1:${IMAPS_PORT[$inst]}, pid $(master_pid "$inst")"
}

stop_instance() {
  local inst=$1 pid i
  if pid=$(master_pid "$inst"); then
    kill -TERM "$pid"
    for ((i = 0; i < 150; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
      say "$inst (pid $pid) still alive after 15 s, sending SIGKILL"
      kill -KILL "$pid" || true
    fi
    say "$inst stopped"
  else
    say "$inst not running"
  fi
  rm -f "$STATE/$inst/run/master.pid"
}

status_instance() {
  local inst=$1 pid probe rc=0
  if pid=$(master_pid "$inst"); then
    probe=$(login_probe "${IMAP_PORT[$inst]}") || rc=1
    printf '%s: pid %s, imap %s, imaps %s, %s, %s\n' "$inst" "$pid" \
      "${IMAP_PORT[$inst]}" "${IMAPS_PORT[$inst]}" "$STATE/$inst/dovecot.log" "$probe"
    return $rc
  else
    echo "$inst: not running"
    return 1
  fi
}

setup() { install_dovecot; prepare_state_dir; make_cert; }

case "$ACTION" in
  start)
    setup
    start_instance src
    start_instance dst ;;
  stop)
    stop_instance src
    stop_instance dst ;;
  status)
    rc=0
    status_instance src || rc=1
    status_instance dst || rc=1
    exit $rc ;;
  restart-dst)
    setup
    stop_instance dst
    start_instance dst ;;
  wipe-src|wipe-dst)
    inst=${ACTION#wipe-}
    setup
    stop_instance "$inst"
    rm -rf "${STATE:?}/$inst/mail"
    start_instance "$inst" ;;
  *)
    sed -n '2,20p' "$0" >&2
    exit 2 ;;
esac
