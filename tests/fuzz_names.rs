//! Property tests of message, flag and folder-name handling:
//!
//! * modified UTF-7 (`cutover::imap::{encode_mutf7, decode_mutf7}`) round
//!   trips for any string, and decoding never panics on any input (a server
//!   may LIST anything);
//! * `cutover::engine::hash::canonical_sha256` does not change when a text's
//!   line ends are rewritten between LF and CRLF;
//! * APPEND's flag list (and UID STORE's) never panics and never lets a
//!   keyword break out of its command: driven through the public API
//!   (`Connection::append_batch`, `Connection::store_flags`) against a small
//!   in-process IMAP server that records every command line it receives.
//!
//! Time-bounded: 256 cases per property, no failure files written.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, FixedOffset};
use cutover::engine::hash::canonical_sha256;
use cutover::imap::{Connection, Outgoing, decode_mutf7, encode_mutf7};
use cutover::plan::{Auth, Endpoint, Secret, Security, Side};
use cutover::telemetry::Metrics;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

fn config() -> Config {
    Config {
        cases: 256,
        failure_persistence: None,
        ..Config::default()
    }
}

/// Strings rich in what matters here: `&`, `-`, ASCII, controls, accents,
/// CJK and astral characters.
fn folder_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[a-zA-Z0-9 &\\-/.,+_]{0,30}",
        "[&\\-aé日本語🕌\u{0}-\u{1f}\u{7f}\u{80}-\u{ff}\u{fffd}]{0,20}",
    ]
}

/// Wire names a hostile or sloppy server might send.
fn wire_name() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9+,&\\-!=/ ]{0,40}",
        "(&[A-Za-z0-9+,]{0,12}-?[a-z ]{0,3}){1,4}",
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn modified_utf7_round_trips(name in folder_name()) {
        let wire = encode_mutf7(&name);
        prop_assert!(wire.is_ascii(), "encoded name is not ASCII: {wire:?}");
        prop_assert_eq!(decode_mutf7(&wire), name, "wire {:?}", wire);
    }

    #[test]
    fn modified_utf7_decoding_never_panics(wire in wire_name()) {
        let decoded = decode_mutf7(&wire);
        // What decodes, encodes back to a name that decodes the same.
        prop_assert_eq!(decode_mutf7(&encode_mutf7(&decoded)), decoded);
    }

    #[test]
    fn canonical_hash_ignores_lf_versus_crlf(
        lines in prop::collection::vec("[^\n]{0,40}", 0..20),
        crlf in prop::collection::vec(any::<bool>(), 20),
        trailing in any::<bool>(),
    ) {
        let mut lf = lines.join("\n");
        let mut mixed = String::new();
        for (i, line) in lines.iter().enumerate() {
            if i > 0 {
                mixed.push_str(if crlf[i] { "\r\n" } else { "\n" });
            }
            mixed.push_str(line);
        }
        let mut all_crlf = lines.join("\r\n");
        if trailing && !lines.is_empty() {
            lf.push('\n');
            mixed.push_str("\r\n");
            all_crlf.push_str("\r\n");
        }
        let want = canonical_sha256(lf.as_bytes());
        prop_assert_eq!(&canonical_sha256(mixed.as_bytes()), &want);
        prop_assert_eq!(&canonical_sha256(all_crlf.as_bytes()), &want);
    }
}

// ------------------------------------------------------ flags on the wire --

/// Command lines the recording server received, in order.
type Log = Arc<Mutex<Vec<String>>>;

/// A server that accepts one session, records every command line and
/// answers LOGIN, CAPABILITY, SELECT, APPEND (literals swallowed) and STORE.
async fn recording_server() -> (u16, Log) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    let log: Log = Arc::default();
    let seen = log.clone();
    tokio::spawn(async move {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        let (read, mut w) = socket.into_split();
        let mut read = BufReader::new(read);
        let _ = w.write_all(b"* OK recorder ready\r\n").await;
        let mut raw = Vec::new();
        loop {
            raw.clear();
            if read.read_until(b'\n', &mut raw).await.unwrap_or(0) == 0 {
                return;
            }
            let line = String::from_utf8_lossy(&raw).into_owned();
            seen.lock().expect("log").push(line.clone());
            let mut words = line.split_whitespace();
            let tag = words.next().unwrap_or("*").to_owned();
            let verb = words.next().unwrap_or("").to_ascii_uppercase();
            let reply = match verb.as_str() {
                "CAPABILITY" => format!(
                    "* CAPABILITY IMAP4rev1 UIDPLUS LITERAL+ MULTIAPPEND\r\n{tag} OK done\r\n"
                ),
                "SELECT" => format!(
                    "* 0 EXISTS\r\n* OK [UIDVALIDITY 9] ok\r\n* OK [UIDNEXT 1] ok\r\n{tag} OK [READ-WRITE] done\r\n"
                ),
                "APPEND" => {
                    // Swallow every literal of the command, then answer once.
                    let mut count = 0u32;
                    let mut current = line.clone();
                    while let Some(n) = literal_length(&current) {
                        let mut skip = vec![0u8; n];
                        if read.read_exact(&mut skip).await.is_err() {
                            return;
                        }
                        count += 1;
                        raw.clear();
                        if read.read_until(b'\n', &mut raw).await.unwrap_or(0) == 0 {
                            return;
                        }
                        current = String::from_utf8_lossy(&raw).into_owned();
                        seen.lock().expect("log").push(format!("+{current}"));
                    }
                    let uids: Vec<String> = (1..=count).map(|u| u.to_string()).collect();
                    format!("{tag} OK [APPENDUID 9 {}] done\r\n", uids.join(","))
                }
                "UID" | "LOGIN" | "NOOP" => format!("{tag} OK done\r\n"),
                "LOGOUT" => format!("* BYE\r\n{tag} OK done\r\n"),
                _ => format!("{tag} BAD what\r\n"),
            };
            if w.write_all(reply.as_bytes()).await.is_err() {
                return;
            }
        }
    });
    (port, log)
}

