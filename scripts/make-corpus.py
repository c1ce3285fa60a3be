#!/usr/bin/env python3
"""Fill IMAP accounts with a reproducible synthetic mail corpus (APPEND over imaplib).

Python 3.11 standard library only. Output depends on --seed, --messages and
--big-ratio and the account name — not on --jobs or --only-user — so one
account can be refilled alone and comes out byte-identical.

Per account (folder paths written with "/"; the server's own delimiter is used
on the wire, names are sent in IMAP modified UTF-7):
  INBOX Sent Drafts Archive Archive/2019 Archive/2020 Projects Projects/2024
  Projects/2024/Q3 "Old Stuff" "Réunions été" "日本語 & Co" Empty(no messages)

Regular messages: log-normal sizes (median 8 KB), flags \\Seen \\Flagged
\\Answered \\Draft and keywords $Forwarded $Label1 Custom_Label, internal dates
2014-2025. Plus, in every account, messages meant to trip a migration tool
(their X-Corpus-Id ends in odd-*): no Message-ID, one Message-ID on three
different messages, identical bytes three times (two of them in INBOX), raw
8-bit UTF-8 and Latin-1 header bytes, a 256 KB line, a 20 KB header field, no
Date header, headers without a body, bare-LF line endings, a 1000-character
Message-ID, an internal date in 1999 and (if --big-ratio > 0) a message of
several MB. Every message has an "X-Corpus-Id: <user>/<folder>/<n>" header.

  make-corpus.py --port 10143 --users 3 --messages 60 --wipe
  make-corpus.py --port 10143 --only-user user7 --wipe --manifest /tmp/u7.json
  make-corpus.py --port 20143 --only-user user2 --wipe-only  # just empty it
  make-corpus.py --plan-only                      # generate only, print totals
"""
from __future__ import annotations

import argparse
import base64
import concurrent.futures
import datetime as dt
import hashlib
import imaplib
import json
import math
import random
import re
import sys
import threading
import time

NL = b"\r\n"

# (logical path, share of an account's regular messages)
FOLDERS = [
    ("INBOX", 0.38), ("Sent", 0.16), ("Drafts", 0.02), ("Archive", 0.05),
    ("Archive/2019", 0.10), ("Archive/2020", 0.10), ("Projects", 0.04),
    ("Projects/2024", 0.06), ("Projects/2024/Q3", 0.03), ("Old Stuff", 0.02),
    ("Réunions été", 0.02), ("日本語 & Co", 0.02), ("Empty", 0.0),
]
KEYWORDS = ("$Forwarded", "$Label1", "Custom_Label")
NAMES = ["Ada Lovelace", "Björn Ødegård", "Chen Wei", "Dmitri Ivanov", "Élodie Brun",
         "Fatima Zahra", "Gustav Möller", "Hana Sato", "Ivo Kovač", "Jane Doe",
         "Kofi Mensah", "Lucía Fernández", "Maya Cohen", "Nils Berg", "Oren Levi"]
DOMAINS = ["example.com", "example.net", "example.org", "mail.example.de", "corp.example"]
WORDS = ("budget meeting agenda report draft review schedule invoice release plan "
         "quarter customer server migration weekend lunch deadline contract update "
         "numbers chart follow-up offsite hiring roadmap ticket backup office travel "
         "Grüße café résumé naïve Zürich São Paulo Kraków").split()


# ----------------------------------------------------------------- encoding --
def mutf7(name: str) -> str:
    """RFC 3501 §5.1.3 modified UTF-7: '&' -> '&-', non-ASCII runs -> &<b64>-."""
    out, pending = [], []

    def flush():
        if pending:
            raw = "".join(pending).encode("utf-16-be")
            out.append("&" + base64.b64encode(raw).decode().rstrip("=").replace("/", ",") + "-")
            pending.clear()

    for ch in name:
        if " " <= ch <= "~":
            flush()
            out.append("&-" if ch == "&" else ch)
        else:
            pending.append(ch)
    flush()
    return "".join(out)


def imap_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def rfc5322_date(t: dt.datetime) -> str:
    """Locale-independent RFC 5322 date, e.g. 'Tue, 04 Mar 2014 17:05:09 +0100'."""
    return f"{DAYS[t.weekday()]}, {t.day:02d} {MONTHS[t.month - 1]} {t.year} {t:%H:%M:%S %z}"


def canonical_crlf(data: bytes) -> bytes:
    return re.sub(rb"\r*\n", b"\r\n", data)


