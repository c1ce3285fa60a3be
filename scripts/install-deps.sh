#!/usr/bin/env bash
# Installs, when missing, every Debian package the testbed, tests and demo use:
# Dovecot (IMAP pair), Knot (DNS), tmux (war-room tests), isync (mbsync,
# for the benchmark), openssl (test certificates), GNU time (peak RSS).
set -euo pipefail
need=()
command -v dovecot >/dev/null || need+=(dovecot-imapd)
command -v knotd >/dev/null || need+=(knot)
command -v kdig >/dev/null || need+=(knot-dnsutils)
command -v dig >/dev/null || need+=(bind9-dnsutils)
command -v tmux >/dev/null || need+=(tmux)
command -v mbsync >/dev/null || need+=(isync)
command -v openssl >/dev/null || need+=(openssl)
command -v python3 >/dev/null || need+=(python3)
[ -x /usr/bin/time ] || need+=(time)
command -v cc >/dev/null || need+=(build-essential)
if [ "${#need[@]}" -gt 0 ]; then
  echo "installing: ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
