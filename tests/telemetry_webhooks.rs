//! Webhooks against a local HTTP server started by each test: notices for a
//! held gate and a halt arrive in Slack's shape, a 500 is retried, a dead
//! endpoint counts errors without holding anything up, and the URL (a
//! secret) shows nowhere.

use std::collections::VecDeque;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::Utc;
use cutover::engine::snapshot::{GateView, WaveView};
use cutover::engine::{EngineState, Snapshot};
use cutover::telemetry::{Category, Metrics, OutputState, Outputs, TelemetrySection};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use tokio::sync::{mpsc, watch};

const TOKEN: &str = "T0KEN-s3cret-9f8e7d";

/// One request the test server received.
#[derive(Debug)]
struct Received {
    path: String,
    body: serde_json::Value,
}

/// A tiny HTTP server: answers with the scripted statuses in turn (200 once
/// they run out) and reports every request.
async fn hook_server(statuses: Vec<u16>) -> (String, mpsc::UnboundedReceiver<Received>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let script = Arc::new(Mutex::new(VecDeque::from(statuses)));
    tokio::spawn(async move {
        loop {
            let (mut stream, _) = listener.accept().await.unwrap();
            let tx = tx.clone();
            let script = Arc::clone(&script);
            tokio::spawn(async move {
                let mut data = Vec::new();
                let mut buf = [0u8; 4096];
                let (head_end, length) = loop {
                    let n = stream.read(&mut buf).await.unwrap();
                    assert!(n > 0, "client closed before sending a request");
                    data.extend_from_slice(&buf[..n]);
                    if let Some(end) = data.windows(4).position(|w| w == b"\r\n\r\n") {
                        let head = String::from_utf8_lossy(&data[..end]).to_lowercase();
                        let length = head
                            .lines()
                            .find_map(|l| l.strip_prefix("content-length:"))
                            .map_or(0, |v| v.trim().parse::<usize>().unwrap());
                        break (end + 4, length);
                    }
                };
                while data.len() < head_end + length {
                    let n = stream.read(&mut buf).await.unwrap();
                    data.extend_from_slice(&buf[..n]);
                }
                let head = String::from_utf8_lossy(&data[..head_end]).into_owned();
                let request_line = head.lines().next().unwrap().to_owned();
                assert!(request_line.starts_with("POST "), "{request_line}");
                assert!(
                    head.to_lowercase()
                        .contains("content-type: application/json"),
                    "{head}"
                );
                let path = request_line.split(' ').nth(1).unwrap().to_owned();
                let body = serde_json::from_slice(&data[head_end..head_end + length]).unwrap();
                let status = script.lock().unwrap().pop_front().unwrap_or(200);
                let reply = format!(
                    "HTTP/1.1 {status} X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"
                );
                stream.write_all(reply.as_bytes()).await.unwrap();
                let _ = stream.shutdown().await;
                let _ = tx.send(Received { path, body });
            });
        }
    });
    (format!("http://{addr}/services/{TOKEN}"), rx)
}