# ------------------------------------------------------------------ content --
def text_pool(seed: int) -> tuple[bytes, list[int]]:
    """About 1 MB of CRLF-terminated prose lines, and the offsets of line starts."""
    rng = random.Random(f"pool/{seed}")
    lines, size = [], 0
    while size < 1_000_000:
        n = rng.randint(4, 13)
        line = " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."
        if rng.random() < 0.1:
            line = ""
        b = line.encode() + NL
        lines.append(b)
        size += len(b)
    starts, pos = [], 0
    for b in lines:
        starts.append(pos)
        pos += len(b)
    return b"".join(lines), starts


class Account:
    """Deterministic message list of one account."""

    def __init__(self, user: str, args, pool: tuple[bytes, list[int]]):
        self.user = user
        self.args = args
        self.pool, self.starts = pool
        self.rng = random.Random(f"{args.seed}/{user}")
        self.counter: dict[str, int] = {}

    # -- small pieces
    def prose(self, n: int) -> bytes:
        """At least n bytes of whole lines cut from the pool."""
        rng, parts, have = self.rng, [], 0
        while have < n:
            i = rng.randrange(len(self.starts) - 1)
            start = self.starts[i]
            chunk = self.pool[start:start + max(n - have, 80)]
            cut = chunk.rfind(NL)
            chunk = chunk[:cut + 2] if cut >= 0 else self.pool[start:self.starts[i + 1]]
            parts.append(chunk)
            have += len(chunk)
        return b"".join(parts)

    def when(self) -> dt.datetime:
        lo = dt.datetime(2014, 1, 1, tzinfo=dt.timezone.utc).timestamp()
        hi = dt.datetime(2025, 12, 31, tzinfo=dt.timezone.utc).timestamp()
        tz = dt.timezone(dt.timedelta(minutes=self.rng.choice([0, 0, 60, 120, -300, 330])))
        return dt.datetime.fromtimestamp(int(self.rng.uniform(lo, hi)), tz)

    def size(self) -> int:
        if self.rng.random() < self.args.big_ratio:
            return self.big_size()
        return int(min(max(self.rng.lognormvariate(math.log(8192), 1.0), 500), 1_000_000))

    def big_size(self) -> int:
        return int(math.exp(self.rng.uniform(math.log(1 << 20), math.log(10 << 20))))

    def flags(self, folder: str) -> list[str]:
        r, f = self.rng, []
        if folder in ("Sent", "Drafts") or r.random() < 0.65:
            f.append("\\Seen")
        if r.random() < 0.06:
            f.append("\\Flagged")
        if folder not in ("Sent", "Drafts") and r.random() < 0.12:
            f.append("\\Answered")
        if folder == "Drafts":
            f.append("\\Draft")
        for kw in KEYWORDS:
            if r.random() < 0.04:
                f.append(kw)
        return f

    def next_id(self, folder: str, label: str | None = None) -> str:
        if label:
            return f"{self.user}/{folder}/odd-{label}"
        self.counter[folder] = self.counter.get(folder, 0) + 1
        return f"{self.user}/{folder}/{self.counter[folder]}"

    # -- one message
    def message(self, folder: str, cid: str, size: int, sent: dt.datetime, *,
                msgid: str | None | bool = True, date: bool = True,
                subject: bytes | None = None, extra: list[bytes] = ()) -> bytes:
        r = self.rng
        peer = r.choice(NAMES)
        peer_addr = peer.split()[0].lower().encode("ascii", "ignore").decode() + "@" + r.choice(DOMAINS)
        me = f"{self.user}@example.com"
        outgoing = folder in ("Sent", "Drafts")
        if subject is None:
            words = " ".join(r.choice(WORDS) for _ in range(r.randint(2, 7)))
            if words.isascii():
                subject = b"Subject: " + words.encode()
            else:
                subject = b"Subject: =?UTF-8?B?" + base64.b64encode(words.encode()) + b"?="
        peer_hdr = (f'"{peer}"' if peer.isascii()
                    else "=?UTF-8?B?" + base64.b64encode(peer.encode()).decode() + "?=")
        h = [f"Received: from relay{r.randint(1, 4)}.example.net (relay [198.51.100.{r.randint(1, 250)}])"
             f" by mx.example.com; {rfc5322_date(sent)}".encode()]
        if date:
            h.append(f"Date: {rfc5322_date(sent)}".encode())
        frm, to = (me, f"{peer_hdr} <{peer_addr}>") if outgoing else (f"{peer_hdr} <{peer_addr}>", me)
        h += [f"From: {frm}".encode(), f"To: {to}".encode(), subject]
        if msgid is True:
            digest = hashlib.sha256(f"{self.args.seed}/{cid}".encode()).hexdigest()[:24]
            h.append(f"Message-ID: <{digest}@{r.choice(DOMAINS)}>".encode())
        elif isinstance(msgid, str):
            h.append(f"Message-ID: {msgid}".encode())
        h.append(f"X-Corpus-Id: {cid}".encode())
        h.extend(extra)
        h.append(b"MIME-Version: 1.0")
        head = NL.join(h) + NL
        room = max(size - len(head) - 120, 40)
        if room > 48_000 or r.random() < 0.1:
            b = f"part-{r.getrandbits(64):016x}"
            text = self.prose(min(1500, room // 8))
            blob = base64.encodebytes(r.randbytes(max(16, (room - len(text) - 400) * 3 // 4)))
            body = (f'Content-Type: multipart/mixed; boundary="{b}"\r\n\r\n--{b}\r\n'
                    "Content-Type: text/plain; charset=utf-8\r\n"
                    "Content-Transfer-Encoding: 8bit\r\n\r\n").encode() + text + \
                   (f"--{b}\r\nContent-Type: application/octet-stream\r\n"
                    f'Content-Disposition: attachment; filename="data-{cid.rsplit("/", 1)[1]}.bin"\r\n'
                    "Content-Transfer-Encoding: base64\r\n\r\n").encode() + \
                   blob.replace(b"\n", NL) + f"--{b}--\r\n".encode()
        else:
            body = (b"Content-Type: text/plain; charset=utf-8\r\n"
                    b"Content-Transfer-Encoding: 8bit\r\n\r\n") + self.prose(room)
        return head + body

    # -- whole account
    def messages(self) -> list[tuple[str, str, bytes, list[str], dt.datetime]]:
        r, out = self.rng, []
        names = [f for f, _ in FOLDERS]
        weights = [w for _, w in FOLDERS]
        by_folder: dict[str, list[dt.datetime]] = {f: [] for f in names}
        for _ in range(self.args.messages):
            by_folder[r.choices(names, weights)[0]].append(self.when())
        for folder in names:
            for sent in sorted(by_folder[folder]):
                cid = self.next_id(folder)
                data = self.message(folder, cid, self.size(), sent)
                out.append((folder, cid, data, self.flags(folder), sent))
        out.extend(self.awkward())
        return out

    def awkward(self):
        r, u, out = self.rng, self.user, []

        def add(folder, label, data, flags=("\\Seen",), when=None):
            out.append((folder, f"{u}/{folder}/odd-{label}", data, list(flags), when or self.when()))

        def msg(folder, label, size=3000, **kw):
            return self.message(folder, f"{u}/{folder}/odd-{label}", size, self.when(), **kw)

        add("INBOX", "no-msgid", msg("INBOX", "no-msgid", msgid=None))
        shared = f"<shared-{u}-{self.args.seed}@example.com>"
        for i, folder in enumerate(("INBOX", "INBOX", "Archive/2019"), 1):
            add(folder, f"shared-msgid-{i}",
                msg(folder, f"shared-msgid-{i}", r.randint(1500, 6000), msgid=shared))
        twin = msg("INBOX", "triplet", 4000)
        t = self.when()
        add("INBOX", "triplet", twin, ("\\Seen",), t)
        add("INBOX", "triplet", twin, ("\\Seen",), t)
        # same bytes, so the third copy also says INBOX in its X-Corpus-Id
        out.append(("Projects", f"{u}/INBOX/odd-triplet", twin, ["\\Seen", "\\Flagged"], t))
        add("INBOX", "raw-utf8", msg("INBOX", "raw-utf8",
            subject="Subject: Grüße aus Zürich – 会議の議事録 ✓".encode(),
            extra=["X-Sender-Name: Jürgen Weiß".encode()]))
        add("Archive", "raw-latin1", msg("Archive", "raw-latin1",
            subject=b"Subject: R\xe9sum\xe9 de la r\xe9union \xe0 Gen\xe8ve",
            extra=[b"X-Org: Soci\xe9t\xe9 G\xe9n\xe9rale"]))
        long_line = msg("INBOX", "long-line", 1200)
        add("INBOX", "long-line", long_line + (b"0123456789abcdef" * 16384) + NL)
        recipients = ", ".join(f"member{i:04d}@lists.example.org" for i in range(700))
        add("INBOX", "big-header", msg("INBOX", "big-header",
            extra=[b"X-Distribution: " + recipients.encode()[:20480]]))
        add("Sent", "no-date", msg("Sent", "no-date", date=False), ("\\Seen",))
        add("INBOX", "headers-only",
            (f"From: robot@example.net\r\nTo: {u}@example.com\r\nSubject: no body here\r\n"
             f"Message-ID: <headers-only-{u}@example.net>\r\nX-Corpus-Id: {u}/INBOX/odd-headers-only\r\n"
             ).encode(), ())
        add("INBOX", "bare-lf", msg("INBOX", "bare-lf", 5000).replace(NL, b"\n"))
        long_id = "<" + "m" * (1000 - len(f"<-{u}@example.com>")) + f"-{u}@example.com>"
        add("INBOX", "long-msgid", msg("INBOX", "long-msgid", msgid=long_id))
        y1999 = dt.datetime(1999, 12, 31, 23, 59, 58, tzinfo=dt.timezone.utc)
        add("Old Stuff", "y1999", self.message("Old Stuff", f"{u}/Old Stuff/odd-y1999", 2500, y1999),
            ("\\Seen", "\\Answered", "$Forwarded", "$Label1", "Custom_Label"), y1999)
        if self.args.big_ratio > 0:
            add("Archive/2020", "big", msg("Archive/2020", "big", self.big_size()))
        return out


# --------------------------------------------------------------------- IMAP --
_LIST_RE = re.compile(rb'^\(([^)]*)\) (?:"((?:[^"\\]|\\.)*)"|NIL) (.*)$')


def list_mailboxes(c: imaplib.IMAP4, cmd: str = "LIST") -> list[tuple[str, str | None, str]]:
    """(attributes, delimiter, raw wire name) for every mailbox LIST/LSUB returns."""
    typ, data = (c.list if cmd == "LIST" else c.lsub)('""', "*")
    res = []
    for item in data if typ == "OK" else []:
        if item is None or item == b")":
            continue
        if isinstance(item, tuple):          # the name came as a literal
            m = _LIST_RE.match(item[0].rsplit(b" {", 1)[0] + b" x")
            name = item[1]
        else:
            m = _LIST_RE.match(item)
            name = m.group(3) if m else b""
            if name.startswith(b'"'):
                name = re.sub(rb'\\(.)', rb'\1', name[1:-1])
        if m:
            delim = m.group(2).decode() if m.group(2) is not None else None
            res.append((m.group(1).decode(), delim, name.decode()))
    return res


def delimiter(c: imaplib.IMAP4) -> str:
    typ, data = c.list('""', '""')
    m = _LIST_RE.match(data[0]) if typ == "OK" and data and data[0] else None
    return m.group(2).decode() if m and m.group(2) else "/"


def login(args, user: str, password: str) -> imaplib.IMAP4:
    c = imaplib.IMAP4(args.host, args.port, timeout=300)
    if args.master:
        c.login(f"{user}*{args.master}", args.master_pass)
    else:
        c.login(user, password)
    return c


def wipe(c: imaplib.IMAP4, delim: str) -> None:
    for _, _, raw in list_mailboxes(c, "LSUB"):
        c.unsubscribe(imap_quote(raw))
    boxes = [raw for _, _, raw in list_mailboxes(c) if raw.upper() != "INBOX"]
    for raw in sorted(boxes, key=lambda n: n.count(delim), reverse=True):
        typ, data = c.delete(imap_quote(raw))
        if typ != "OK":
            raise RuntimeError(f"DELETE {raw}: {data}")
    typ, data = c.select("INBOX")
    if typ == "OK" and int(data[0]) > 0:
        c.store("1:*", "+FLAGS.SILENT", "(\\Deleted)")
        c.expunge()
    c.close()


def is_empty(c: imaplib.IMAP4) -> bool:
    if any(raw.upper() != "INBOX" for _, _, raw in list_mailboxes(c)):
        return False
    typ, data = c.status("INBOX", "(MESSAGES)")
    return typ == "OK" and b"MESSAGES 0)" in data[0]


def append_raw(c: imaplib.IMAP4, mailbox: str, flags: list[str], when: dt.datetime,
               data: bytes) -> None:
    # imaplib's append() rewrites every line ending to CRLF, which would undo the
    # bare-LF case: hand the literal over unchanged instead.
    c.literal = data
    typ, resp = c._simple_command("APPEND", mailbox, "(" + " ".join(flags) + ")",
                                  imaplib.Time2Internaldate(when))
    if typ != "OK":
        raise RuntimeError(f"APPEND {mailbox}: {typ} {resp}")


def password_for(args, user: str) -> str:
    if args.password:
        return args.password
    rest = user[len(args.user_prefix):] if user.startswith(args.user_prefix) else ""
    if rest.isdigit():
        return args.pass_prefix + rest
    if user.endswith("user"):                 # quotauser -> quotapass
        return user[:-4] + "pass"
    raise SystemExit(f"no password known for {user}: use --password or --master")


def fill(args, user: str, pool, manifest: dict | None, lock: threading.Lock) -> tuple[int, int]:
    msgs = Account(user, args, pool).messages()
    c = None
    if not args.plan_only:
        c = login(args, user, password_for(args, user))
    try:
        delim = "/"
        if c:
            delim = delimiter(c)
            if args.wipe or args.wipe_only:
                wipe(c, delim)
                if args.wipe_only:
                    return 0, 0
            elif not is_empty(c):
                raise RuntimeError(f"{user} already has mail (use --wipe)")
            for folder, _ in FOLDERS:
                if folder != "INBOX":
                    wire = imap_quote(mutf7(folder.replace("/", delim)))
                    typ, data = c.create(wire)
                    if typ != "OK":
                        raise RuntimeError(f"CREATE {folder}: {data}")
                    c.subscribe(wire)
        per_folder: dict[str, list] = {f: [] for f, _ in FOLDERS}
        nbytes = 0
        for folder, cid, data, flags, when in msgs:
            if c:
                append_raw(c, imap_quote(mutf7(folder.replace("/", delim))), flags, when, data)
            nbytes += len(data)
            if manifest is not None:
                per_folder[folder].append({
                    "id": cid, "size": len(data),
                    "sha256": hashlib.sha256(data).hexdigest(),
                    "sha256_crlf": hashlib.sha256(canonical_crlf(data)).hexdigest(),
                    "flags": flags, "internaldate": when.isoformat()})
        if manifest is not None:
            with lock:
                manifest[user] = {"folders": per_folder}
        return len(msgs), nbytes
    finally:
        if c:
            try:
                c.logout()
            except Exception:
                pass


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="\n".join(__doc__.splitlines()[2:]))
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=10143)
    ap.add_argument("--users", type=int, default=20, help="accounts <prefix>1..<prefix>N (20)")
    ap.add_argument("--user-prefix", default="user")
    ap.add_argument("--pass-prefix", default="pass")
    ap.add_argument("--only-user", metavar="NAME", help="fill just this account")
    ap.add_argument("--password", help="password for --only-user (default: derived)")
    ap.add_argument("--master", help="log in as USER*MASTER instead of with the user's password")
    ap.add_argument("--master-pass", default="masterpass")
    ap.add_argument("--messages", type=int, default=500, help="regular messages per account (500)")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--big-ratio", type=float, default=0.005, help="share of 1-10 MB messages")
    ap.add_argument("--jobs", type=int, default=4, help="accounts filled in parallel")
    ap.add_argument("--wipe", action="store_true", help="delete the accounts' folders and mail first")
    ap.add_argument("--wipe-only", action="store_true", help="just empty the accounts")
    ap.add_argument("--manifest", metavar="PATH", help="write what was stored as JSON")
    ap.add_argument("--plan-only", action="store_true", help="generate without a server")
    args = ap.parse_args()

    users = ([args.only_user] if args.only_user
             else [f"{args.user_prefix}{i}" for i in range(1, args.users + 1)])
    pool = text_pool(args.seed)
    manifest: dict | None = {} if args.manifest else None
    lock = threading.Lock()
    started = time.monotonic()
    total_msgs = total_bytes = failures = 0
    with concurrent.futures.ThreadPoolExecutor(max(1, args.jobs)) as ex:
        jobs = {ex.submit(fill, args, u, pool, manifest, lock): u for u in users}
        for job in concurrent.futures.as_completed(jobs):
            try:
                n, b = job.result()
            except Exception as e:
                failures += 1
                print(f"{jobs[job]}: FAILED: {e}", file=sys.stderr)
                continue
            total_msgs += n
            total_bytes += b
    secs = time.monotonic() - started
    if manifest is not None:
        with open(args.manifest, "w", encoding="utf-8") as f:
            json.dump({"seed": args.seed, "separator": "/",
                       "users": {u: manifest[u] for u in users if u in manifest}},
                      f, ensure_ascii=False, indent=1)
    print(json.dumps({"accounts": len(users) - failures, "failed": failures,
                      "messages": total_msgs, "bytes": total_bytes,
                      "megabytes": round(total_bytes / 1e6, 1), "seconds": round(secs, 1),
                      "messages_per_second": round(total_msgs / secs) if secs else None}))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
