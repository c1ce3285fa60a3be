//! The public status page for a fixture snapshot: component states, nothing
//! internal on it, atomic rewrites with history, the read-only server, and
//! a real headless browser rendering it (screenshot kept under
//! `target/test-artefacts/`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use cutover::engine::Snapshot;
use cutover::engine::snapshot::{EventView, GateView, MailboxView, WaveView, WindowView};
use cutover::journal::{AuditEntry, Extension, MailboxPhase};
use cutover::telemetry::status_page::{ComponentState, PublicStatus};
use cutover::telemetry::{
    Category, ErrorExample, LatencySummary, Metrics, Op, OutputState, Outputs, TelemetrySection,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

const PASSWORD: &str = "Hunter2!correct-horse";
const SRC_HOST: &str = "imap-src-01.internal.example";
const DST_HOST: &str = "imap-dst-07.internal.example";
const ERROR_TEXT: &str = "NO [OVERQUOTA] mailbox over quota";
const GATE_REASON: &str = "destination error rate 7.2 % > 5.0 %";
const EXTENSION_REASON: &str = "dst fleet slow, agreed with Partner ops";
const OPERATOR: &str = "oncall-bob";

/// Partner, tenant, wave, wave phase, mailbox phase.
const LAYOUT: [(&str, &str, &str, &str, MailboxPhase); 6] = [
    (
        "Partner A",
        "acme",
        "wave-1",
        "done",
        MailboxPhase::Verified,
    ),
    (
        "Partner B",
        "globex",
        "wave-2",
        "delta-syncing",
        MailboxPhase::DeltaSyncing,
    ),
    (
        "Partner C",
        "initech",
        "wave-3",
        "held",
        MailboxPhase::PreSynced,
    ),
    (
        "Partner D",
        "umbrella",
        "wave-2",
        "delta-syncing",
        MailboxPhase::Failed,
    ),
    (
        "Partner E",
        "hooli",
        "wave-4",
        "rolled-back",
        MailboxPhase::Pending,
    ),
    (
        "Partner F",
        "vandelay",
        "wave-5",
        "planned",
        MailboxPhase::Pending,
    ),
];

fn address(tenant: &str) -> String {
    format!("first.last@{tenant}-mail.example")
}

fn wave(name: &str, phase: &str) -> WaveView {
    WaveView {
        name: name.to_owned(),
        phase: phase.to_owned(),
        reason: (phase == "held").then(|| format!("{GATE_REASON} on {DST_HOST}")),
        owner: Some(OPERATOR.to_owned()),
        mailboxes: 1,
        done: 0,
        verified: u32::from(phase == "done"),
        failed: 0,
        messages: 10,
        bytes: 1000,
        eta_secs: None,
    }
}

/// A snapshot in the middle of a night: every component state occurs once
/// or more, and every internal field holds something that must not leak.
fn fixture(now: DateTime<Utc>) -> Snapshot {
    let mut s: Snapshot = serde_json::from_value(serde_json::json!({
        "plan": "partners-2026", "taken_at": now, "state": "running", "halted": false,
        "waves": [], "mailboxes": [], "errors": [], "error_examples": [], "latency": [],
        "thresholds": { "max_error_rate": 0.05, "max_p95_append_ms": 2000,
                        "max_p95_fetch_ms": 2000, "window_secs": 300 },
        "gates": [], "window": null, "events": [], "audit": [],
        "messages_per_sec": 12.5, "bytes_per_sec": 4096.0, "copied": 60, "bytes": 6000,
    }))
    .unwrap();
    let mut seen = Vec::new();
    for (_, tenant, wave_name, phase, mailbox_phase) in LAYOUT {
        if !seen.contains(&wave_name) {
            seen.push(wave_name);
            s.waves.push(wave(wave_name, phase));
        }
        s.mailboxes.push(MailboxView {
            source: address(tenant),
            destination: format!("{tenant}.user@new-platform.example"),
            tenant: tenant.to_owned(),
            wave: wave_name.to_owned(),
            phase: mailbox_phase,
            copied: 10,
            bytes: 1000,
            error_category: (mailbox_phase == MailboxPhase::Failed).then_some(Category::OverQuota),
            error_text: (mailbox_phase == MailboxPhase::Failed)
                .then(|| format!("{ERROR_TEXT} on {DST_HOST} (login with {PASSWORD})")),
            verified: (mailbox_phase == MailboxPhase::Verified).then_some(true),
            cutover: phase == "done",
        });
    }
    s.waves.sort_by(|a, b| a.name.cmp(&b.name));
    s.gates.push(GateView {
        wave: "wave-3".to_owned(),
        gate: format!("error-rate {DST_HOST}"),
        open: false,
        reason: Some(GATE_REASON.to_owned()),
    });
    s.window = Some(WindowView {
        start: now - chrono::Duration::hours(1),
        end: now + chrono::Duration::minutes(150),
        planned_end: now + chrono::Duration::minutes(120),
        extensions: vec![Extension {
            at: (now - chrono::Duration::minutes(5)).to_rfc3339(),
            minutes: 30,
            reason: EXTENSION_REASON.to_owned(),
            user: OPERATOR.to_owned(),
        }],
        forecast_end: Some(now + chrono::Duration::minutes(90)),
    });
    s.error_examples.push(ErrorExample {
        category: Category::Authentication,
        mailbox: address("acme"),
        server: SRC_HOST.to_owned(),
        text: format!("LOGIN failed for {PASSWORD}"),
        at: now,
    });
    s.latency.push(LatencySummary {
        server: DST_HOST.to_owned(),
        op: Op::Append,
        count: 100,
        p50_ms: 12.0,
        p95_ms: 80.0,
        p99_ms: 300.0,
    });
    s.events.push(EventView {
        at: now.to_rfc3339(),
        kind: "mailbox".to_owned(),
        wave: Some("wave-2".to_owned()),
        mailbox: Some(address("umbrella")),
        text: format!("failed [over-quota] {ERROR_TEXT} on {DST_HOST}"),
    });
    s.audit.push(AuditEntry {
        at: now.to_rfc3339(),
        uid: 1000,
        user: OPERATOR.to_owned(),
        role: "lead".to_owned(),
        action: "extend".to_owned(),
        arguments: EXTENSION_REASON.to_owned(),
        decision: "accepted".to_owned(),
        reason: None,
    });
    s
}

fn tenants() -> Vec<(String, String)> {
    LAYOUT
        .iter()
        .map(|(_, t, w, ..)| ((*t).to_owned(), (*w).to_owned()))
        .collect()
}

fn section(dir: &Path, show_mailboxes: bool) -> TelemetrySection {
    #[derive(serde::Deserialize)]
    struct Plan {
        telemetry: TelemetrySection,
    }
    let groups: Vec<String> = LAYOUT
        .iter()
        .map(|(p, t, ..)| format!("{{ name = \"{p}\", tenants = [\"{t}\"] }}"))
        .collect();
    let text = format!(
        "[telemetry.status-page]\ndir = \"{}\"\ntitle = \"Mail migration <Partners>\"\n\
         show-mailboxes = {show_mailboxes}\ngroups = [{}]\n",
        dir.display(),
        groups.join(", ")
    );
    let section = toml::from_str::<Plan>(&text).unwrap().telemetry;
    let ids: Vec<String> = tenants().into_iter().map(|(t, _)| t).collect();
    assert_eq!(section.validate(&ids), Vec::new());
    section
}

/// Starts the outputs on `snapshot` and waits for the page to be written.
async fn publish(
    dir: &Path,
    show_mailboxes: bool,
    snapshot: Snapshot,
) -> (Outputs, watch::Sender<Option<Snapshot>>, PublicStatus) {
    let (tx, rx) = watch::channel(Some(snapshot));
    let outputs = cutover::telemetry::start(
        &section(dir, show_mailboxes),
        "partners-2026",
        Path::new("/nonexistent-plan-dir"),
        tenants(),
        rx,
        Arc::new(Metrics::new()),
    );
    let status = wait_for(dir, |_| true).await;
    (outputs, tx, status)
}

async fn wait_for(dir: &Path, ok: impl Fn(&PublicStatus) -> bool) -> PublicStatus {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if let Ok(bytes) = std::fs::read(dir.join("status.json"))
            && let Ok(status) = serde_json::from_slice::<PublicStatus>(&bytes)
            && ok(&status)
        {
            return status;
        }
        assert!(
            Instant::now() < deadline,
            "status.json not as expected within 10 s"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

fn read(dir: &Path) -> (String, String) {
    (
        std::fs::read_to_string(dir.join("index.html")).unwrap(),
        std::fs::read_to_string(dir.join("status.json")).unwrap(),
    )
}

fn assert_nothing_internal(text: &str, mailboxes_allowed: bool) {
    let mut forbidden = vec![
        PASSWORD,
        SRC_HOST,
        DST_HOST,
        "internal.example",
        ERROR_TEXT,
        "OVERQUOTA",
        "over quota",
        GATE_REASON,
        "error rate",
        EXTENSION_REASON,
        OPERATOR,
        "new-platform.example",
        "partners-2026",
    ];
    let addresses: Vec<String> = LAYOUT.iter().map(|(_, t, ..)| address(t)).collect();
    if !mailboxes_allowed {
        forbidden.extend(addresses.iter().map(String::as_str));
        forbidden.push("-mail.example");
    }
    for word in forbidden {
        assert!(!text.contains(word), "the page shows {word:?}");
    }
}

#[tokio::test]
async fn components_show_statuspage_states_and_nothing_internal() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let (outputs, _tx, status) = publish(dir.path(), false, fixture(now)).await;

    let shown: Vec<(&str, ComponentState)> = status
        .view
        .components
        .iter()
        .map(|c| (c.name.as_str(), c.state))
        .collect();
    assert_eq!(
        shown,
        [
            ("Partner A", ComponentState::Operational),
            ("Partner B", ComponentState::UnderMaintenance),
            ("Partner C", ComponentState::DegradedPerformance),
            ("Partner D", ComponentState::PartialOutage),
            ("Partner E", ComponentState::MajorOutage),
            ("Partner F", ComponentState::UnderMaintenance),
        ]
    );
    assert_eq!(status.view.overall, ComponentState::MajorOutage);
    assert_eq!(status.view.current_wave.as_deref(), Some("wave-2"));
    assert_eq!(status.view.next_wave.as_deref(), Some("wave-5"));
    let window = status.view.window.as_ref().unwrap();
    assert!(window.open);
    assert_eq!(window.extensions.len(), 1);
    assert_eq!(window.extensions[0].minutes, 30);
    assert_eq!(
        window.end - window.planned_end,
        chrono::Duration::minutes(30)
    );
    assert!(status.view.mailboxes.is_none());

    let (html, json) = read(dir.path());
    assert_nothing_internal(&html, false);
    assert_nothing_internal(&json, false);
    for needle in [
        "Partner A",
        "Operational",
        "Under maintenance",
        "Degraded performance",
        "Partial outage",
        "Major outage",
        "wave-2 (current)",
        "wave-5 (next)",
        "Extended by 30 minutes",
        "Mail migration &lt;Partners&gt;",
    ] {
        assert!(html.contains(needle), "index.html lacks {needle:?}");
    }
    for external in ["<script", "src=\"http", "href=\"http", "@import", "url("] {
        assert!(
            !html.contains(external),
            "index.html is not self-contained: {external}"
        );
    }
    let leftovers: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n != "index.html" && n != "status.json")
        .collect();
    assert!(leftovers.is_empty(), "temporary files left: {leftovers:?}");

    let page = outputs
        .status()
        .into_iter()
        .find(|s| s.name == "status-page")
        .unwrap();
    assert_eq!(page.state, OutputState::Ok);
    assert!(page.last_ok.is_some());

    screenshot(&dir.path().join("index.html"), "status-page.png");
}

#[tokio::test]
async fn mailboxes_only_when_the_plan_allows_and_still_no_error_texts() {
    let dir = tempfile::tempdir().unwrap();
    let (_outputs, _tx, status) = publish(dir.path(), true, fixture(Utc::now())).await;
    let listed = status.view.mailboxes.as_ref().unwrap();
    assert_eq!(listed.len(), LAYOUT.len());
    let failed = listed
        .iter()
        .find(|m| m.address == address("umbrella"))
        .unwrap();
    assert_eq!(failed.state, "needs attention");
    assert_eq!(failed.component, "Partner D");
    let (html, json) = read(dir.path());
    assert!(html.contains(&address("acme")));
    assert_nothing_internal(&html, true);
    assert_nothing_internal(&json, true);
}

#[tokio::test]
async fn changes_rewrite_the_page_with_history() {
    let dir = tempfile::tempdir().unwrap();
    let now = Utc::now();
    let (outputs, tx, first) = publish(dir.path(), false, fixture(now)).await;
    assert!(first.history.is_empty());

    // Only internal figures change: the public view is the same, no rewrite.
    let mut busy = fixture(now);
    busy.taken_at = now + chrono::Duration::seconds(2);
    busy.copied += 500;
    busy.latency[0].p95_ms = 900.0;
    tx.send(Some(busy)).unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let unchanged: PublicStatus =
        serde_json::from_slice(&std::fs::read(dir.path().join("status.json")).unwrap()).unwrap();
    assert_eq!(unchanged.updated, first.updated);

    // Wave 3's gate opens and the window is extended again.
    let mut later = fixture(now);
    later.taken_at = now + chrono::Duration::seconds(4);
    later.waves[2].phase = "delta-syncing".to_owned();
    later.gates.clear();
    let window = later.window.as_mut().unwrap();
    window.end += chrono::Duration::minutes(15);
    tx.send(Some(later)).unwrap();
    let second = wait_for(dir.path(), |s| s.updated != first.updated).await;
    let history: Vec<&str> = second.history.iter().map(|h| h.text.as_str()).collect();
    assert!(
        history.contains(&"Partner C: under maintenance"),
        "{history:?}"
    );
    assert!(history.contains(&"Wave wave-3: final copy"), "{history:?}");
    assert!(
        history
            .iter()
            .any(|h| h.starts_with("Maintenance window extended to")),
        "{history:?}"
    );
    let (html, json) = read(dir.path());
    assert!(html.contains("Partner C: under maintenance"));
    assert_nothing_internal(&html, false);
    assert_nothing_internal(&json, false);

    // The engine stops: the page keeps its last state and the task ends.
    drop(tx);
    let began = Instant::now();
    outputs.finish(Duration::from_secs(10)).await;
    assert!(began.elapsed() < Duration::from_secs(3));
    assert_eq!(read(dir.path()).1, json);
}

#[tokio::test]
async fn the_server_serves_two_files_read_only() {
    let dir = tempfile::tempdir().unwrap();
    let (_outputs, _tx, _) = publish(dir.path(), false, fixture(Utc::now())).await;
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap();
    drop(listener);
    let server = tokio::spawn(cutover::telemetry::status_page::serve(
        dir.path().to_owned(),
        addr,
    ));

    let get = |request: String| async move {
        let deadline = Instant::now() + Duration::from_secs(5);
        let mut stream = loop {
            match tokio::net::TcpStream::connect(addr).await {
                Ok(s) => break s,
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(20)).await;
                }
                Err(e) => panic!("cannot connect: {e}"),
            }
        };
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut reply = String::new();
        stream.read_to_string(&mut reply).await.unwrap();
        reply
    };
    let index = get("GET / HTTP/1.1\r\nHost: x\r\n\r\n".into()).await;
    assert!(index.starts_with("HTTP/1.1 200"), "{index}");
    assert!(index.contains("text/html"));
    assert!(index.contains("Partner E"));
    let json = get("GET /status.json?x=1 HTTP/1.1\r\n\r\n".into()).await;
    assert!(json.starts_with("HTTP/1.1 200") && json.contains("application/json"));
    assert!(json.contains("\"major_outage\""));
    for path in [
        "/etc/passwd",
        "/../status.json",
        "/.status.json.tmp",
        "/index.htm",
    ] {
        let reply = get(format!("GET {path} HTTP/1.1\r\n\r\n")).await;
        assert!(reply.starts_with("HTTP/1.1 404"), "{path}: {reply}");
    }
    let post = get("POST /status.json HTTP/1.1\r\nContent-Length: 0\r\n\r\n".into()).await;
    assert!(post.starts_with("HTTP/1.1 405"), "{post}");
    server.abort();
}

