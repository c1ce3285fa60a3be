//! A deliberately misbehaving IMAP server, scripted in the test, against
//! cutover's IMAP layer (`cutover::imap::Connection`): garbage, truncated
//! lines, literals that never arrive, silence, malformed LIST lines, a line
//! of more than a megabyte, BYE at the greeting, hostile folder names.
//!
//! Every scenario must end in an `ImapError` with a sensible category (or,
//! for data the layer can live with, a result) within a bounded time: never
//! a panic, never a hang. Each runs under a 20 s watchdog; the endpoint's
//! own timeout is 2 s. No testbed and no account needed.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use cutover::imap::{Connection, ImapError, Outgoing};
use cutover::plan::{Auth, Endpoint, Secret, Security, Side};
use cutover::telemetry::{Category, Metrics};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::net::tcp::OwnedWriteHalf;

/// Longest a scenario may take, whatever the server does.
const WATCHDOG: Duration = Duration::from_secs(20);
/// The endpoint's per-command timeout.
const TIMEOUT: Duration = Duration::from_secs(2);

/// What the scripted server does at one point of the session.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Scenario {
    /// A normal session: LOGIN, CAPABILITY, LIST, EXAMINE, FETCH and APPEND work.
    Polite,
    GarbageForLogin,
    TruncatedLoginReply,
    NeverAnswersLogin,
    ByeAtGreeting,
    GarbageGreeting,
    MalformedList,
    EnormousListLine,
    HostileFolderNames,
    LiteralTooLongThenStall,
    FetchCutMidLine,
    GarbageForAppend,
    GarbageNamespace,
    EnormousGarbageLine,
}

/// Starts a one-connection server for `scenario`; returns its port.
async fn serve(scenario: Scenario) -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let port = listener.local_addr().expect("address").port();
    tokio::spawn(async move {
        let Ok((socket, _)) = listener.accept().await else {
            return;
        };
        let (read, mut write) = socket.into_split();
        let mut read = BufReader::new(read);
        // Scripts that stall never return; the others end by closing.
        let _ = session(scenario, &mut read, &mut write).await;
    });
    port
}

/// Never returns: the server holds the connection without a word.
async fn stall() -> std::io::Result<()> {
    std::future::pending::<()>().await;
    Ok(())
}

async fn send(w: &mut OwnedWriteHalf, bytes: &[u8]) -> std::io::Result<()> {
    w.write_all(bytes).await?;
    w.flush().await
}

