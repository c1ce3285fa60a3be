//! The public status page for hosting partners: `status.json` and a
//! self-contained `index.html` in one folder, rewritten atomically whenever
//! the public view changes.
//!
//! The view is built from a whitelist of snapshot fields: component and wave
//! names from the plan, phases turned into plain words, counts, and the
//! maintenance window's times. Mailbox addresses appear only when the plan
//! allows it; server names, error texts, operators and reasons never do.

use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

use super::config::StatusPageConfig;
use super::outputs::Health;
use crate::engine::Snapshot;
use crate::engine::snapshot::MailboxView;
use crate::journal::MailboxPhase;

const TEMPLATE: &str = include_str!("../../assets/status-page.html");

/// Recent public transitions kept on the page.
const HISTORY_KEPT: usize = 20;

/// The least time between two rewrites, so a busy engine does not rewrite
/// the page on every tick.
const MIN_GAP: Duration = Duration::from_secs(1);

/// A component's state, in Statuspage's words; worse states sort later.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ComponentState {
    Operational,
    UnderMaintenance,
    DegradedPerformance,
    PartialOutage,
    MajorOutage,
}

impl ComponentState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            ComponentState::Operational => "operational",
            ComponentState::UnderMaintenance => "under_maintenance",
            ComponentState::DegradedPerformance => "degraded_performance",
            ComponentState::PartialOutage => "partial_outage",
            ComponentState::MajorOutage => "major_outage",
        }
    }

    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            ComponentState::Operational => "Operational",
            ComponentState::UnderMaintenance => "Under maintenance",
            ComponentState::DegradedPerformance => "Degraded performance",
            ComponentState::PartialOutage => "Partial outage",
            ComponentState::MajorOutage => "Major outage",
        }
    }

    fn banner(self) -> &'static str {
        match self {
            ComponentState::Operational => "All systems operational",
            ComponentState::UnderMaintenance => "Scheduled maintenance in progress",
            ComponentState::DegradedPerformance => "Maintenance delayed",
            ComponentState::PartialOutage => "Some mailboxes need attention",
            ComponentState::MajorOutage => {
                "Maintenance failed for some services; we are working on it"
            }
        }
    }
}

/// One hosting partner or tenant group.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Component {
    pub name: String,
    pub state: ComponentState,
    pub mailboxes: u32,
    /// Mailboxes copied and verified on the new platform.
    pub moved: u32,
}

/// One wave, in public words.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicWave {
    pub name: String,
    pub state: String,
    pub mailboxes: u32,
    pub moved: u32,
}

/// One extension of the maintenance window: when and how long, not who or why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicExtension {
    pub at: Option<DateTime<Utc>>,
    pub minutes: u32,
}

/// The maintenance window.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicWindow {
    pub start: DateTime<Utc>,
    /// End including extensions.
    pub end: DateTime<Utc>,
    pub planned_end: DateTime<Utc>,
    pub open: bool,
    pub extensions: Vec<PublicExtension>,
}

/// One mailbox, when the plan lets the page list them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicMailbox {
    pub address: String,
    pub component: String,
    pub state: String,
}

/// Everything on the page except when it changed and its history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicView {
    pub title: String,
    pub overall: ComponentState,
    pub components: Vec<Component>,
    pub current_wave: Option<String>,
    pub next_wave: Option<String>,
    pub waves: Vec<PublicWave>,
    pub window: Option<PublicWindow>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailboxes: Option<Vec<PublicMailbox>>,
}

/// One public transition.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: DateTime<Utc>,
    pub text: String,
}

/// The content of `status.json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicStatus {
    pub updated: DateTime<Utc>,
    #[serde(flatten)]
    pub view: PublicView,
    /// Newest first.
    pub history: Vec<HistoryEntry>,
}

/// What the page shows and where it goes, fixed for a run.
#[derive(Debug, Clone)]
pub struct Page {
    dir: PathBuf,
    title: String,
    show_mailboxes: bool,
    /// Each component with its tenants.
    components: Vec<(String, Vec<String>)>,
    tenant_waves: Vec<(String, String)>,
}

