//! Webhooks: a JSON POST to chat or automation endpoints when a wave moves,
//! a gate closes or opens, the migration is halted or resumed, the window is
//! extended or a wave is rolled back.
//!
//! Notices are found by comparing consecutive snapshots. Each endpoint has a
//! bounded queue that drops its oldest notice when full and a sender that
//! retries with backoff, so a dead endpoint costs memory for 256 notices and
//! nothing else. URLs are secrets: they are read from the environment or a
//! private file, and never appear in a log line, an error or a status.

use std::collections::VecDeque;
use std::error::Error as _;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::sync::{Notify, watch};
use tokio::task::JoinHandle;

use super::config::{EventKind, TelemetrySection, WebhookConfig, WebhookStyle};
use super::outputs::Health;
use super::{Category, Metrics};
use crate::engine::Snapshot;
use crate::engine::snapshot::GateView;
use crate::journal::Extension;
use crate::plan::Secret;

/// Notices waiting per endpoint before the oldest is dropped.
pub const QUEUE_CAPACITY: usize = 256;

/// Tries of one notice; the pause doubles from [`FIRST_BACKOFF`].
const ATTEMPTS: u32 = 5;
const FIRST_BACKOFF: Duration = Duration::from_millis(500);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// Something worth telling a channel about.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Notice {
    pub kind: EventKind,
    pub wave: Option<String>,
    pub text: String,
    pub at: DateTime<Utc>,
}

/// The parts of a snapshot that notices are made from; small enough to keep
/// the previous one around.
#[derive(Debug, Clone, PartialEq)]
pub struct Digest {
    taken_at: DateTime<Utc>,
    halted: bool,
    halt_text: Option<String>,
    /// Name, phase, reason.
    waves: Vec<(String, String, Option<String>)>,
    gates: Vec<GateView>,
    extensions: Vec<Extension>,
    window_end: Option<DateTime<Utc>>,
}

impl Digest {
    #[must_use]
    pub fn of(snapshot: &Snapshot) -> Self {
        Self {
            taken_at: snapshot.taken_at,
            halted: snapshot.halted,
            halt_text: snapshot
                .events
                .iter()
                .rev()
                .find(|e| e.kind == "halt" || e.kind == "resume")
                .map(|e| e.text.clone()),
            waves: snapshot
                .waves
                .iter()
                .map(|w| (w.name.clone(), w.phase.clone(), w.reason.clone()))
                .collect(),
            gates: snapshot.gates.clone(),
            extensions: snapshot
                .window
                .as_ref()
                .map(|w| w.extensions.clone())
                .unwrap_or_default(),
            window_end: snapshot.window.as_ref().map(|w| w.end),
        }
    }
}

/// What happened between two snapshots.
#[must_use]
pub fn notices(before: &Snapshot, after: &Snapshot) -> Vec<Notice> {
    notices_between(&Digest::of(before), &Digest::of(after))
}

/// What happened between two digests, gates before waves so a held wave is
/// told once, with the gate that holds it.
#[must_use]
pub fn notices_between(before: &Digest, after: &Digest) -> Vec<Notice> {
    let mut out = Vec::new();
    if after.halted != before.halted {
        let what = if after.halted {
            "Migration halted"
        } else {
            "Migration resumed"
        };
        let text = match &after.halt_text {
            Some(t) => format!("{what}: {t}"),
            None => what.to_owned(),
        };
        out.push(after.notice(EventKind::Halt, None, text));
    }
    gate_notices(before, after, &mut out);
    wave_notices(before, after, &mut out);
    if after.extensions.len() > before.extensions.len() {
        let ends = after
            .window_end
            .map(|e| format!("; the window now ends {}", e.format("%Y-%m-%d %H:%M UTC")))
            .unwrap_or_default();
        for e in &after.extensions[before.extensions.len()..] {
            let text = format!(
                "Maintenance window extended by {} min by {}: {}{ends}",
                e.minutes, e.user, e.reason
            );
            out.push(after.notice(EventKind::Extend, None, text));
        }
    }
    out
}

impl Digest {
    fn notice(&self, kind: EventKind, wave: Option<&str>, text: String) -> Notice {
        Notice {
            kind,
            wave: wave.map(str::to_owned),
            text,
            at: self.taken_at,
        }
    }
}

