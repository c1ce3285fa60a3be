#!/usr/bin/env python3
"""Change one folder of one account between two syncs (for delta-sync tests).

Python 3.11 standard library only. Logs in as USER*master by default.

Append COUNT new messages, each with "X-Corpus-Id: USER/FOLDER/delta-TAG-i":
  deliver.py --port 10143 --user user1 --folder INBOX --count 3 --tag d1

Add (or with --clear remove) a flag on messages picked by sequence number:
  deliver.py --port 10143 --user user1 --folder INBOX --flag '\\Flagged' --uids first:3
  deliver.py --port 10143 --user user1 --folder Archive/2019 --flag '$Label1' --clear --uids last:2

Expunge messages picked the same way:
  deliver.py --port 10143 --user user1 --folder INBOX --expunge --uids 2,5

--uids takes first:N, last:N, all, or an IMAP sequence set (e.g. 1,4:6).
FOLDER is written with "/" between levels and translated to the server's
delimiter and modified UTF-7. A JSON line describing what was done is printed.
"""
from __future__ import annotations

import argparse
import base64
import datetime as dt
import hashlib
import imaplib
import json
import re
import sys


def mutf7(name: str) -> str:
    out, run = [], []

    def flush():
        if run:
            b = base64.b64encode("".join(run).encode("utf-16-be")).decode()
            out.append("&" + b.rstrip("=").replace("/", ",") + "-")
            run.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            run.append(ch)
    flush()
    return "".join(out)


def quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def server_delimiter(c: imaplib.IMAP4) -> str:
    typ, data = c.list('""', '""')
    m = re.match(rb'\([^)]*\) "((?:[^"\\]|\\.)*)"', data[0] or b"") if typ == "OK" else None
    return m.group(1).decode().replace("\\\\", "\\") if m else "/"


def sequence_set(spec: str, exists: int) -> str | None:
    """Turn first:N / last:N / all / a literal set into a sequence set, or None if empty."""
    if exists == 0:
        return None
    m = re.fullmatch(r"(first|last):(\d+)", spec)
    if m:
        n = min(int(m.group(2)), exists)
        if n == 0:
            return None
        return f"1:{n}" if m.group(1) == "first" else f"{exists - n + 1}:{exists}"
    return "1:*" if spec == "all" else spec


def message(user: str, folder: str, tag: str, i: int) -> bytes:
    cid = f"{user}/{folder}/delta-{tag}-{i}"
    digest = hashlib.sha256(cid.encode()).hexdigest()
    # Bytes depend only on (user, folder, tag, i): the same batch delivered to
    # two servers is identical, whenever it is delivered.
    sent = dt.datetime(2026, 1, 1, tzinfo=dt.timezone.utc) + dt.timedelta(seconds=int(digest[:6], 16))
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    lines = [
        f"Date: {sent.day} {months[sent.month - 1]} {sent.year} {sent:%H:%M:%S} +0000",
        "From: Delta Sender <delta@example.net>",
        f"To: {user}@example.com",
        f"Subject: delta {tag} #{i}",
        f"Message-ID: <delta-{tag}-{i}-{digest[:16]}@example.net>",
        f"X-Corpus-Id: {cid}",
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=utf-8",
        "",
        f"New message {i} of delta batch {tag} for {folder}.",
        f"Checksum seed {digest}.",
        "",
    ]
    return "\r\n".join(lines).encode()


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--user", required=True)
    ap.add_argument("--folder", default="INBOX")
    ap.add_argument("--master", default="master", help='"" = log in with --password')
    ap.add_argument("--master-pass", default="masterpass")
    ap.add_argument("--password")
    ap.add_argument("--count", type=int, help="append this many messages")
    ap.add_argument("--tag", default="t", help="names the appended batch")
    ap.add_argument("--flags", default="", help='flags for appended messages, e.g. "\\Seen"')
    ap.add_argument("--date", help="INTERNALDATE of appended messages, ISO 8601 (default: now)")
    ap.add_argument("--flag", help="flag or keyword to set (or --clear) on --uids")
    ap.add_argument("--clear", action="store_true", help="remove --flag instead of adding it")
    ap.add_argument("--expunge", action="store_true", help="expunge the --uids messages")
    ap.add_argument("--uids", default="all", help="first:N | last:N | all | sequence set")
    args = ap.parse_args()
    if (args.count is not None) + (args.flag is not None) + args.expunge != 1:
        ap.error("give exactly one of --count, --flag, --expunge")

    c = imaplib.IMAP4(args.host, args.port, timeout=60)
    if args.master:
        c.login(f"{args.user}*{args.master}", args.master_pass)
    else:
        c.login(args.user, args.password or "")
    delim = server_delimiter(c)
    wire = quote(mutf7(args.folder.replace("/", delim)))
    result = {"user": args.user, "folder": args.folder, "port": args.port}
    try:
        if args.count is not None:
            uids, ids = [], []
            when = (dt.datetime.fromisoformat(args.date) if args.date
                    else dt.datetime.now(dt.timezone.utc).replace(microsecond=0))
            if when.tzinfo is None:
                when = when.replace(tzinfo=dt.timezone.utc)
            for i in range(1, args.count + 1):
                data = message(args.user, args.folder, args.tag, i)
                c.literal = data
                typ, resp = c._simple_command("APPEND", wire, f"({args.flags})",
                                              imaplib.Time2Internaldate(when))
                if typ != "OK":
                    raise SystemExit(f"APPEND failed: {resp}")
                m = re.search(rb"APPENDUID \d+ (\d+)", resp[-1] or b"")
                uids.append(int(m.group(1)) if m else None)
                ids.append(f"{args.user}/{args.folder}/delta-{args.tag}-{i}")
            result.update(action="append", count=args.count, ids=ids, uids=uids)
        else:
            typ, data = c.select(wire)
            if typ != "OK":
                raise SystemExit(f"SELECT {args.folder}: {data}")
            seqs = sequence_set(args.uids, int(data[0]))
            touched: list[int] = []
            if seqs:
                typ, data = c.fetch(seqs, "(UID)")
                touched = [int(m.group(1)) for d in data if d
                           for m in [re.search(rb"UID (\d+)", d if isinstance(d, bytes) else d[0])] if m]
                if args.expunge:
                    c.store(seqs, "+FLAGS.SILENT", "(\\Deleted)")
                    c.expunge()
                else:
                    typ, data = c.store(seqs, "-FLAGS.SILENT" if args.clear else "+FLAGS.SILENT",
                                        f"({args.flag})")
                    if typ != "OK":
                        raise SystemExit(f"STORE failed: {data}")
            action = "expunge" if args.expunge else ("clear_flag" if args.clear else "set_flag")
            result.update(action=action, flag=args.flag, sequence=seqs, uids=touched)
            c.close()
    finally:
        c.logout()
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