impl Page {
    #[must_use]
    pub fn new(
        cfg: &StatusPageConfig,
        plan_name: &str,
        plan_dir: &Path,
        tenants: &[(String, String)],
    ) -> Self {
        let tenant_ids: Vec<String> = tenants.iter().map(|(t, _)| t.clone()).collect();
        Self {
            dir: cfg.resolved_dir(plan_dir),
            title: cfg
                .title
                .as_ref()
                .map_or_else(|| plan_name.to_owned(), |t| t.get_ref().clone()),
            show_mailboxes: cfg.show_mailboxes,
            components: cfg.components(&tenant_ids),
            tenant_waves: tenants.to_vec(),
        }
    }

    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The public view of one snapshot.
    #[must_use]
    pub fn view(&self, snapshot: &Snapshot) -> PublicView {
        let now = snapshot.taken_at;
        let window = snapshot.window.as_ref().map(|w| PublicWindow {
            start: w.start,
            end: w.end,
            planned_end: w.planned_end,
            open: w.start <= now && now <= w.end,
            extensions: w
                .extensions
                .iter()
                .map(|e| PublicExtension {
                    at: DateTime::parse_from_rfc3339(&e.at)
                        .ok()
                        .map(|t| t.with_timezone(&Utc)),
                    minutes: e.minutes,
                })
                .collect(),
        });
        let window_open = window.as_ref().is_some_and(|w| w.open);

        let index: HashMap<&str, usize> = self
            .components
            .iter()
            .enumerate()
            .flat_map(|(i, (_, tenants))| tenants.iter().map(move |t| (t.as_str(), i)))
            .collect();
        let mut members: Vec<Vec<&MailboxView>> = vec![Vec::new(); self.components.len()];
        for m in &snapshot.mailboxes {
            if let Some(&i) = index.get(m.tenant.as_str()) {
                members[i].push(m);
            }
        }
        let components: Vec<Component> = self
            .components
            .iter()
            .zip(&members)
            .map(|((name, tenants), members)| {
                self.component(name, tenants, members, snapshot, window_open)
            })
            .collect();
        let overall = components
            .iter()
            .map(|c| c.state)
            .max()
            .unwrap_or(ComponentState::Operational);

        let current = snapshot.waves.iter().position(|w| is_current(&w.phase));
        let next = snapshot
            .waves
            .iter()
            .enumerate()
            .skip(current.map_or(0, |i| i + 1))
            .find(|(_, w)| w.phase == "planned")
            .map(|(i, _)| i);

        let mailboxes = self.show_mailboxes.then(|| {
            snapshot
                .mailboxes
                .iter()
                .filter_map(|m| {
                    let &i = index.get(m.tenant.as_str())?;
                    Some(PublicMailbox {
                        address: m.source.clone(),
                        component: self.components[i].0.clone(),
                        state: mailbox_words(m).to_owned(),
                    })
                })
                .collect()
        });

        PublicView {
            title: self.title.clone(),
            overall,
            components,
            current_wave: current.map(|i| snapshot.waves[i].name.clone()),
            next_wave: next.map(|i| snapshot.waves[i].name.clone()),
            waves: snapshot
                .waves
                .iter()
                .map(|w| PublicWave {
                    name: w.name.clone(),
                    state: wave_words(&w.phase).to_owned(),
                    mailboxes: w.mailboxes,
                    moved: w.verified,
                })
                .collect(),
            window,
            mailboxes,
        }
    }

    fn component(
        &self,
        name: &str,
        tenants: &[String],
        members: &[&MailboxView],
        snapshot: &Snapshot,
        window_open: bool,
    ) -> Component {
        let mut waves: HashSet<&str> = self
            .tenant_waves
            .iter()
            .filter(|(t, _)| tenants.contains(t))
            .map(|(_, w)| w.as_str())
            .collect();
        waves.extend(members.iter().map(|m| m.wave.as_str()));
        let phases: Vec<&str> = snapshot
            .waves
            .iter()
            .filter(|w| waves.contains(w.name.as_str()))
            .map(|w| w.phase.as_str())
            .collect();
        let any = |set: &[&str]| phases.iter().any(|p| set.contains(p));

        let state = if any(&["failed", "rolled-back"]) {
            ComponentState::MajorOutage
        } else if members.iter().any(|m| m.phase == MailboxPhase::Failed) {
            ComponentState::PartialOutage
        } else if any(&["held", "halted"]) {
            ComponentState::DegradedPerformance
        } else if any(&RUNNING) || (window_open && phases.iter().any(|p| *p != "done")) {
            ComponentState::UnderMaintenance
        } else {
            ComponentState::Operational
        };
        let count = |f: &dyn Fn(&MailboxView) -> bool| {
            u32::try_from(members.iter().filter(|m| f(m)).count()).unwrap_or(u32::MAX)
        };
        Component {
            name: name.to_owned(),
            state,
            mailboxes: count(&|_| true),
            moved: count(&|m| m.phase == MailboxPhase::Verified || m.cutover),
        }
    }
}

