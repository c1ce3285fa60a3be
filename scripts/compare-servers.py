#!/usr/bin/env python3
"""Compare the mailboxes of the same accounts on two IMAP servers, independently of cutover.

Python 3.11 standard library only; reads nothing but the two servers.

For every account it logs into both sides (by default as "USER*master"),
LISTs the folders with each server's own hierarchy delimiter, decodes the
modified UTF-7 names and matches folders by their path components (so
"Archive/2019" on one side is "Archive.2019" on the other). In each folder it
fetches BODY.PEEK[], FLAGS and INTERNALDATE of every message and compares:

  content  multiset of SHA-256 over the canonical bytes (every CR*LF and every
           bare LF turned into CRLF; nothing else is changed)
  flags    per matched message, \\Recent ignored
  date     per matched message, INTERNALDATE compared as an instant

The result is one JSON document on stdout; exit status 0 when both sides hold
the same thing, 1 when they differ, 2 on a usage or connection error.

  compare-servers.py --src-port 10143 --dst-port 20143 --user user1
  compare-servers.py --all-users 20 --ignore-folder Trash --dst-only-extra-ok
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime as dt
import hashlib
import json
import re
import socket
import ssl
import sys

MONTHS = {m: i for i, m in enumerate(
    "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split(), 1)}
SYSTEM_FLAGS = {f.lower(): f for f in
                ("\\Seen", "\\Answered", "\\Flagged", "\\Deleted", "\\Draft")}


class ImapError(Exception):
    pass


# ------------------------------------------------------------ tiny client --
class Client:
    """Just enough IMAP4rev1: tagged commands, literals read by length."""

    def __init__(self, host: str, port: int, use_tls: bool = False,
                 cafile: str | None = None, timeout: float = 300):
        sock = socket.create_connection((host, port), timeout=timeout)
        if use_tls:
            ctx = ssl.create_default_context(cafile=cafile)
            sock = ctx.wrap_socket(sock, server_hostname=host)
        self.sock = sock
        self.rfile = sock.makefile("rb", buffering=1 << 20)
        self.n = 0
        greeting = self.rfile.readline()
        if not greeting.startswith(b"* OK"):
            raise ImapError(f"{host}:{port}: bad greeting {greeting!r}")

    def command(self, line: str) -> list[list]:
        """Run one command; return its untagged responses as parsed token lists."""
        self.n += 1
        tag = f"c{self.n}".encode()
        self.sock.sendall(tag + b" " + line.encode("utf-8") + b"\r\n")
        responses = []
        while True:
            raw, literals = self._read_response()
            if raw.startswith(tag + b" "):
                status = raw[len(tag) + 1:]
                if not status.startswith(b"OK"):
                    verb = line.split(" ", 1)[0]
                    raise ImapError(f"{verb}: {status.decode('utf-8', 'replace').strip()}")
                return responses
            if raw.startswith(b"* "):
                responses.append(parse(raw[2:], literals))

    def _read_response(self) -> tuple[bytes, list[bytes]]:
        parts, literals = [], []
        while True:
            line = self.rfile.readline()
            if not line:
                raise ImapError("connection closed by server")
            m = re.search(rb"\{(\d+)\+?\}\r\n$", line)
            if not m:
                parts.append(line.rstrip(b"\r\n"))
                return b"".join(parts), literals
            literals.append(self.rfile.read(int(m.group(1))))
            # keep a placeholder the parser turns back into the literal
            parts.append(line[:m.start()] + b"\x00%d\x00" % (len(literals) - 1))

    def close(self) -> None:
        try:
            self.command("LOGOUT")
        except Exception:
            pass
        self.sock.close()


_TOKEN = re.compile(rb'\s*(?:(\()|(\))|"((?:[^"\\]|\\.)*)"|\x00(\d+)\x00|((?:[^\s()"\x00\[]|\[[^\]]*\])+))')


def parse(data: bytes, literals: list[bytes]) -> list:
    """Parse a response line into nested lists of bytes (literals restored)."""
    stack: list[list] = [[]]
    pos = 0
    while pos < len(data):
        m = _TOKEN.match(data, pos)
        if not m or m.end() == pos:
            pos += 1            # stray character: skip it
            continue
        pos = m.end()
        if m.group(1):
            stack.append([])
        elif m.group(2):
            done = stack.pop()
            stack[-1].append(done)
        elif m.group(3) is not None:
            stack[-1].append(re.sub(rb"\\(.)", rb"\1", m.group(3)))
        elif m.group(4) is not None:
            stack[-1].append(literals[int(m.group(4))])
        else:
            stack[-1].append(m.group(5))
    while len(stack) > 1:
        done = stack.pop()
        stack[-1].append(done)
    return stack[0]


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def mutf7_decode(name: str) -> str:
    def one(m: re.Match) -> str:
        b64 = m.group(1)
        if not b64:
            return "&"
        b64 = b64.replace(",", "/") + "=" * (-len(b64) % 4)
        return base64.b64decode(b64).decode("utf-16-be")
    return re.sub(r"&([A-Za-z0-9+,]*)-", one, name)


def canonical(data: bytes) -> bytes:
    return re.sub(rb"\r*\n", b"\r\n", data)


def internaldate_epoch(s: str) -> int | None:
    m = re.match(r"\s*(\d{1,2})-(\w{3})-(\d{4}) (\d\d):(\d\d):(\d\d) ([+-])(\d\d)(\d\d)", s)
    if not m:
        return None
    d, mon, y, hh, mm, ss, sign, oh, om = m.groups()
    off = (int(oh) * 60 + int(om)) * (1 if sign == "+" else -1)
    t = dt.datetime(int(y), MONTHS[mon.capitalize()], int(d), int(hh), int(mm), int(ss),
                    tzinfo=dt.timezone(dt.timedelta(minutes=off)))
    return int(t.timestamp())


def corpus_id(data: bytes) -> str | None:
    head = data.split(b"\r\n\r\n", 1)[0].split(b"\n\n", 1)[0]
    m = re.search(rb"(?im)^X-Corpus-Id:[ \t]*([^\r\n]+)", head)
    return m.group(1).decode("utf-8", "replace").strip() if m else None


# ------------------------------------------------------------- one server --
def word(x) -> bytes:
    """Upper-cased atom, or b"" for a list."""
    return x.upper() if isinstance(x, bytes) else b""


def b2s(x) -> str:
    return x.decode("utf-8", "replace") if isinstance(x, bytes) else str(x)


def snapshot(args, port: int, user: str) -> dict[tuple[str, ...], list[dict]]:
    """{folder path components: [message, ...]} for one account on one server."""
    c = Client(args.host, port, args.tls, args.ca_file)
    try:
        if args.master:
            c.command(f"LOGIN {quote(user + '*' + args.master)} {quote(args.master_pass)}")
        else:
            password = args.pass_prefix + user[len(args.user_prefix):]
            c.command(f"LOGIN {quote(user)} {quote(password)}")
        folders: dict[tuple[str, ...], list[dict]] = {}
        for resp in c.command('LIST "" "*"'):
            if len(resp) < 4 or word(resp[0]) != b"LIST":
                continue
            attrs = [b2s(a).lower() for a in resp[1]]
            delim = b2s(resp[2]) if resp[2] and word(resp[2]) != b"NIL" else None
            wire = b2s(resp[3])
            path = tuple(mutf7_decode(wire).split(delim)) if delim else (mutf7_decode(wire),)
            if path[0].upper() == "INBOX":
                path = ("INBOX",) + path[1:]
            if "\\noselect" in attrs or "\\nonexistent" in attrs:
                continue
            folders[path] = fetch_folder(c, wire)
        return folders
    finally:
        c.close()


def fetch_folder(c: Client, wire: str) -> list[dict]:
    exists = 0
    for resp in c.command(f"EXAMINE {quote(wire)}"):
        if len(resp) >= 2 and word(resp[1]) == b"EXISTS":
            exists = int(resp[0])
    if not exists:
        return []
    msgs: dict[int, dict] = {}
    for resp in c.command("UID FETCH 1:* (UID FLAGS INTERNALDATE BODY.PEEK[])"):
        if len(resp) < 3 or word(resp[1]) != b"FETCH" or not isinstance(resp[2], list):
            continue
        items = resp[2]
        fields = {}
        i = 0
        while i + 1 < len(items):
            fields[b2s(items[i]).upper()] = items[i + 1]
            i += 2
        uid = int(fields.get("UID", 0))
        m = msgs.setdefault(uid, {"uid": uid})
        if "FLAGS" in fields:
            flags = set()
            for f in fields["FLAGS"]:
                f = b2s(f)
                if f.lower() == "\\recent":
                    continue
                flags.add(SYSTEM_FLAGS.get(f.lower(), f))
            m["flags"] = sorted(flags)
        if "INTERNALDATE" in fields:
            m["date_text"] = b2s(fields["INTERNALDATE"])
            m["date"] = internaldate_epoch(m["date_text"])
        if "BODY[]" in fields and isinstance(fields["BODY[]"], bytes):
            body = fields["BODY[]"]
            m["hash"] = hashlib.sha256(canonical(body)).hexdigest()
            m["id"] = corpus_id(body) or m["hash"][:16]
    # unsolicited FETCH responses (flag updates) carry no body: drop them
    return [m for m in msgs.values() if "hash" in m and "flags" in m]


# ------------------------------------------------------------- comparison --
def compare_folder(src: list[dict], dst: list[dict]) -> dict:
    res = {"src": len(src), "dst": len(dst), "missing": [], "extra": [],
           "flag_mismatch": [], "date_mismatch": []}
    by_hash: dict[str, tuple[list, list]] = {}
    for m in src:
        by_hash.setdefault(m["hash"], ([], []))[0].append(m)
    for m in dst:
        by_hash.setdefault(m["hash"], ([], []))[1].append(m)
    for h, (a, b) in sorted(by_hash.items()):
        # pair identical (flags, date) first so duplicates are matched fairly
        a = sorted(a, key=lambda m: (m["flags"], m["date"] or 0))
        b = list(b)
        pairs, rest_a = [], []
        for m in a:
            j = next((k for k, n in enumerate(b)
                      if n["flags"] == m["flags"] and n["date"] == m["date"]), None)
            if j is None:
                rest_a.append(m)
            else:
                pairs.append((m, b.pop(j)))
        while rest_a and b:
            pairs.append((rest_a.pop(0), b.pop(0)))
        res["missing"] += [m["id"] for m in rest_a]
        res["extra"] += [m["id"] for m in b]
        for m, n in pairs:
            if m["flags"] != n["flags"]:
                res["flag_mismatch"].append({"id": m["id"], "src": m["flags"], "dst": n["flags"]})
            if m["date"] != n["date"]:
                res["date_mismatch"].append({"id": m["id"], "src": m.get("date_text"),
                                             "dst": n.get("date_text")})
    res["missing"].sort()
    res["extra"].sort()
    return res


def compare_user(args, user: str) -> dict:
    src = snapshot(args, args.src_port, user)
    dst = snapshot(args, args.dst_port, user)
    ignored = {tuple(f.split("/")) for f in args.ignore_folder}
    ignored |= {("INBOX",) + p[1:] for p in ignored if p[0].upper() == "INBOX"}
    out: dict = {"folders": {}, "ok": True}
    for path in sorted(set(src) | set(dst)):
        if path in ignored:
            continue
        r = compare_folder(src.get(path, []), dst.get(path, []))
        if path not in dst:
            r["folder_missing"] = True
        if path not in src:
            r["folder_extra"] = True
        bad = (r["missing"] or r["flag_mismatch"] or r["date_mismatch"]
               or r.get("folder_missing")
               or ((r["extra"] or r.get("folder_extra")) and not args.dst_only_extra_ok))
        if bad:
            out["ok"] = False
        out["folders"]["/".join(path)] = r
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--src-port", type=int, default=10143)
    ap.add_argument("--dst-port", type=int, default=20143)
    ap.add_argument("--user", action="append", default=[], help="account to compare (repeatable)")
    ap.add_argument("--all-users", type=int, metavar="N", help="also compare <prefix>1..<prefix>N")
    ap.add_argument("--user-prefix", default="user")
    ap.add_argument("--pass-prefix", default="pass", help="used when --master is empty")
    ap.add_argument("--master", default="master", help='master user ("" = log in as the user)')
    ap.add_argument("--master-pass", default="masterpass")
    ap.add_argument("--ignore-folder", action="append", default=[], metavar="PATH",
                    help='folder path with "/" separators, e.g. Archive/2019 (repeatable)')
    ap.add_argument("--dst-only-extra-ok", action="store_true",
                    help="messages/folders present only on the destination are not an error")
    ap.add_argument("--tls", action="store_true", help="implicit TLS (IMAPS) on both ports")
    ap.add_argument("--ca-file", help="CA bundle for --tls")
    ap.add_argument("--jobs", type=int, default=4, help="accounts compared in parallel")
    args = ap.parse_args()

    users = list(args.user)
    if args.all_users:
        users += [f"{args.user_prefix}{i}" for i in range(1, args.all_users + 1)
                  if f"{args.user_prefix}{i}" not in users]
    if not users:
        ap.error("give --user or --all-users")

    try:
        with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
            results = dict(zip(users, ex.map(lambda u: compare_user(args, u), users)))
    except (OSError, ImapError) as e:
        print(json.dumps({"ok": False, "error": str(e)}))
        return 2

    totals = {"src_messages": 0, "dst_messages": 0, "missing": 0, "extra": 0,
              "flag_mismatch": 0, "date_mismatch": 0, "folders_missing": 0, "folders_extra": 0}
    for r in results.values():
        for f in r["folders"].values():
            totals["src_messages"] += f["src"]
            totals["dst_messages"] += f["dst"]
            for k in ("missing", "extra", "flag_mismatch", "date_mismatch"):
                totals[k] += len(f[k])
            totals["folders_missing"] += bool(f.get("folder_missing"))
            totals["folders_extra"] += bool(f.get("folder_extra"))
    ok = all(r["ok"] for r in results.values())
    print(json.dumps({"ok": ok, "users": results, "totals": totals}, ensure_ascii=False, indent=1))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
