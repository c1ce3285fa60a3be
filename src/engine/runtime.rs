//! The running engine: drives the waves, answers commands through the
//! action table, and publishes a snapshot on every tick. Front ends hold a
//! [`Handle`]; the engine is the only writer of the journal.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::sync::{Notify, mpsc, watch};
use tokio::task::JoinHandle;

use super::context::{Context, Progress};

use super::gates::{GateKeeper, Stage, Verdict, WaveFigures, held_reason};
use super::handle::{Handle, Reply, Request};
use super::live::Live;
use super::snapshot::Snapshot;
use super::wave::WavePhase;
use crate::control::{Action, Caller, allowed, spec};
use crate::journal::{AuditEntry, Journal, MailboxPhase};
use crate::plan::{Mailbox, Plan};
use crate::telemetry::{Category, Metrics};

/// How often the snapshot is rebuilt and gates re-checked.
pub const TICK: Duration = Duration::from_millis(500);

/// The engine shared by its tasks.
pub struct Engine {
    pub ctx: Arc<Context>,
    pub(super) live: Arc<Mutex<Live>>,
    pub(super) gates: Mutex<GateKeeper>,
    /// Woken by commands, so waiting loops re-check at once.
    pub(super) wake: Notify,
    /// Extra gates from outside the engine (DNS, alarms, runbook), per wave.
    pub external_gates: Mutex<Vec<ExternalGate>>,
    /// Reports the health of outputs outside the engine (telemetry), for
    /// the snapshot; set by whoever started them.
    pub outputs: Mutex<Option<OutputsView>>,
    /// The DNS watcher's latest record states, when the plan watches DNS.
    pub(super) dns: Option<watch::Receiver<Vec<crate::dns::RecordStatus>>>,
}

/// A check from outside the engine: given a wave and a stage, the closed
/// gates as (gate, reason).
pub type ExternalGate = Box<dyn Fn(&str, Stage) -> Vec<(String, String)> + Send + Sync>;

/// Reports outputs' health for the snapshot.
pub type OutputsView = Box<dyn Fn() -> Vec<super::snapshot::OutputView> + Send + Sync>;

/// Options of a run.
#[derive(Debug, Clone, Copy)]
pub struct RunOptions {
    /// Stop the scheduler once every wave reached an end (headless runs).
    pub exit_when_finished: bool,
    /// Drive the waves; off for one-off commands such as `cutover rollback`.
    pub schedule: bool,
}

impl Engine {
    pub(super) fn live(&self) -> MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Starts the engine's tasks and returns a handle to it and the
    /// scheduler's task.
    ///
    /// # Errors
    /// The journal cannot be read or written.
    pub fn start(
        plan: Arc<Plan>,
        journal: Arc<Journal>,
        metrics: Arc<Metrics>,
        options: RunOptions,
    ) -> Result<(Handle, Arc<Engine>, JoinHandle<()>), crate::journal::JournalError> {
        let ctx = Context::new(plan, journal, metrics);
        super::sync::register(&ctx, &ctx.plan.mailboxes)?;
        for w in &ctx.plan.waves {
            ctx.journal.ensure_wave(&w.name)?;
        }
        let live = Arc::new(Mutex::new(Live::load(&ctx)?));
        let sink = live.clone();
        let ctx = ctx.with_listener(move |event| {
            sink.lock()
                .unwrap_or_else(PoisonError::into_inner)
                .apply(event);
        });
        let dns = ctx.plan.dns.clone();
        let engine = Arc::new(Engine {
            ctx: Arc::new(ctx),
            live,
            gates: Mutex::new(GateKeeper::default()),
            wake: Notify::new(),
            external_gates: Mutex::new(Vec::new()),
            outputs: Mutex::new(None),
            dns: dns.filter(|d| !d.records.is_empty()).map(|section| {
                let watcher = crate::dns::Watcher::new(section, Arc::new(crate::dns::SystemClock));
                watcher.spawn(None).0
            }),
        });
        let (snap_tx, snap_rx) = watch::channel(None::<Snapshot>);
        let (cmd_tx, mut cmd_rx) = mpsc::channel::<Request>(64);

        let e = engine.clone();
        tokio::spawn(async move {
            loop {
                let snapshot = e.snapshot_now();
                if snap_tx.send(Some(snapshot)).is_err() {
                    break;
                }
                tokio::time::sleep(TICK).await;
            }
        });
        let e = engine.clone();
        tokio::spawn(async move {
            while let Some(request) = cmd_rx.recv().await {
                let reply = e.handle(&request.caller, &request.action);
                let _ = request.reply.send(reply);
            }
        });
        engine.start_checks();
        if let Some(rx) = engine.dns.clone() {
            tokio::spawn(count_dns_errors(rx, engine.ctx.metrics.clone()));
        }
        let e = engine.clone();
        let scheduler = tokio::spawn(async move {
            if options.schedule {
                e.run_waves(options).await;
            }
        });
        Ok((
            Handle {
                snapshots: snap_rx,
                commands: cmd_tx,
            },
            engine,
            scheduler,
        ))
    }