#[expect(
    clippy::too_many_lines,
    reason = "the whole scripted server in one match: each scenario's misbehaviour sits next to the polite reply it replaces"
)]
async fn session(
    scenario: Scenario,
    read: &mut BufReader<tokio::net::tcp::OwnedReadHalf>,
    w: &mut OwnedWriteHalf,
) -> std::io::Result<()> {
    use Scenario as S;
    match scenario {
        S::ByeAtGreeting => return send(w, b"* BYE [UNAVAILABLE] not today\r\n").await,
        S::GarbageGreeting => {
            return send(w, b"\x00\x01\xff}{ )( this is not IMAP \x07\r\n").await;
        }
        _ => send(w, b"* OK [CAPABILITY IMAP4rev1] scripted server ready\r\n").await?,
    }
    let mut line = String::new();
    loop {
        line.clear();
        if read.read_line(&mut line).await? == 0 {
            return Ok(());
        }
        let mut words = line.split_whitespace();
        let tag = words.next().unwrap_or("*").to_owned();
        let verb = words.next().unwrap_or("").to_ascii_uppercase();
        let verb = if verb == "UID" {
            format!("UID {}", words.next().unwrap_or("").to_ascii_uppercase())
        } else {
            verb
        };
        match (scenario, verb.as_str()) {
            (S::GarbageForLogin, "LOGIN") => {
                send(w, b"%%%% \x00garbage (( ]] instead of a tagged reply\r\n").await?;
                send(w, format!("{tag} ??? !!!\r\n").as_bytes()).await?;
            }
            (S::TruncatedLoginReply, "LOGIN") => {
                send(w, format!("{tag} OK [CAPABILITY IMAP4rev1 UIDP").as_bytes()).await?;
                return Ok(()); // closes mid-line
            }
            (S::NeverAnswersLogin, "LOGIN") => return stall().await,
            (_, "LOGIN") => send(w, format!("{tag} OK logged in\r\n").as_bytes()).await?,
            (S::GarbageNamespace, "CAPABILITY") => {
                let reply =
                    format!("* CAPABILITY IMAP4rev1 NAMESPACE UIDPLUS\r\n{tag} OK done\r\n");
                send(w, reply.as_bytes()).await?;
            }
            (S::GarbageNamespace, "NAMESPACE") => {
                send(
                    w,
                    b"* NAMESPACE ((\"unterminated \"/\" NIL\r\n* NAMESPACE )))\r\n",
                )
                .await?;
                // then more than a megabyte without a line end
                send(w, &vec![b'N'; 1_200_000]).await?;
                return stall().await;
            }
            (_, "CAPABILITY") => {
                let reply = format!(
                    "* CAPABILITY IMAP4rev1 UIDPLUS LITERAL+ MULTIAPPEND\r\n{tag} OK done\r\n"
                );
                send(w, reply.as_bytes()).await?;
            }
            (S::MalformedList, "LIST") => {
                send(w, b"* LIST (\\HasNoChildren \"/\" \"INBOX\"\r\n").await?;
                send(w, b"* LIST ((( \\Bogus) NIL {zz}\r\n").await?;
                send(w, format!("{tag} OK done\r\n").as_bytes()).await?;
            }
            (S::EnormousGarbageLine, "LIST") => {
                let mut junk = b"* LIST )))".to_vec();
                junk.extend(std::iter::repeat_n(b'%', 1_200_000));
                junk.extend_from_slice(b"\r\n");
                send(w, &junk).await?;
                send(w, format!("{tag} OK done\r\n").as_bytes()).await?;
            }
            (S::EnormousListLine, "LIST") => {
                send(w, b"* LIST () \"/\" ").await?;
                send(w, &vec![b'a'; 1_500_000]).await?;
                return stall().await;
            }
            (S::HostileFolderNames, "LIST") => {
                let mut reply = String::new();
                for name in [
                    "INBOX",
                    "&!!-",
                    "&A-",
                    "&AAAA",
                    "&2D0-",
                    "&-&&--",
                    "a&Jjo-b&",
                    "&,,,,-",
                    "&ZeVnLIqe- &- Co",
                ] {
                    let _ = write!(reply, "* LIST (\\HasNoChildren) \"/\" \"{name}\"\r\n");
                }
                let _ = write!(reply, "{tag} OK done\r\n");
                send(w, reply.as_bytes()).await?;
            }
            (_, "LIST") => {
                let reply =
                    format!("* LIST (\\HasNoChildren) \"/\" \"INBOX\"\r\n{tag} OK done\r\n");
                send(w, reply.as_bytes()).await?;
            }
            (_, "EXAMINE" | "SELECT") => {
                let reply = format!(
                    "* 1 EXISTS\r\n* OK [UIDVALIDITY 7] ok\r\n* OK [UIDNEXT 2] ok\r\n\
                     {tag} OK [READ-ONLY] done\r\n"
                );
                send(w, reply.as_bytes()).await?;
            }
            (S::LiteralTooLongThenStall, "UID FETCH") => {
                send(
                    w,
                    b"* 1 FETCH (UID 1 BODY[] {5000}\r\nSubject: short\r\n\r\nonly this",
                )
                .await?;
                return stall().await;
            }
            (S::FetchCutMidLine, "UID FETCH") => {
                send(w, b"* 1 FETCH (UID 1 FLAGS (\\Se").await?;
                return Ok(());
            }
            (_, "UID FETCH") => {
                let body = b"Subject: hi\r\n\r\nhello\r\n";
                let mut reply = format!(
                    "* 1 FETCH (UID 1 FLAGS (\\Seen) INTERNALDATE \"05-Mar-2019 07:08:09 +0100\" \
                     RFC822.SIZE {} BODY[] {{{}}}\r\n",
                    body.len(),
                    body.len()
                )
                .into_bytes();
                reply.extend_from_slice(body);
                reply.extend_from_slice(format!(")\r\n{tag} OK done\r\n").as_bytes());
                send(w, &reply).await?;
            }
            (_, "APPEND") => {
                // Swallow the literals (LITERAL+: no continuation needed).
                let mut pending = literal_length(&line);
                while let Some(n) = pending {
                    let mut skip = vec![0u8; n];
                    tokio::io::AsyncReadExt::read_exact(read, &mut skip).await?;
                    line.clear();
                    read.read_line(&mut line).await?;
                    pending = literal_length(&line);
                }
                if scenario == S::GarbageForAppend {
                    send(w, b"* \x00\x01 ) ( garbage\r\n").await?;
                    send(w, format!("{tag} \x7f\x7f (((\r\n").as_bytes()).await?;
                } else {
                    send(w, format!("{tag} OK [APPENDUID 7 5] done\r\n").as_bytes()).await?;
                }
            }
            (_, "LOGOUT") => {
                send(w, format!("* BYE bye\r\n{tag} OK done\r\n").as_bytes()).await?;
                return Ok(());
            }
            (_, "NOOP") => send(w, format!("{tag} OK done\r\n").as_bytes()).await?,
            _ => send(w, format!("{tag} BAD unknown\r\n").as_bytes()).await?,
        }
    }
}