/// Writes the URL to a private file the plan points at.
fn url_file(dir: &Path, name: &str, url: &str) -> String {
    let path = dir.join(name);
    std::fs::write(&path, format!("{url}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
    name.to_owned()
}

fn section(toml_text: &str) -> TelemetrySection {
    #[derive(serde::Deserialize)]
    struct Plan {
        telemetry: TelemetrySection,
    }
    let section = toml::from_str::<Plan>(toml_text).unwrap().telemetry;
    assert_eq!(section.validate(&[]), Vec::new());
    section
}

fn wave(name: &str, phase: &str, reason: Option<&str>) -> WaveView {
    WaveView {
        name: name.to_owned(),
        phase: phase.to_owned(),
        reason: reason.map(str::to_owned),
        owner: None,
        mailboxes: 10,
        done: 0,
        verified: 0,
        failed: 0,
        messages: 0,
        bytes: 0,
        eta_secs: None,
    }
}

/// A snapshot with only the fields these tests look at filled in; built from
/// JSON so fields the engine adds later (with serde defaults) need no edit.
fn snapshot(waves: Vec<WaveView>, gates: Vec<GateView>, halted: bool) -> Snapshot {
    let mut s: Snapshot = serde_json::from_value(serde_json::json!({
        "plan": "hooks", "taken_at": Utc::now(), "state": "running", "halted": false,
        "waves": [], "mailboxes": [], "errors": [], "error_examples": [], "latency": [],
        "thresholds": { "max_error_rate": 0.05, "max_p95_append_ms": 2000,
                        "max_p95_fetch_ms": 2000, "window_secs": 300 },
        "gates": [], "window": null, "events": [], "audit": [],
        "messages_per_sec": 0.0, "bytes_per_sec": 0.0, "copied": 0, "bytes": 0,
    }))
    .unwrap();
    s.waves = waves;
    s.gates = gates;
    s.halted = halted;
    if halted {
        s.state = EngineState::Halted;
    }
    s
}

fn gate(open: bool) -> GateView {
    GateView {
        wave: "wave-1".to_owned(),
        gate: "error-rate destination".to_owned(),
        open,
        reason: (!open).then(|| "destination error rate 7.2 % > 5.0 %".to_owned()),
    }
}

async fn next(rx: &mut mpsc::UnboundedReceiver<Received>) -> Received {
    tokio::time::timeout(Duration::from_secs(15), rx.recv())
        .await
        .expect("no POST within 15 s")
        .unwrap()
}

fn start(
    section: &TelemetrySection,
    dir: &Path,
) -> (Outputs, watch::Sender<Option<Snapshot>>, Arc<Metrics>) {
    let (tx, rx) = watch::channel(None);
    let metrics = Arc::new(Metrics::new());
    let outputs = cutover::telemetry::start(
        section,
        "hooks",
        dir,
        vec![("acme".to_owned(), "wave-1".to_owned())],
        rx,
        Arc::clone(&metrics),
    );
    (outputs, tx, metrics)
}

fn assert_no_secret(outputs: &Outputs, metrics: &Metrics) {
    let shown = serde_json::to_string(&outputs.status()).unwrap();
    assert!(!shown.contains(TOKEN), "status shows the URL: {shown}");
    for e in metrics.error_examples() {
        assert!(!e.text.contains(TOKEN), "error shows the URL: {}", e.text);
        assert!(
            !e.text.contains("/services/"),
            "error shows the URL: {}",
            e.text
        );
    }
}

#[tokio::test]
async fn held_gate_and_halt_are_posted_in_slack_shape() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut posts) = hook_server(Vec::new()).await;
    let (halt_url, mut halt_posts) = hook_server(Vec::new()).await;
    let file = url_file(dir.path(), "slack.url", &url);
    let halt_file = url_file(dir.path(), "ops.url", &halt_url);
    let section = section(&format!(
        "[[telemetry.webhook]]\nurl-file = \"{file}\"\nstyle = \"slack\"\n\
         [[telemetry.webhook]]\nurl-file = \"{halt_file}\"\nstyle = \"json\"\nevents = [\"halt\"]\n"
    ));
    let (outputs, tx, metrics) = start(&section, dir.path());

    tx.send(Some(snapshot(
        vec![wave("wave-1", "delta-syncing", None)],
        vec![gate(true)],
        false,
    )))
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tx.send(Some(snapshot(
        vec![wave(
            "wave-1",
            "held",
            Some("destination error rate 7.2 % > 5.0 %"),
        )],
        vec![gate(false)],
        false,
    )))
    .unwrap();
    let held = next(&mut posts).await;
    assert_eq!(held.path, format!("/services/{TOKEN}"));
    let text = held.body["text"]
        .as_str()
        .expect("Slack shape: {\"text\": ...}");
    assert_eq!(held.body.as_object().unwrap().len(), 1, "{}", held.body);
    assert!(text.contains("wave-1 held"), "{text}");
    assert!(text.contains("error-rate destination"), "{text}");
    assert!(text.contains("7.2 %"), "{text}");

    let mut halted = snapshot(vec![wave("wave-1", "held", None)], vec![gate(false)], true);
    halted.events.push(cutover::engine::snapshot::EventView {
        at: Utc::now().to_rfc3339(),
        kind: "halt".to_owned(),
        wave: Some("wave-1".to_owned()),
        mailbox: None,
        text: "halted by alice at 22:14Z".to_owned(),
    });
    tx.send(Some(halted)).unwrap();
    let halt = next(&mut posts).await;
    let text = halt.body["text"].as_str().unwrap();
    assert!(text.contains("Migration halted: halted by alice"), "{text}");

    // The second endpoint wants halts only, as raw JSON.
    let only = next(&mut halt_posts).await;
    assert_eq!(only.body["kind"], "halt");
    assert_eq!(only.body["plan"], "hooks");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert!(
        halt_posts.try_recv().is_err(),
        "the halt-only hook got more"
    );
    assert!(posts.try_recv().is_err(), "one POST per notice");

    let status = outputs.status();
    let hook = status.iter().find(|s| s.name == "webhook").unwrap();
    assert_eq!(hook.state, OutputState::Ok, "{hook:?}");
    assert!(hook.last_ok.is_some());
    assert!(metrics.error_counts().is_empty());
    assert_no_secret(&outputs, &metrics);
}