fn gate_notices(before: &Digest, after: &Digest, out: &mut Vec<Notice>) {
    for gate in &after.gates {
        let was = before
            .gates
            .iter()
            .find(|g| g.wave == gate.wave && g.gate == gate.gate);
        let was_open = was.is_none_or(|g| g.open);
        if was_open && !gate.open {
            let reason = gate.reason.as_deref().unwrap_or("closed");
            let text = format!(
                "Wave {} held: gate {} closed: {reason}",
                gate.wave, gate.gate
            );
            out.push(after.notice(EventKind::Gate, Some(&gate.wave), text));
        } else if was.is_some() && !was_open && gate.open {
            let text = format!("Wave {}: gate {} open again", gate.wave, gate.gate);
            out.push(after.notice(EventKind::Gate, Some(&gate.wave), text));
        }
    }
}

fn wave_notices(before: &Digest, after: &Digest, out: &mut Vec<Notice>) {
    for (name, phase, reason) in &after.waves {
        let Some((_, old, _)) = before.waves.iter().find(|(n, ..)| n == name) else {
            continue;
        };
        if old == phase {
            continue;
        }
        let because = reason
            .as_deref()
            .map(|r| format!(": {r}"))
            .unwrap_or_default();
        let told_by_gate = out
            .iter()
            .any(|n| n.kind == EventKind::Gate && n.wave.as_deref() == Some(name));
        let (kind, text) = match phase.as_str() {
            "held" if told_by_gate => continue,
            "held" => (EventKind::Gate, format!("Wave {name} held{because}")),
            "rolled-back" => (
                EventKind::Rollback,
                format!("Wave {name} rolled back{because}"),
            ),
            "halted" => (EventKind::Halt, format!("Wave {name} halted{because}")),
            "failed" => (EventKind::Wave, format!("Wave {name} failed{because}")),
            _ => (EventKind::Wave, format!("Wave {name}: {old} → {phase}")),
        };
        out.push(after.notice(kind, Some(name), text));
    }
}

/// The body to POST for a notice, in the endpoint's style.
#[must_use]
pub fn payload(style: WebhookStyle, plan: &str, notice: &Notice) -> serde_json::Value {
    match style {
        WebhookStyle::Slack => json!({
            "text": format!("*{}* {}", slack_escape(plan), slack_escape(&notice.text)),
        }),
        WebhookStyle::Teams => json!({
            "@type": "MessageCard",
            "@context": "https://schema.org/extensions",
            "themeColor": colour(notice.kind, &notice.text),
            "summary": notice.text,
            "title": format!("Cutover {plan}"),
            "text": notice.text,
        }),
        WebhookStyle::Json => json!({
            "plan": plan,
            "kind": notice.kind.as_str(),
            "wave": notice.wave,
            "text": notice.text,
            "at": notice.at,
        }),
    }
}

fn slack_escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn colour(kind: EventKind, text: &str) -> &'static str {
    match kind {
        EventKind::Rollback => "B3261E",
        EventKind::Halt | EventKind::Gate if !text.contains("open again") => "D2691E",
        EventKind::Wave if text.contains("failed") => "B3261E",
        _ => "1F5FA8",
    }
}

/// A bounded queue that never makes the producer wait: when full, the
/// oldest notice goes.
struct Queue {
    items: Mutex<VecDeque<Notice>>,
    ready: Notify,
    /// Set when no more notices will come: the sender stops once empty.
    closed: AtomicBool,
}

impl Queue {
    fn new() -> Self {
        Self {
            items: Mutex::new(VecDeque::with_capacity(QUEUE_CAPACITY)),
            ready: Notify::new(),
            closed: AtomicBool::new(false),
        }
    }

    fn close(&self) {
        self.closed.store(true, Ordering::SeqCst);
        self.ready.notify_one();
    }

    /// Adds a notice; true when the oldest had to be dropped for it.
    fn push(&self, notice: Notice) -> bool {
        let mut items = self.items.lock().unwrap_or_else(PoisonError::into_inner);
        let dropped = items.len() >= QUEUE_CAPACITY && items.pop_front().is_some();
        items.push_back(notice);
        drop(items);
        self.ready.notify_one();
        dropped
    }