/// Wave phases during which a wave is at work.
const RUNNING: [&str; 5] = [
    "pre-syncing",
    "delta-syncing",
    "verifying",
    "verified",
    "cut-over",
];

fn is_current(phase: &str) -> bool {
    RUNNING.contains(&phase) || matches!(phase, "pre-synced" | "held" | "halted")
}

/// A wave's phase in words for people outside the project.
#[must_use]
pub fn wave_words(phase: &str) -> &'static str {
    match phase {
        "planned" => "scheduled",
        "pre-syncing" => "copying mail in the background",
        "pre-synced" => "copied, waiting for the switch",
        "delta-syncing" => "final copy",
        "verifying" => "checking every message",
        "verified" => "checked, switching soon",
        "cut-over" => "switched to the new platform",
        "done" => "completed",
        "held" => "on hold",
        "halted" => "paused",
        "failed" => "failed",
        "rolled-back" => "rolled back to the old platform",
        _ => "in progress",
    }
}

fn mailbox_words(m: &MailboxView) -> &'static str {
    if m.cutover {
        return "switched";
    }
    match m.phase {
        MailboxPhase::Pending => "waiting",
        MailboxPhase::PreSyncing
        | MailboxPhase::PreSynced
        | MailboxPhase::DeltaSyncing
        | MailboxPhase::Verifying => "in progress",
        MailboxPhase::Verified => "moved",
        MailboxPhase::Failed => "needs attention",
        MailboxPhase::Paused => "paused",
        MailboxPhase::Skipped => "not moving",
    }
}

/// What changed between two views, in words for the history.
#[must_use]
pub fn transitions(before: &PublicView, after: &PublicView) -> Vec<String> {
    let mut out = Vec::new();
    for c in &after.components {
        let was = before.components.iter().find(|b| b.name == c.name);
        if was.is_some_and(|b| b.state != c.state) {
            out.push(format!("{}: {}", c.name, c.state.label().to_lowercase()));
        }
    }
    for w in &after.waves {
        let was = before.waves.iter().find(|b| b.name == w.name);
        if was.is_some_and(|b| b.state != w.state) {
            out.push(format!("Wave {}: {}", w.name, w.state));
        }
    }
    if let (Some(b), Some(a)) = (&before.window, &after.window) {
        if a.end > b.end {
            out.push(format!(
                "Maintenance window extended to {}",
                a.end.format("%Y-%m-%d %H:%M UTC")
            ));
        }
        if a.open && !b.open {
            out.push("Maintenance window opened".to_owned());
        }
        if !a.open && b.open {
            out.push("Maintenance window closed".to_owned());
        }
    }
    out
}

/// The page as HTML: inline CSS, no scripts, no external assets.
#[must_use]
pub fn render_html(status: &PublicStatus) -> String {
    let v = &status.view;
    let mut body = String::new();
    let _ = writeln!(
        body,
        "<div class=\"banner {}\">{}</div>",
        v.overall.as_str(),
        v.overall.banner()
    );
    components_html(&mut body, &v.components);
    if let Some(w) = &v.window {
        window_html(&mut body, w);
    }
    waves_html(&mut body, v);
    if let Some(mailboxes) = &v.mailboxes {
        mailboxes_html(&mut body, mailboxes);
    }
    history_html(&mut body, &status.history);

    TEMPLATE
        .replace("{{title}}", &escape(&v.title))
        .replace(
            "{{updated}}",
            &status.updated.format("%Y-%m-%d %H:%M:%S UTC").to_string(),
        )
        .replace("{{content}}", &body)
}

fn components_html(body: &mut String, components: &[Component]) {
    body.push_str("<h2>Services</h2>\n<div class=\"card\">\n");
    for c in components {
        let _ = writeln!(
            body,
            "<div class=\"row\"><div><div class=\"name\">{}</div>\
             <div class=\"detail\">{} of {} mailboxes moved</div></div>\
             <div class=\"state {}\"><span class=\"dot {}\"></span>{}</div></div>",
            escape(&c.name),
            c.moved,
            c.mailboxes,
            c.state.as_str(),
            c.state.as_str(),
            c.state.label()
        );
    }
    body.push_str("</div>\n");
}