#[tokio::test]
async fn a_server_error_is_retried_with_backoff() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut posts) = hook_server(vec![500]).await;
    let file = url_file(dir.path(), "hook.url", &url);
    let section = section(&format!("[[telemetry.webhook]]\nurl-file = \"{file}\"\n"));
    let (outputs, tx, metrics) = start(&section, dir.path());

    tx.send(Some(snapshot(
        vec![wave("wave-1", "pre-synced", None)],
        Vec::new(),
        false,
    )))
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tx.send(Some(snapshot(
        vec![wave("wave-1", "delta-syncing", None)],
        Vec::new(),
        false,
    )))
    .unwrap();

    let first = next(&mut posts).await;
    let refused_at = Instant::now();
    let second = next(&mut posts).await;
    let pause = refused_at.elapsed();
    assert_eq!(first.body, second.body, "the same notice is sent again");
    assert!(
        first.body["text"]
            .as_str()
            .unwrap()
            .contains("pre-synced → delta-syncing"),
        "{}",
        first.body
    );
    assert!(
        pause >= Duration::from_millis(400),
        "retried after {pause:?}"
    );

    // The failure was counted; the success that followed clears the state.
    let deadline = Instant::now() + Duration::from_secs(5);
    while outputs.status()[2].state != OutputState::Ok && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(outputs.status()[2].state, OutputState::Ok);
    let counts = metrics.error_counts();
    assert_eq!(counts, vec![(Category::Webhook, 1)], "{counts:?}");
    let example = &metrics.error_examples()[0];
    assert!(example.text.contains("HTTP 500"), "{}", example.text);
    assert_eq!(example.server, "webhook");
    assert_no_secret(&outputs, &metrics);
}

#[tokio::test]
async fn a_dead_endpoint_counts_errors_and_blocks_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("http://127.0.0.1:9/services/{TOKEN}");
    let file = url_file(dir.path(), "dead.url", &url);
    let section = section(&format!(
        "[[telemetry.webhook]]\nurl-file = \"{file}\"\nstyle = \"teams\"\n"
    ));
    let (outputs, tx, metrics) = start(&section, dir.path());

    // The engine's side: publishing snapshots never waits on the webhook.
    let began = Instant::now();
    for i in 0..2000 {
        let phase = if i % 2 == 0 { "held" } else { "delta-syncing" };
        tx.send(Some(snapshot(
            vec![wave("wave-1", phase, None)],
            Vec::new(),
            i % 3 == 0,
        )))
        .unwrap();
        if i % 100 == 0 {
            tokio::task::yield_now().await;
        }
    }
    let publishing = began.elapsed();
    assert!(
        publishing < Duration::from_secs(2),
        "publishing took {publishing:?}"
    );

    let deadline = Instant::now() + Duration::from_secs(10);
    while metrics.error_counts().is_empty() && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let counts = metrics.error_counts();
    assert!(
        matches!(counts.as_slice(), [(Category::Webhook, n)] if *n >= 1),
        "{counts:?}"
    );
    let hook = &outputs.status()[2];
    assert_eq!(hook.name, "webhook");
    assert_eq!(hook.state, OutputState::Failing);
    let error = hook.last_error.as_deref().unwrap();
    eprintln!("dead endpoint: {error}");
    assert!(error.starts_with("webhook 1 (teams):"), "{error}");
    assert_no_secret(&outputs, &metrics);

    let began = Instant::now();
    drop(outputs);
    assert!(began.elapsed() < Duration::from_millis(100));
}