    /// Builds a snapshot now (the tick does this on its own; benches and
    /// one-off commands call it directly).
    pub fn snapshot_now(&self) -> Snapshot {
        let mut snapshot = self.live().snapshot(&self.ctx);
        self.decorate(&mut snapshot);
        snapshot
    }

    /// Adds what lives outside the live state: DNS records, runbook steps.
    fn decorate(&self, snapshot: &mut Snapshot) {
        if let Some(rx) = &self.dns {
            snapshot.dns.clone_from(&rx.borrow());
        }
        snapshot.runbook = self.runbook_view();
        if let Some(view) = self
            .outputs
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .as_ref()
        {
            snapshot.outputs = view();
        }
    }

    /// Checks a command against the action table, applies it, and audits
    /// the decision either way.
    pub fn handle(self: &Arc<Self>, caller: &Caller, action: &Action) -> Reply {
        let decision =
            allowed(action.kind(), caller.role).and_then(|()| self.apply(caller, action));
        let entry = AuditEntry {
            at: crate::journal::now(),
            uid: caller.uid,
            user: caller.user.clone(),
            role: caller.role.as_str().to_owned(),
            action: spec(action.kind()).name.to_owned(),
            arguments: action.arguments(),
            decision: if decision.is_ok() {
                "accepted".into()
            } else {
                "refused".into()
            },
            reason: decision.as_ref().err().cloned(),
        };
        if let Err(e) = self.ctx.journal.audit(&entry) {
            tracing::error!("audit write failed: {e}");
            return Reply::refused(format!(
                "the audit log cannot be written ({e}); nothing was done"
            ));
        }
        tracing::info!(user = %caller.user, role = %caller.role, action = entry.action, decision = entry.decision, "operator command");
        self.wake.notify_waiters();
        match decision {
            Ok(message) => Reply::accepted(message),
            Err(reason) => Reply::refused(reason),
        }
    }

    /// DNS: before cutover the wave's records must be safe to switch; after
    /// it, they must answer the new value everywhere before the wave is done.
    fn dns_gate(&self, index: usize, stage: Stage) -> Vec<(String, String)> {
        let (Some(rx), Some(section)) = (&self.dns, &self.ctx.plan.dns) else {
            return Vec::new();
        };
        let statuses = rx.borrow().clone();
        let wave = &self.ctx.plan.waves[index].name;
        let tenants = self.ctx.plan.wave_tenants(index);
        match stage {
            Stage::BeforeCutover if section.gate_enabled() => {
                crate::dns::gate_reason(&statuses, wave, &tenants)
                    .map(|r| vec![("dns".to_owned(), r.trim_start_matches("held: ").to_owned())])
                    .unwrap_or_default()
            }
            Stage::AfterCutover if !crate::dns::wave_records_done(&statuses, wave, &tenants) => {
                vec![(
                    "after-cutover dns".to_owned(),
                    "DNS records do not yet answer the new value everywhere".to_owned(),
                )]
            }
            _ => Vec::new(),
        }
    }

    /// Moves a wave to a phase, in memory and in the journal.
    pub(super) fn set_wave(&self, index: usize, phase: WavePhase, reason: Option<String>) {
        let name = self.ctx.plan.waves[index].name.clone();
        let text = {
            let mut live = self.live();
            let w = &mut live.waves[index];
            if w.phase == phase && w.reason == reason {
                return;
            }
            w.phase = phase;
            w.reason = reason;
            w.reason
                .clone()
                .unwrap_or_else(|| phase.as_str().to_owned())
        };
        tracing::info!(wave = %name, phase = phase.as_str(), "{text}");
        if let Err(e) = self
            .ctx
            .journal
            .set_wave_phase(&name, phase.as_str(), &text)
        {
            tracing::error!("journal write failed: {e}");
        }
    }