fn window_html(body: &mut String, w: &PublicWindow) {
    body.push_str("<h2>Maintenance window</h2>\n<div class=\"card\">\n");
    let planned = if w.extensions.is_empty() {
        "As planned".to_owned()
    } else {
        format!("Planned to end {}", w.planned_end.format("%H:%M UTC"))
    };
    let (class, word) = if w.open {
        ("under_maintenance", "Open")
    } else {
        ("operational", "Not open")
    };
    let _ = writeln!(
        body,
        "<div class=\"row\"><div><div class=\"name\">{} – {}</div>\
         <div class=\"detail\">{planned}</div></div>\
         <div class=\"state {class}\">{word}</div></div>",
        w.start.format("%Y-%m-%d %H:%M UTC"),
        w.end.format("%Y-%m-%d %H:%M UTC"),
    );
    for e in &w.extensions {
        let at =
            e.at.map(|t| format!(" at {}", t.format("%H:%M UTC")))
                .unwrap_or_default();
        let _ = writeln!(
            body,
            "<div class=\"row\"><div class=\"detail\">Extended by {} minutes{at}</div></div>",
            e.minutes
        );
    }
    body.push_str("</div>\n");
}

fn waves_html(body: &mut String, v: &PublicView) {
    if v.waves.is_empty() {
        return;
    }
    body.push_str(
        "<h2>Waves</h2>\n<div class=\"card\"><table>\n\
         <tr><th>Wave</th><th>State</th><th>Mailboxes moved</th></tr>\n",
    );
    for w in &v.waves {
        let current = v.current_wave.as_deref() == Some(w.name.as_str());
        let next = v.next_wave.as_deref() == Some(w.name.as_str());
        let tag = if current {
            " (current)"
        } else if next {
            " (next)"
        } else {
            ""
        };
        let _ = writeln!(
            body,
            "<tr{}><td>{}{tag}</td><td>{}</td><td>{} of {}</td></tr>",
            if current { " class=\"current\"" } else { "" },
            escape(&w.name),
            escape(&w.state),
            w.moved,
            w.mailboxes
        );
    }
    body.push_str("</table></div>\n");
}

fn mailboxes_html(body: &mut String, mailboxes: &[PublicMailbox]) {
    body.push_str(
        "<h2>Mailboxes</h2>\n<div class=\"card\"><table>\n\
         <tr><th>Address</th><th>Service</th><th>State</th></tr>\n",
    );
    for m in mailboxes {
        let _ = writeln!(
            body,
            "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            escape(&m.address),
            escape(&m.component),
            escape(&m.state)
        );
    }
    body.push_str("</table></div>\n");
}

fn history_html(body: &mut String, history: &[HistoryEntry]) {
    body.push_str("<h2>Recent history</h2>\n<div class=\"card\"><ol class=\"history\">\n");
    if history.is_empty() {
        body.push_str("<li class=\"detail\">No changes yet.</li>\n");
    }
    for h in history {
        let _ = writeln!(
            body,
            "<li><time datetime=\"{}\">{}</time>{}</li>",
            h.at.to_rfc3339(),
            h.at.format("%Y-%m-%d %H:%M UTC"),
            escape(&h.text)
        );
    }
    body.push_str("</ol></div>\n");
}

fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

/// Writes `index.html` and `status.json` into `dir`, each through a
/// temporary file and a rename so a reader never sees half a page.
///
/// # Errors
/// The folder cannot be created or written.
pub fn write(dir: &Path, status: &PublicStatus) -> io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let json = serde_json::to_vec_pretty(status).map_err(io::Error::other)?;
    replace(dir, "status.json", &json)?;
    replace(dir, "index.html", render_html(status).as_bytes())
}