/// Renders the page in Debian's chromium and keeps the screenshot.
fn screenshot(page: &Path, name: &str) {
    let chromium = chromium();
    let out_dir = artefact_dir();
    let png = out_dir.join(name);
    let _ = std::fs::remove_file(&png);
    let profile = tempfile::tempdir().unwrap();
    let mut child = Command::new(&chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--hide-scrollbars",
        ])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .arg(format!("--screenshot={}", png.display()))
        .arg("--window-size=1200,900")
        .arg(format!("file://{}", page.display()))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("chromium starts");
    let deadline = Instant::now() + Duration::from_secs(90);
    let exit = loop {
        if let Some(exit) = child.try_wait().unwrap() {
            break exit;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stderr = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
    }
    assert!(exit.success(), "chromium failed: {stderr}");

    let bytes = std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot: {e}; {stderr}"));
    assert_eq!(&bytes[..8], b"\x89PNG\r\n\x1a\n", "not a PNG");
    let width = u32::from_be_bytes(bytes[16..20].try_into().unwrap());
    let height = u32::from_be_bytes(bytes[20..24].try_into().unwrap());
    assert_eq!((width, height), (1200, 900));
    // A blank 1200x900 page compresses to a few kilobytes; text, colours and
    // tables do not.
    assert!(
        bytes.len() > 30_000,
        "screenshot is only {} bytes",
        bytes.len()
    );
}

fn chromium() -> PathBuf {
    let find = || {
        ["chromium", "chromium-browser"]
            .into_iter()
            .find_map(|name| {
                let out = Command::new("sh")
                    .args(["-c", &format!("command -v {name}")])
                    .output()
                    .ok()?;
                out.status
                    .success()
                    .then(|| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
            })
    };
    if let Some(path) = find() {
        return path;
    }
    let install = Command::new("sh")
        .args([
            "-c",
            "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium",
        ])
        .status()
        .expect("apt-get runs");
    assert!(install.success(), "apt-get install chromium failed");
    find().expect("chromium on PATH after installing it")
}

fn artefact_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or_else(
        || Path::new(env!("CARGO_MANIFEST_DIR")).join("target"),
        PathBuf::from,
    );
    let dir = target.join("test-artefacts");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