    /// The wave's mailboxes that are neither paused nor skipped.
    pub(super) fn active_mailboxes(&self, index: usize) -> Vec<Mailbox> {
        let live = self.live();
        self.ctx
            .plan
            .wave_mailboxes(index)
            .filter(|m| !live.paused.contains(&m.source) && !live.skipped.contains(&m.source))
            .cloned()
            .collect()
    }

    /// Gate figures for a wave from the live state.
    pub(super) fn figures(&self, index: usize, stage: Stage) -> WaveFigures {
        let live = self.live();
        let name = &self.ctx.plan.waves[index].name;
        let members: Vec<_> = live
            .mailboxes
            .iter()
            .filter(|m| &m.wave == name && !live.skipped.contains(&m.source))
            .collect();
        let unverified: Vec<String> = members
            .iter()
            .filter(|m| m.phase != MailboxPhase::Verified)
            .take(3)
            .map(|m| match m.error_category {
                Some(c) => format!("{} [{c}]", m.source),
                None => format!("{} ({})", m.source, m.phase.as_str()),
            })
            .collect();
        let (mailboxes, verified) = (
            members.len(),
            members
                .iter()
                .filter(|m| m.phase == MailboxPhase::Verified)
                .count(),
        );
        let remaining_bytes = members.iter().map(|m| m.bytes).sum();
        drop(live);
        let mut external: Vec<(String, String)> = self
            .external_gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .iter()
            .flat_map(|g| g(name, stage))
            .collect();
        external.extend(self.runbook_gate(index, stage));
        external.extend(self.dns_gate(index, stage));
        WaveFigures {
            mailboxes,
            verified,
            unverified,
            remaining_bytes,
            throughput: self.throughput(),
            external,
        }
    }

    fn throughput(&self) -> f64 {
        let bytes = super::context::Counters::get(&self.ctx.counters.bytes);
        let secs = self.ctx.started.elapsed().as_secs_f64().max(1.0);
        #[expect(clippy::cast_precision_loss, reason = "rate")]
        let rate = bytes as f64 / secs;
        rate
    }

    /// Evaluates the wave's gates at a stage and stores the verdicts.
    pub fn check_gates(&self, index: usize, stage: Stage) -> Vec<Verdict> {
        let figures = self.figures(index, stage);
        let window = self.live().window(&self.ctx);
        let verdicts = self
            .gates
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .evaluate(
                &self.ctx.metrics,
                &self.ctx.plan.thresholds,
                window,
                chrono::Utc::now(),
                stage,
                &figures,
            );
        self.live().waves[index].gates.clone_from(&verdicts);
        verdicts
    }

    /// The halt in force, if any.
    pub(super) fn halted(&self) -> Option<String> {
        self.live().halted.clone()
    }

    /// Records a progress-independent mailbox error (seen in the war room).
    pub(super) fn note_error(&self, category: Category, mailbox: &str, text: &str) {
        self.ctx.metrics.error(category, mailbox, "", text);
        self.ctx.emit(&Progress::Retry {
            mailbox: mailbox.to_owned(),
            category,
            text: text.to_owned(),
            attempt: 0,
        });
    }

    /// A one-line reason for a wave held at its gates.
    pub(super) fn held(verdicts: &[Verdict]) -> Option<String> {
        held_reason(verdicts)
    }
}

/// Counts each failing nameserver answer as a DNS error, once per poll.
async fn count_dns_errors(
    mut rx: watch::Receiver<Vec<crate::dns::RecordStatus>>,
    metrics: Arc<Metrics>,
) {
    while rx.changed().await.is_ok() {
        let statuses = rx.borrow_and_update().clone();
        for status in &statuses {
            for answer in status.answers.iter().filter(|a| a.error.is_some()) {
                let text = format!(
                    "{} {}: {}",
                    status.name,
                    answer.nameserver,
                    answer.error.as_deref().unwrap_or("")
                );
                metrics.error(Category::Dns, "", &answer.nameserver, &text);
            }
        }
    }
}