#[tokio::test]
async fn a_missing_url_is_a_failing_output_not_a_crash() {
    let dir = tempfile::tempdir().unwrap();
    let section = section(
        "[[telemetry.webhook]]\nurl-env = \"CUTOVER_TEST_HOOK_THAT_IS_NOT_SET\"\n\
         [[telemetry.webhook]]\nurl-file = \"absent.url\"\nenabled = false\n",
    );
    let (outputs, _tx, metrics) = start(&section, dir.path());
    let hook = &outputs.status()[2];
    assert_eq!(hook.state, OutputState::Failing);
    assert!(
        hook.last_error
            .as_deref()
            .unwrap()
            .contains("CUTOVER_TEST_HOOK_THAT_IS_NOT_SET is not set"),
        "{hook:?}"
    );
    assert_eq!(metrics.error_counts(), vec![(Category::Webhook, 1)]);

    let open = std::fs::Permissions::from_mode(0o644);
    let path = dir.path().join("open.url");
    std::fs::write(&path, format!("http://127.0.0.1:9/services/{TOKEN}\n")).unwrap();
    std::fs::set_permissions(&path, open).unwrap();
    let section = section_from("open.url");
    let (outputs, _tx, metrics) = start(&section, dir.path());
    let error = outputs.status()[2].last_error.clone().unwrap();
    assert!(error.contains("chmod 600"), "{error}");
    assert_no_secret(&outputs, &metrics);
}

fn section_from(file: &str) -> TelemetrySection {
    section(&format!("[[telemetry.webhook]]\nurl-file = \"{file}\"\n"))
}

#[tokio::test]
async fn no_webhook_table_means_off() {
    let dir = tempfile::tempdir().unwrap();
    let (outputs, _tx, _metrics) = start(&TelemetrySection::default(), dir.path());
    let status = outputs.status();
    let names: Vec<&str> = status.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["cloudwatch", "status-page", "webhook"]);
    assert!(status.iter().all(|s| s.state == OutputState::Off));
    assert_eq!(outputs.alarm_gate(), None);
    assert!(outputs.alarms().is_empty());
}

#[tokio::test]
async fn finishing_delivers_what_is_queued_then_stops() {
    let dir = tempfile::tempdir().unwrap();
    let (url, mut posts) = hook_server(Vec::new()).await;
    let file = url_file(dir.path(), "hook.url", &url);
    let section = section(&format!("[[telemetry.webhook]]\nurl-file = \"{file}\"\n"));
    let (outputs, tx, _metrics) = start(&section, dir.path());

    tx.send(Some(snapshot(
        vec![wave("wave-1", "cut-over", None)],
        Vec::new(),
        false,
    )))
    .unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    tx.send(Some(snapshot(
        vec![wave("wave-1", "done", None)],
        Vec::new(),
        false,
    )))
    .unwrap();
    drop(tx);

    let began = Instant::now();
    outputs.finish(Duration::from_secs(10)).await;
    assert!(
        began.elapsed() < Duration::from_secs(5),
        "finish waited for the grace"
    );
    let last = posts
        .try_recv()
        .expect("the last notice went out before finish returned");
    assert!(
        last.body["text"]
            .as_str()
            .unwrap()
            .contains("cut-over → done")
    );
}