fn literal_length(line: &str) -> Option<usize> {
    let inner = line.trim_end().strip_suffix('}')?;
    let open = inner.rfind('{')?;
    inner[open + 1..].trim_end_matches('+').parse().ok()
}

fn endpoint(port: u16) -> Endpoint {
    let mut passwords = HashMap::new();
    passwords.insert("alice".to_owned(), Secret::new("pw".to_owned()));
    Endpoint {
        side: Side::Destination,
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        ca_file: None,
        auth: Auth::User { passwords },
        timeout: Duration::from_secs(5),
    }
}

/// A flag or keyword as IMAP can carry it: `\System` or an atom.
fn is_flag_token(token: &str) -> bool {
    let body = token.strip_prefix('\\').unwrap_or(token);
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b > 0x20 && b < 0x7f && !b"(){%*\"\\]".contains(&b))
}

/// The parenthesised flag list of a command line.
fn flag_list(line: &str) -> Option<Vec<&str>> {
    let open = line.find('(')?;
    let close = open + line[open..].find(')')?;
    Some(
        line[open + 1..close]
            .split(' ')
            .filter(|t| !t.is_empty())
            .collect(),
    )
}

fn keyword() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "\\\\?[A-Za-z$_]{1,12}",
        "[\\\\$a-z(){}%*\"\\] \r\n\u{0}é]{0,12}",
        Just("\\Recent".to_owned()),
        Just("\\Seen".to_owned()),
        Just(String::new()),
    ]
}

fn date() -> impl Strategy<Value = Option<DateTime<FixedOffset>>> {
    prop::option::of((0i64..4_102_444_800, -50_400i32..=50_400)).prop_map(|d| {
        d.and_then(|(secs, offset)| {
            let tz = FixedOffset::east_opt(offset)?;
            Some(DateTime::from_timestamp(secs, 0)?.with_timezone(&tz))
        })
    })
}

/// One APPEND batch and one STORE, with the flags of each.
type Case = (
    Vec<(Vec<String>, Option<DateTime<FixedOffset>>)>,
    Vec<String>,
);

/// Runs one case on a fresh session with the recording server.
fn flags_case(rt: &tokio::runtime::Runtime, (batch, store): &Case) -> Result<(), TestCaseError> {
    let (port, log) = rt.block_on(recording_server());
    let mut conn = rt
        .block_on(async {
            let mut c =
                Connection::open(&endpoint(port), "alice", Arc::new(Metrics::new())).await?;
            c.open_folder("INBOX", false).await?;
            Ok::<_, cutover::imap::ImapError>(c)
        })
        .map_err(|e| TestCaseError::fail(format!("log in to the recorder: {e}")))?;

    log.lock().expect("log").clear();
    let outgoing: Vec<Outgoing<'_>> = batch
        .iter()
        .map(|(flags, date)| Outgoing {
            bytes: b"Subject: fuzz\r\n\r\nbody\r\n",
            flags,
            internal_date: *date,
        })
        .collect();
    let uids = rt
        .block_on(conn.append_batch("INBOX", &outgoing))
        .map_err(|e| TestCaseError::fail(format!("APPEND failed: {e}")))?;
    prop_assert_eq!(uids.len(), batch.len());
    let lines = log.lock().expect("log").clone();
    // One command line, one continuation per further message, one end.
    prop_assert_eq!(lines.len(), batch.len() + 1, "lines: {:?}", lines);
    prop_assert!(lines[0].contains(" APPEND \"INBOX\" ("), "{:?}", lines[0]);
    for (line, (flags, _)) in lines.iter().zip(batch) {
        let list = flag_list(line)
            .ok_or_else(|| TestCaseError::fail(format!("no flag list in {line:?}")))?;
        for token in &list {
            prop_assert!(is_flag_token(token), "{token:?} in {line:?}");
            prop_assert!(
                flags.iter().any(|f| f == token),
                "{token:?} was not asked for"
            );
        }
        prop_assert!(!list.contains(&"\\Recent"), "\\Recent sent: {line:?}");
    }

    log.lock().expect("log").clear();
    rt.block_on(conn.store_flags(1, store))
        .map_err(|e| TestCaseError::fail(format!("STORE failed: {e}")))?;
    let lines = log.lock().expect("log").clone();
    prop_assert_eq!(lines.len(), 1, "STORE of {:?} became {:?}", store, lines);
    for token in flag_list(&lines[0]).unwrap_or_default() {
        prop_assert!(is_flag_token(token), "{token:?} in {:?}", lines[0]);
    }
    rt.block_on(conn.logout());
    Ok(())
}

#[test]
fn flags_never_break_out_of_append_or_store() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let messages = prop::collection::vec((prop::collection::vec(keyword(), 0..6), date()), 1..4);
    let cases = (messages, prop::collection::vec(keyword(), 0..6));
    let mut runner = TestRunner::new(config());
    if let Err(e) = runner.run(&cases, |case| flags_case(&rt, &case)) {
        panic!("{e}");
    }
}