    /// The next notice, or `None` once the queue is closed and empty.
    async fn pop(&self) -> Option<Notice> {
        loop {
            let next = self
                .items
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .pop_front();
            if next.is_some() {
                return next;
            }
            if self.closed.load(Ordering::SeqCst) {
                return None;
            }
            self.ready.notified().await;
        }
    }
}

/// One endpoint the differ feeds.
struct Feed {
    label: String,
    kinds: Vec<EventKind>,
    queue: Arc<Queue>,
}

/// What [`start`] leaves running.
pub(crate) struct Started {
    pub health: Vec<Arc<Health>>,
    pub tasks: Vec<JoinHandle<()>>,
}

/// Starts a sender per switched-on webhook and one task that turns
/// snapshots into notices for them.
pub(crate) fn start(
    section: &TelemetrySection,
    plan: &str,
    plan_dir: &Path,
    snapshots: watch::Receiver<Option<Snapshot>>,
    metrics: &Arc<Metrics>,
) -> Started {
    let mut started = Started {
        health: Vec::new(),
        tasks: Vec::new(),
    };
    let hooks: Vec<(usize, &WebhookConfig)> = section.webhooks_on().collect();
    if hooks.is_empty() {
        return started;
    }
    let client = reqwest::Client::builder()
        .timeout(REQUEST_TIMEOUT)
        .connect_timeout(Duration::from_secs(5))
        .redirect(reqwest::redirect::Policy::none())
        .build();

    let mut feeds = Vec::new();
    for (n, cfg) in hooks {
        let label = format!("webhook {n} ({})", cfg.style.as_str());
        let health = Health::new("webhook", true);
        started.health.push(Arc::clone(&health));
        let ready = match (&client, read_url(cfg, plan_dir)) {
            (Ok(client), Ok(url)) => Ok((client.clone(), url)),
            (Err(e), _) => Err(format!("cannot build an HTTP client: {e}")),
            (_, Err(e)) => Err(e),
        };
        match ready {
            Ok((client, url)) => {
                let queue = Arc::new(Queue::new());
                let sender = Sender {
                    client,
                    url,
                    style: cfg.style,
                    plan: plan.to_owned(),
                    label: label.clone(),
                    health,
                    metrics: Arc::clone(metrics),
                };
                started
                    .tasks
                    .push(tokio::spawn(sender.run(Arc::clone(&queue))));
                feeds.push(Feed {
                    label,
                    kinds: EventKind::ALL
                        .into_iter()
                        .filter(|k| cfg.wants(*k))
                        .collect(),
                    queue,
                });
            }
            Err(text) => {
                let text = format!("{label}: {text}");
                tracing::error!(output = "webhook", "{text}");
                metrics.error(Category::Webhook, "", "webhook", &text);
                health.failing(&text);
            }
        }
    }
    if !feeds.is_empty() {
        started
            .tasks
            .push(tokio::spawn(differ(snapshots, feeds, Arc::clone(metrics))));
    }
    started
}

/// Reads the URL from the environment or a private file. Messages name the
/// variable or file, never the URL.
fn read_url(cfg: &WebhookConfig, plan_dir: &Path) -> Result<Secret, String> {
    let raw = if let Some(var) = &cfg.url_env {
        let var = var.get_ref();
        std::env::var(var).map_err(|_| format!("environment variable {var} is not set"))?
    } else if let Some(file) = &cfg.url_file {
        let path = plan_dir.join(file.get_ref());
        let meta =
            std::fs::metadata(&path).map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        if meta.permissions().mode() & 0o077 != 0 {
            return Err(format!(
                "{} is readable by group or others; run chmod 600 on it",
                path.display()
            ));
        }
        let text = std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?;
        text.lines().next().unwrap_or("").to_owned()
    } else {
        return Err("no url-env or url-file".to_owned());
    };
    let url = raw.trim();
    let parsed = reqwest::Url::parse(url).map_err(|_| "the URL does not parse".to_owned())?;
    if !matches!(parsed.scheme(), "http" | "https") || parsed.host_str().is_none() {
        return Err("the URL is not an http:// or https:// URL".to_owned());
    }
    Ok(Secret::new(url.to_owned()))
}