/// `{n}` or `{n+}` at the end of a command line.
fn literal_length(line: &str) -> Option<usize> {
    let line = line.trim_end();
    let inner = line.strip_suffix('}')?;
    let open = inner.rfind('{')?;
    inner[open + 1..].trim_end_matches('+').parse().ok()
}

fn endpoint(port: u16) -> Endpoint {
    let mut passwords = HashMap::new();
    passwords.insert("alice".to_owned(), Secret::new("wonderland".to_owned()));
    Endpoint {
        side: Side::Source,
        host: "127.0.0.1".into(),
        port,
        security: Security::Plain,
        ca_file: None,
        auth: Auth::User { passwords },
        timeout: TIMEOUT,
    }
}

async fn open(scenario: Scenario) -> Result<Connection, ImapError> {
    let port = serve(scenario).await;
    Connection::open(&endpoint(port), "alice", Arc::new(Metrics::new())).await
}

/// Runs a scenario under the watchdog; a hang fails the test.
async fn bounded<T>(what: &str, fut: impl Future<Output = T>) -> (T, Duration) {
    let started = Instant::now();
    let Ok(v) = tokio::time::timeout(WATCHDOG, fut).await else {
        panic!("{what}: still waiting after {WATCHDOG:?}: a hang");
    };
    (v, started.elapsed())
}

/// The scenario failed with one of the expected categories.
fn expect_error<T>(
    what: &str,
    result: Result<T, ImapError>,
    took: Duration,
    categories: &[Category],
) {
    let Err(e) = result else {
        panic!("{what}: succeeded against a misbehaving server");
    };
    eprintln!(
        "{what}: [{}] after {:.2} s: {:.200}",
        e.category,
        took.as_secs_f64(),
        e.message
    );
    assert!(
        categories.contains(&e.category),
        "{what}: category {} not in {categories:?}: {}",
        e.category,
        e.message
    );
    assert!(
        e.message.len() <= 4096,
        "{what}: error text of {} bytes (the server's garbage should not be copied whole)",
        e.message.len()
    );
}

#[tokio::test]
async fn garbage_instead_of_a_tagged_reply() {
    let (r, took) = bounded("garbage for LOGIN", open(Scenario::GarbageForLogin)).await;
    expect_error("garbage for LOGIN", r, took, &[Category::Protocol]);
}

#[tokio::test]
async fn a_reply_truncated_mid_line_then_closed() {
    let (r, took) = bounded("truncated", open(Scenario::TruncatedLoginReply)).await;
    expect_error("truncated LOGIN reply", r, took, &[Category::Connection]);
}

#[tokio::test]
async fn login_never_answered() {
    let (r, took) = bounded("silent LOGIN", open(Scenario::NeverAnswersLogin)).await;
    expect_error("silent LOGIN", r, took, &[Category::Timeout]);
    assert!(
        took >= TIMEOUT.mul_f32(0.9),
        "timed out too early: {took:?}"
    );
}

#[tokio::test]
async fn bye_at_the_greeting() {
    let (r, took) = bounded("BYE greeting", open(Scenario::ByeAtGreeting)).await;
    expect_error("BYE at the greeting", r, took, &[Category::Connection]);
}

#[tokio::test]
async fn garbage_greeting() {
    let (r, took) = bounded("garbage greeting", open(Scenario::GarbageGreeting)).await;
    expect_error("garbage greeting", r, took, &[Category::Protocol]);
}

#[tokio::test]
async fn malformed_list_line() {
    let (r, took) = bounded("malformed LIST", async {
        let mut conn = open(Scenario::MalformedList).await.expect("login works");
        conn.list_folders().await
    })
    .await;
    expect_error("malformed LIST", r, took, &[Category::Protocol]);
}

#[tokio::test]
async fn a_list_line_of_more_than_a_megabyte() {
    let (r, took) = bounded("enormous line", async {
        let mut conn = open(Scenario::EnormousListLine).await.expect("login works");
        conn.list_folders().await
    })
    .await;
    // Read until the command's timeout: a line may legitimately be long.
    expect_error(
        "1.5 MB LIST line",
        r,
        took,
        &[Category::Timeout, Category::Protocol],
    );
}

#[tokio::test]
async fn a_megabyte_of_garbage_in_one_line() {
    let (r, took) = bounded("enormous garbage", async {
        let mut conn = open(Scenario::EnormousGarbageLine)
            .await
            .expect("login works");
        conn.list_folders().await
    })
    .await;
    expect_error("1.2 MB garbage line", r, took, &[Category::Protocol]);
}