fn replace(dir: &Path, name: &str, bytes: &[u8]) -> io::Result<()> {
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let result = (|| {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, dir.join(name))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

/// The status a previous run left in `dir`, to carry its history on.
#[must_use]
pub fn read_existing(dir: &Path) -> Option<PublicStatus> {
    let bytes = std::fs::read(dir.join("status.json")).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The status page task: rewrites the page when the public view changes,
/// until the engine's snapshot channel closes or the task is aborted.
pub(crate) async fn run(
    page: Page,
    mut snapshots: watch::Receiver<Option<Snapshot>>,
    health: Arc<Health>,
) {
    let dir = page.dir().to_owned();
    let mut last = {
        let dir = dir.clone();
        tokio::task::spawn_blocking(move || read_existing(&dir))
            .await
            .ok()
            .flatten()
            .filter(|s| s.view.title == page.title)
    };
    loop {
        let snapshot = snapshots.borrow_and_update().clone();
        if let Some(snapshot) = snapshot {
            let view = page.view(&snapshot);
            if last.as_ref().is_none_or(|l| l.view != view) {
                let status = next_status(last.as_ref(), view, snapshot.taken_at);
                let (target, copy) = (dir.clone(), status.clone());
                match tokio::task::spawn_blocking(move || write(&target, &copy)).await {
                    Ok(Ok(())) => {
                        health.ok();
                        last = Some(status);
                    }
                    Ok(Err(e)) => {
                        let text = format!("cannot write {}: {e}", dir.display());
                        tracing::warn!(output = "status-page", "{text}");
                        health.failing(&text);
                    }
                    Err(e) => health.failing(&format!("status page writer stopped: {e}")),
                }
            }
        }
        tokio::time::sleep(MIN_GAP).await;
        if snapshots.changed().await.is_err() {
            return;
        }
    }
}

/// The status after `last` for a changed view, with the transitions between
/// the two added to the history.
#[must_use]
pub fn next_status(
    last: Option<&PublicStatus>,
    view: PublicView,
    at: DateTime<Utc>,
) -> PublicStatus {
    let mut history: Vec<HistoryEntry> = last
        .map(|l| {
            transitions(&l.view, &view)
                .into_iter()
                .map(|text| HistoryEntry { at, text })
                .collect()
        })
        .unwrap_or_default();
    if let Some(l) = last {
        history.extend(l.history.iter().cloned());
    }
    history.truncate(HISTORY_KEPT);
    PublicStatus {
        updated: at,
        view,
        history,
    }
}

/// Serves the page read-only over HTTP: `GET /` (or `/index.html`) and
/// `GET /status.json`; anything else is 404, other methods 405. Files are
/// read afresh for each request, so a running engine's rewrites show.
///
/// # Errors
/// The address cannot be bound.
pub async fn serve(dir: PathBuf, addr: SocketAddr) -> io::Result<()> {
    let listener = TcpListener::bind(addr).await?;
    let dir = Arc::new(dir);
    loop {
        let stream = match listener.accept().await {
            Ok((stream, _)) => stream,
            Err(e) => {
                tracing::warn!("status page: accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let dir = Arc::clone(&dir);
        tokio::spawn(async move {
            let _ = tokio::time::timeout(Duration::from_secs(10), answer(stream, &dir)).await;
        });
    }
}

async fn answer(mut stream: TcpStream, dir: &Path) -> io::Result<()> {
    let mut head = Vec::with_capacity(1024);
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        let n = stream.read(&mut buf).await?;
        if n == 0 || head.len() > 8192 {
            break;
        }
        head.extend_from_slice(&buf[..n]);
    }
    let head = String::from_utf8_lossy(&head);
    let mut words = head.lines().next().unwrap_or("").split_whitespace();
    let method = words.next().unwrap_or("");
    let target = words.next().unwrap_or("");
    let path = target.split(['?', '#']).next().unwrap_or("");

    let (status, kind, body) = match (method, path) {
        ("GET" | "HEAD", "/" | "/index.html") => {
            file(dir, "index.html", "text/html; charset=utf-8").await
        }
        ("GET" | "HEAD", "/status.json") => file(dir, "status.json", "application/json").await,
        ("GET" | "HEAD", _) => ("404 Not Found", "text/plain", b"not found\n".to_vec()),
        _ => (
            "405 Method Not Allowed",
            "text/plain",
            b"read-only: GET and HEAD only\n".to_vec(),
        ),
    };
    let mut response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {kind}\r\nContent-Length: {}\r\n\
         Cache-Control: no-cache\r\nX-Content-Type-Options: nosniff\r\n\
         Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'\r\n\
         Allow: GET, HEAD\r\nConnection: close\r\n\r\n",
        body.len()
    )
    .into_bytes();
    if method != "HEAD" {
        response.extend_from_slice(&body);
    }
    stream.write_all(&response).await?;
    stream.shutdown().await
}

async fn file(dir: &Path, name: &str, kind: &'static str) -> (&'static str, &'static str, Vec<u8>) {
    match tokio::fs::read(dir.join(name)).await {
        Ok(bytes) => ("200 OK", kind, bytes),
        Err(_) => (
            "503 Service Unavailable",
            "text/plain",
            b"the status page has not been written yet\n".to_vec(),
        ),
    }
}