async fn differ(
    mut snapshots: watch::Receiver<Option<Snapshot>>,
    feeds: Vec<Feed>,
    metrics: Arc<Metrics>,
) {
    let mut before: Option<Digest> = None;
    loop {
        let digest = snapshots.borrow_and_update().as_ref().map(Digest::of);
        if let Some(after) = digest {
            if let Some(before) = &before {
                for notice in notices_between(before, &after) {
                    tracing::info!(kind = notice.kind.as_str(), "{}", notice.text);
                    for feed in feeds.iter().filter(|f| f.kinds.contains(&notice.kind)) {
                        if feed.queue.push(notice.clone()) {
                            let text = format!("{}: queue full, oldest notice dropped", feed.label);
                            tracing::warn!(output = "webhook", "{text}");
                            metrics.error(Category::Webhook, "", "webhook", &text);
                        }
                    }
                }
            }
            before = Some(after);
        }
        if snapshots.changed().await.is_err() {
            for feed in &feeds {
                feed.queue.close();
            }
            return;
        }
    }
}

/// Delivers one endpoint's notices in order.
struct Sender {
    client: reqwest::Client,
    url: Secret,
    style: WebhookStyle,
    plan: String,
    label: String,
    health: Arc<Health>,
    metrics: Arc<Metrics>,
}

impl Sender {
    async fn run(self, queue: Arc<Queue>) {
        while let Some(notice) = queue.pop().await {
            self.deliver(&notice).await;
        }
    }

    async fn deliver(&self, notice: &Notice) {
        let body = payload(self.style, &self.plan, notice);
        let mut pause = FIRST_BACKOFF;
        for attempt in 1..=ATTEMPTS {
            let sent = self.client.post(self.url.expose()).json(&body).send().await;
            let (text, worth_retrying) = match sent {
                Ok(response) if response.status().is_success() => {
                    self.health.ok();
                    return;
                }
                Ok(response) => {
                    let status = response.status();
                    (
                        format!("{}: HTTP {status}", self.label),
                        status.is_server_error() || status.as_u16() == 429,
                    )
                }
                Err(e) => (format!("{}: {}", self.label, self.describe(e)), true),
            };
            let retry = worth_retrying && attempt < ATTEMPTS;
            let text = if retry {
                format!("{text}; retrying")
            } else {
                format!("{text}; notice dropped")
            };
            tracing::warn!(output = "webhook", "{text}");
            self.metrics.error(Category::Webhook, "", "webhook", &text);
            self.health.failing(&text);
            if !retry {
                return;
            }
            tokio::time::sleep(pause).await;
            pause *= 2;
        }
    }

    /// An error's chain of causes without the URL.
    fn describe(&self, e: reqwest::Error) -> String {
        let e = e.without_url();
        let mut text = e.to_string();
        let mut cause = e.source();
        while let Some(c) = cause {
            let part = c.to_string();
            if !text.contains(&part) {
                text.push_str(": ");
                text.push_str(&part);
            }
            cause = c.source();
        }
        redact(&text, self.url.expose())
    }
}