#[tokio::test]
async fn a_literal_longer_than_what_follows() {
    let (r, took) = bounded("short literal", async {
        let mut conn = open(Scenario::LiteralTooLongThenStall)
            .await
            .expect("login works");
        conn.open_folder("INBOX", true)
            .await
            .expect("EXAMINE works");
        conn.fetch_bodies(&[1], |_, _| Ok(())).await
    })
    .await;
    expect_error("literal never complete", r, took, &[Category::Timeout]);
}

#[tokio::test]
async fn a_fetch_cut_mid_line() {
    let (r, took) = bounded("cut FETCH", async {
        let mut conn = open(Scenario::FetchCutMidLine).await.expect("login works");
        conn.open_folder("INBOX", true)
            .await
            .expect("EXAMINE works");
        conn.fetch_meta("1:*").await
    })
    .await;
    expect_error("FETCH cut mid-line", r, took, &[Category::Connection]);
}

#[tokio::test]
async fn garbage_for_an_append() {
    let (r, took) = bounded("garbage APPEND", async {
        let mut conn = open(Scenario::GarbageForAppend).await.expect("login works");
        let flags = vec!["\\Seen".to_owned()];
        let batch = [Outgoing {
            bytes: b"Subject: x\r\n\r\nbody\r\n",
            flags: &flags,
            internal_date: None,
        }];
        conn.append_batch("INBOX", &batch).await
    })
    .await;
    expect_error("garbage for APPEND", r, took, &[Category::Protocol]);
}

#[tokio::test]
async fn garbage_namespace() {
    let (r, took) = bounded("garbage NAMESPACE", open(Scenario::GarbageNamespace)).await;
    expect_error(
        "garbage NAMESPACE",
        r,
        took,
        &[Category::Protocol, Category::Connection, Category::Timeout],
    );
}

#[tokio::test]
async fn hostile_folder_names_are_kept_not_fatal() {
    let (r, _) = bounded("hostile names", async {
        let mut conn = open(Scenario::HostileFolderNames)
            .await
            .expect("login works");
        conn.list_folders().await
    })
    .await;
    let folders = r.expect("LIST of odd but well-formed names works");
    let paths: Vec<&str> = folders.iter().map(|f| f.path.as_str()).collect();
    assert!(paths.contains(&"INBOX"), "{paths:?}");
    assert!(
        paths.contains(&"日本語 & Co"),
        "valid names still decode: {paths:?}"
    );
    // Invalid modified UTF-7 stays as the server sent it.
    assert!(paths.contains(&"&!!-"), "{paths:?}");
    assert_eq!(folders.len(), 9, "{paths:?}");
}

#[tokio::test]
async fn the_polite_server_works() {
    // The script itself is sound: the same session without misbehaviour works.
    let (r, _) = bounded("polite", async {
        let mut conn = open(Scenario::Polite).await?;
        let folders = conn.list_folders().await?;
        conn.open_folder("INBOX", true).await?;
        let metas = conn.fetch_meta("1:*").await?;
        let mut bodies = 0;
        conn.fetch_bodies(&[1], |_, _| {
            bodies += 1;
            Ok(())
        })
        .await?;
        let flags = vec!["\\Seen".to_owned()];
        let batch = [Outgoing {
            bytes: b"Subject: x\r\n\r\nbody\r\n",
            flags: &flags,
            internal_date: None,
        }];
        let uids = conn.append_batch("INBOX", &batch).await?;
        conn.logout().await;
        Ok::<_, ImapError>((folders.len(), metas.len(), bodies, uids))
    })
    .await;
    let (folders, metas, bodies, uids) = r.expect("a polite server works");
    assert_eq!((folders, metas, bodies), (1, 1, 1));
    assert_eq!(uids, vec![Some(5)]);
}

#[tokio::test]
async fn the_largest_timeout_a_plan_can_hold_does_not_overflow() {
    // `timeout-secs = 9223372036854775807` (TOML's largest integer) loads;
    // FETCH and APPEND scale the timeout and must not overflow on it.
    let (r, _) = bounded("absurd timeout", async {
        let port = serve(Scenario::Polite).await;
        let mut endpoint = endpoint(port);
        endpoint.timeout = Duration::from_secs(i64::MAX.unsigned_abs());
        let mut conn = Connection::open(&endpoint, "alice", Arc::new(Metrics::new())).await?;
        conn.open_folder("INBOX", true).await?;
        conn.fetch_meta("1:*").await?;
        let flags = Vec::new();
        let one = Outgoing {
            bytes: b"Subject: x\r\n\r\nbody\r\n",
            flags: &flags,
            internal_date: None,
        };
        conn.append_batch("INBOX", &[one]).await?;
        Ok::<_, ImapError>(())
    })
    .await;
    r.expect("a polite server works with any timeout");
}
