//! The outputs that read the engine's snapshots: CloudWatch, the status page
//! and webhooks, each in its own background task.
//!
//! The engine only ever publishes into a `watch` channel, which never waits;
//! a slow or dead output falls behind on its own, counts its failures and
//! shows them in [`Outputs::status`].

#![expect(
    clippy::doc_markdown,
    reason = "CloudWatch is a product name, not an identifier"
)]

use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::sync::watch;
use tokio::task::JoinHandle;

use super::cloudwatch::{AlarmBoard, AlarmState};
use super::config::TelemetrySection;
use super::{Metrics, cloudwatch, status_page, webhooks};
use crate::engine::Snapshot;

/// How an output is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OutputState {
    Ok,
    Failing,
    Off,
}

impl OutputState {
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            OutputState::Ok => "ok",
            OutputState::Failing => "failing",
            OutputState::Off => "off",
        }
    }
}

/// One output as the war room shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputStatus {
    /// `cloudwatch`, `status-page` or `webhook`.
    pub name: String,
    pub state: OutputState,
    /// The last failure while the output is failing; never holds a secret.
    pub last_error: Option<String>,
    pub last_ok: Option<DateTime<Utc>>,
}

/// The health of one output (or one webhook endpoint), written by its task.
#[derive(Debug)]
pub struct Health {
    status: Mutex<OutputStatus>,
}

impl Health {
    #[must_use]
    pub fn new(name: &str, on: bool) -> Arc<Self> {
        Arc::new(Self {
            status: Mutex::new(OutputStatus {
                name: name.to_owned(),
                state: if on {
                    OutputState::Ok
                } else {
                    OutputState::Off
                },
                last_error: None,
                last_ok: None,
            }),
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, OutputStatus> {
        self.status.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The output just delivered.
    pub fn ok(&self) {
        let mut s = self.lock();
        s.state = OutputState::Ok;
        s.last_error = None;
        s.last_ok = Some(Utc::now());
    }

    /// The output just failed, for the reason given.
    pub fn failing(&self, text: &str) {
        let mut s = self.lock();
        s.state = OutputState::Failing;
        s.last_error = Some(text.chars().take(300).collect());
    }

    pub fn get(&self) -> OutputStatus {
        self.lock().clone()
    }
}

/// The running outputs. Dropping this stops their tasks.
pub struct Outputs {
    cloudwatch: Arc<Health>,
    status_page: Arc<Health>,
    webhooks: Vec<Arc<Health>>,
    alarms: Arc<AlarmBoard>,
    alarm_gate: bool,
    tasks: Vec<JoinHandle<()>>,
}

/// Starts every output the section switches on. Must be called inside a
/// Tokio runtime; returns at once.
///
/// `tenants` pairs each tenant with a wave it moves in (a tenant may appear
/// once per wave). `metrics` receives the outputs' own failures under
/// [`super::Category::Cloudwatch`] and [`super::Category::Webhook`].
pub fn start(
    section: &TelemetrySection,
    plan_name: &str,
    plan_dir: &Path,
    tenants: Vec<(String, String)>,
    snapshots: watch::Receiver<Option<Snapshot>>,
    metrics: Arc<Metrics>,
) -> Outputs {
    let mut tasks = Vec::new();

    let page_cfg = section.status_page_on();
    let status_page = Health::new("status-page", page_cfg.is_some());
    if let Some(cfg) = page_cfg {
        let page = status_page::Page::new(cfg, plan_name, plan_dir, &tenants);
        tasks.push(tokio::spawn(status_page::run(
            page,
            snapshots.clone(),
            Arc::clone(&status_page),
        )));
    }

    let hooks = webhooks::start(section, plan_name, plan_dir, snapshots.clone(), &metrics);
    let webhooks = hooks.health;
    tasks.extend(hooks.tasks);

    let cloudwatch_cfg = section.cloudwatch_on();
    let cloudwatch = Health::new("cloudwatch", cloudwatch_cfg.is_some());
    let alarms = Arc::new(AlarmBoard::new(cloudwatch_cfg));
    if let Some(cfg) = cloudwatch_cfg {
        tasks.push(tokio::spawn(cloudwatch::run(
            cfg.clone(),
            plan_name.to_owned(),
            tenants,
            snapshots,
            metrics,
            Arc::clone(&cloudwatch),
            Arc::clone(&alarms),
        )));
    }

    Outputs {
        cloudwatch,
        status_page,
        webhooks,
        alarms,
        alarm_gate: cloudwatch_cfg.is_some_and(|c| *c.alarm_gate.get_ref()),
        tasks,
    }
}

impl Outputs {
    /// Every output, switched on or not, in a fixed order.
    #[must_use]
    pub fn status(&self) -> Vec<OutputStatus> {
        vec![
            self.cloudwatch.get(),
            self.status_page.get(),
            merge_webhooks(&self.webhooks),
        ]
    }

    /// Why the next wave must wait for CloudWatch, when the plan uses its
    /// alarms as a gate and one of them is in ALARM. Alarm states that could
    /// not be refreshed for a while do not hold anything: an unreachable
    /// CloudWatch never stops the migration.
    #[must_use]
    pub fn alarm_gate(&self) -> Option<String> {
        if !self.alarm_gate {
            return None;
        }
        let firing = self.alarms.firing();
        match firing.as_slice() {
            [] => None,
            [one] => Some(format!("held: CloudWatch alarm {one} in ALARM")),
            many => Some(format!(
                "held: CloudWatch alarms {} in ALARM",
                many.join(", ")
            )),
        }
    }

    /// The named alarms with their last known state, for the war room.
    #[must_use]
    pub fn alarms(&self) -> Vec<AlarmState> {
        self.alarms.states()
    }
}

impl Outputs {
    /// Lets the outputs finish after the engine stopped: once the engine has
    /// dropped its snapshot sender, CloudWatch publishes the last figures,
    /// the status page writes the last view and webhooks deliver what is
    /// queued. Whatever is still running after `grace` is stopped.
    pub async fn finish(mut self, grace: Duration) {
        let deadline = tokio::time::Instant::now() + grace;
        for mut task in std::mem::take(&mut self.tasks) {
            if tokio::time::timeout_at(deadline, &mut task).await.is_err() {
                task.abort();
            }
        }
    }
}

impl Drop for Outputs {
    fn drop(&mut self) {
        for task in &self.tasks {
            task.abort();
        }
    }
}

/// One line for every webhook endpoint together: failing when any is.
fn merge_webhooks(hooks: &[Arc<Health>]) -> OutputStatus {
    let all: Vec<OutputStatus> = hooks.iter().map(|h| h.get()).collect();
    let last_ok = all.iter().filter_map(|s| s.last_ok).max();
    let failing = all.iter().find(|s| s.state == OutputState::Failing);
    OutputStatus {
        name: "webhook".to_owned(),
        state: if all.is_empty() {
            OutputState::Off
        } else if failing.is_some() {
            OutputState::Failing
        } else {
            OutputState::Ok
        },
        last_error: failing.and_then(|s| s.last_error.clone()),
        last_ok,
    }
}