/// Removes a URL, and its path and query (where tokens live), from a text.
#[must_use]
pub fn redact(text: &str, url: &str) -> String {
    let mut out = text.replace(url, "<webhook url>");
    if let Ok(parsed) = reqwest::Url::parse(url) {
        let path = parsed.path();
        if path.len() > 1 {
            out = out.replace(path, "/<redacted>");
        }
        if let Some(query) = parsed.query().filter(|q| !q.is_empty()) {
            out = out.replace(query, "<redacted>");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redact_hides_the_url_and_its_token() {
        let url = "https://hooks.example/services/T00/B00/s3cret?x=tok";
        let text = format!("error sending request for url ({url}): /services/T00/B00/s3cret");
        let out = redact(&text, url);
        assert!(!out.contains("s3cret"), "{out}");
        assert!(!out.contains("tok"), "{out}");
    }

    #[test]
    fn a_full_queue_drops_the_oldest() {
        let q = Queue::new();
        let at = Utc::now();
        for i in 0..=QUEUE_CAPACITY {
            let dropped = q.push(Notice {
                kind: EventKind::Wave,
                wave: None,
                text: i.to_string(),
                at,
            });
            assert_eq!(dropped, i == QUEUE_CAPACITY);
        }
        let first = q.items.lock().unwrap().front().cloned().unwrap();
        assert_eq!(first.text, "1");
    }

    fn digest(waves: &[(&str, &str)], gates: &[(&str, bool)], halted: bool) -> Digest {
        Digest {
            taken_at: Utc::now(),
            halted,
            halt_text: None,
            waves: waves
                .iter()
                .map(|(n, p)| ((*n).to_owned(), (*p).to_owned(), None))
                .collect(),
            gates: gates
                .iter()
                .map(|(g, open)| GateView {
                    wave: "w1".to_owned(),
                    gate: (*g).to_owned(),
                    open: *open,
                    reason: (!open).then(|| "too slow".to_owned()),
                })
                .collect(),
            extensions: Vec::new(),
            window_end: None,
        }
    }

    fn said(before: &Digest, after: &Digest) -> Vec<(EventKind, String)> {
        notices_between(before, after)
            .into_iter()
            .map(|n| (n.kind, n.text))
            .collect()
    }

    /// Before, after, and the notices expected.
    type Case<'a> = (&'a Digest, Digest, Vec<(EventKind, &'static str)>);

    #[test]
    fn notices_follow_what_changed() {
        use EventKind::{Extend, Gate, Halt, Rollback, Wave};
        let running = digest(&[("w1", "delta-syncing")], &[("latency", true)], false);
        let held = digest(&[("w1", "held")], &[("latency", false)], false);
        let cases: Vec<Case<'_>> = vec![
            (&running, running.clone(), vec![]),
            (
                &running,
                held.clone(),
                vec![(Gate, "Wave w1 held: gate latency closed: too slow")],
            ),
            (
                &held,
                running.clone(),
                vec![
                    (Gate, "Wave w1: gate latency open again"),
                    (Wave, "Wave w1: held → delta-syncing"),
                ],
            ),
            (
                &running,
                digest(&[("w1", "held")], &[("latency", true)], false),
                vec![(Gate, "Wave w1 held")],
            ),
            (
                &running,
                digest(&[("w1", "rolled-back")], &[("latency", true)], false),
                vec![(Rollback, "Wave w1 rolled back")],
            ),
            (
                &running,
                digest(&[("w1", "delta-syncing")], &[("latency", true)], true),
                vec![(Halt, "Migration halted")],
            ),
            (
                &running,
                digest(&[("w1", "failed")], &[("latency", true)], false),
                vec![(Wave, "Wave w1 failed")],
            ),
        ];
        for (before, after, want) in cases {
            let want: Vec<(EventKind, String)> =
                want.into_iter().map(|(k, t)| (k, t.to_owned())).collect();
            assert_eq!(said(before, &after), want);
        }

        let mut extended = running.clone();
        extended.extensions.push(Extension {
            at: "2026-05-02T22:00:00Z".to_owned(),
            minutes: 30,
            reason: "slow destination".to_owned(),
            user: "alice".to_owned(),
        });
        let told = said(&running, &extended);
        assert_eq!(told.len(), 1);
        assert_eq!(told[0].0, Extend);
        assert!(
            told[0]
                .1
                .contains("extended by 30 min by alice: slow destination")
        );
    }

    #[tokio::test]
    async fn a_closed_queue_hands_out_what_is_left_then_ends() {
        let q = Queue::new();
        q.push(Notice {
            kind: EventKind::Wave,
            wave: None,
            text: "last".into(),
            at: Utc::now(),
        });
        q.close();
        assert_eq!(q.pop().await.unwrap().text, "last");
        assert!(q.pop().await.is_none());
    }

    #[test]
    fn slack_text_is_escaped() {
        let n = Notice {
            kind: EventKind::Gate,
            wave: Some("w1".into()),
            text: "a < b & c".into(),
            at: Utc::now(),
        };
        let body = payload(WebhookStyle::Slack, "p", &n);
        assert_eq!(body["text"], "*p* a &lt; b &amp; c");
        let body = payload(WebhookStyle::Teams, "p", &n);
        assert_eq!(body["@type"], "MessageCard");
        assert_eq!(body["text"], "a < b & c");
        let body = payload(WebhookStyle::Json, "p", &n);
        assert_eq!(body["kind"], "gate");
    }
}
