//! Drives the waves in plan order: pre-sync (running ahead of the current
//! wave by `presync-ahead`), the gates before delta sync, delta sync,
//! validation, the gates before cutover, cutover. Resumes in the right
//! place after a crash because every pass is idempotent over the journal.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinHandle;

use super::cutover::{cut_over, run_hook, write_mailbox_list};
use super::gates::Stage;
use super::mailbox::MailboxRun;
use super::rollback::reverse_mailbox;
use super::runtime::{Engine, RunOptions};
use super::snapshot::EngineState;
use super::sync::run_all;
use super::wave::WavePhase;
use crate::journal::MailboxPhase;
use crate::telemetry::Category;

/// Pause between re-tries of mailboxes that keep a wave from cutover.
const RETRY_PAUSE: Duration = Duration::from_secs(15);

impl Engine {
    /// Runs every wave to its end.
    pub async fn run_waves(self: Arc<Self>, options: RunOptions) {
        {
            let mut live = self.live();
            if live.state == EngineState::Starting {
                live.state = EngineState::Running;
            }
        }
        let mut ahead: HashMap<usize, JoinHandle<()>> = HashMap::new();
        let count = self.ctx.plan.waves.len();
        for index in 0..count {
            if let Some(task) = ahead.remove(&index) {
                let _ = task.await;
            }
            let presync_ahead = self.ctx.plan.presync_ahead as usize;
            for next in index + 1..=(index + presync_ahead).min(count - 1) {
                if !ahead.contains_key(&next) && self.live().waves[next].phase == WavePhase::Planned
                {
                    let e = self.clone();
                    ahead.insert(next, tokio::spawn(async move { e.presync(next).await }));
                }
            }
            self.clone().drive_wave(index).await;
        }
        for (_, task) in ahead {
            let _ = task.await;
        }
        {
            let mut live = self.live();
            live.state = EngineState::Finished;
        }
        if let Err(e) = self
            .ctx
            .journal
            .event("engine", None, None, "every wave reached an end")
        {
            tracing::error!("journal write failed: {e}");
        }
        if !options.exit_when_finished {
            std::future::pending::<()>().await;
        }
    }

    /// Waits while an operator's halt is in force, showing it on the wave.
    async fn wait_unhalted(&self, index: usize) {
        let before = {
            let live = self.live();
            (live.waves[index].phase, live.waves[index].reason.clone())
        };
        let mut shown = false;
        while let Some(by) = self.halted() {
            if !shown {
                self.set_wave(index, WavePhase::Halted, Some(format!("halted: {by}")));
                shown = true;
            }
            let notified = self.wake.notified();
            let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
        }
        if shown {
            self.set_wave(index, before.0, before.1);
        }
    }

    fn presynced(&self, index: usize) -> bool {
        self.active_mailboxes(index).iter().all(|m| {
            self.ctx
                .journal
                .mailbox(&m.source)
                .ok()
                .flatten()
                .is_some_and(|r| r.presynced)
        })
    }

    /// Bulk copy of a wave's mailboxes; touches no user.
    async fn presync(self: Arc<Self>, index: usize) {
        self.wait_unhalted(index).await;
        if self.presynced(index) {
            self.set_wave(index, WavePhase::PreSynced, None);
            return;
        }
        self.set_wave(index, WavePhase::PreSyncing, None);
        let mailboxes = self.active_mailboxes(index);
        let run = MailboxRun {
            copy: true,
            verify: false,
        };
        let (report, _) = run_all(self.ctx.clone(), mailboxes, run).await;
        let reason = (report.failed > 0).then(|| {
            format!(
                "{} mailbox(es) failed pre-sync; retried at delta sync",
                report.failed
            )
        });
        self.set_wave(index, WavePhase::PreSynced, reason);
    }

    /// Takes one wave from wherever it stands to done.
    async fn drive_wave(self: Arc<Self>, index: usize) {
        let phase = self.live().waves[index].phase;
        if phase.is_final() {
            return;
        }
        if phase != WavePhase::CutOver {
            self.clone().presync(index).await;
            loop {
                self.wait_unhalted(index).await;
                self.wait_gates(index, Stage::BeforeDelta).await;
                self.wait_unhalted(index).await;
                self.set_wave(index, WavePhase::DeltaSyncing, None);
                let mailboxes = self.unverified(index);
                run_all(
                    self.ctx.clone(),
                    mailboxes.clone(),
                    MailboxRun {
                        copy: true,
                        verify: false,
                    },
                )
                .await;
                self.wait_unhalted(index).await;
                self.set_wave(index, WavePhase::Verifying, None);
                let (_, results) = run_all(
                    self.ctx.clone(),
                    mailboxes,
                    MailboxRun {
                        copy: false,
                        verify: true,
                    },
                )
                .await;
                let mismatched: Vec<String> = results
                    .iter()
                    .filter(|r| {
                        r.error
                            .as_ref()
                            .is_some_and(|e| e.0 == Category::ChecksumMismatch)
                    })
                    .map(|r| r.mailbox.clone())
                    .collect();
                if !mismatched.is_empty() {
                    self.set_wave(
                        index,
                        WavePhase::Failed,
                        Some(format!(
                            "validation failed for {}: see `cutover manifest`",
                            mismatched.join(", ")
                        )),
                    );
                    self.pause_for_retry().await;
                    continue;
                }
                let verdicts = self.check_gates(index, Stage::BeforeCutover);
                let only_unverified = verdicts
                    .iter()
                    .filter(|v| v.1.is_some())
                    .all(|v| v.0 == "verified");
                if verdicts.iter().any(|v| v.0 == "verified" && v.1.is_some()) && only_unverified {
                    self.set_wave(index, WavePhase::Held, Self::held(&verdicts));
                    self.pause_for_retry().await;
                    continue;
                }
                self.set_wave(index, WavePhase::Verified, None);
                self.wait_unhalted(index).await;
                if !self.wait_gates(index, Stage::BeforeCutover).await {
                    continue;
                }
                let mailboxes = self.active_mailboxes(index);
                let refs: Vec<&crate::plan::Mailbox> = mailboxes.iter().collect();
                match cut_over(&self.ctx, index, &refs).await {
                    Ok(entries) => {
                        for e in &entries {
                            if let Some(m) = self.live().mailbox_mut(&e.mailbox) {
                                m.cutover = true;
                            }
                        }
                        self.set_wave(
                            index,
                            WavePhase::CutOver,
                            Some(format!("{} mailboxes switched", entries.len())),
                        );
                        break;
                    }
                    Err(e) => {
                        self.note_error(e.category(), "", &e.to_string());
                        self.set_wave(
                            index,
                            WavePhase::Held,
                            Some(format!("held: cutover failed: {e}")),
                        );
                        self.pause_for_retry().await;
                    }
                }
            }
        }
        self.finish(index).await;
    }

    /// After cutover, a wave is done once outside checks (DNS) agree.
    async fn finish(&self, index: usize) {
        loop {
            if self.live().waves[index].phase == WavePhase::RolledBack {
                return;
            }
            let waiting: Vec<String> = self
                .figures(index, Stage::AfterCutover)
                .external
                .into_iter()
                .map(|(_, reason)| reason)
                .collect();
            if waiting.is_empty() {
                break;
            }
            self.set_wave(
                index,
                WavePhase::CutOver,
                Some(format!("waiting: {}", waiting.join("; "))),
            );
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
        if self.live().waves[index].phase == WavePhase::CutOver {
            self.set_wave(index, WavePhase::Done, None);
        }
    }

    /// Mailboxes of the wave not yet verified (all of them on the first pass).
    fn unverified(&self, index: usize) -> Vec<crate::plan::Mailbox> {
        let verified: std::collections::HashSet<String> = self
            .live()
            .mailboxes
            .iter()
            .filter(|m| m.phase == MailboxPhase::Verified)
            .map(|m| m.source.clone())
            .collect();
        let all = self.active_mailboxes(index);
        let pending: Vec<_> = all
            .iter()
            .filter(|m| !verified.contains(m.source.as_str()))
            .cloned()
            .collect();
        if pending.is_empty() { all } else { pending }
    }

    async fn pause_for_retry(&self) {
        let notified = self.wake.notified();
        let _ = tokio::time::timeout(RETRY_PAUSE, notified).await;
    }

    /// Holds the wave while any gate is closed. Returns false when the
    /// wave must go back for another delta pass (mailboxes unverified).
    async fn wait_gates(&self, index: usize, stage: Stage) -> bool {
        loop {
            self.wait_unhalted(index).await;
            let verdicts = self.check_gates(index, stage);
            match Self::held(&verdicts) {
                None => return true,
                Some(reason) => {
                    if stage == Stage::BeforeCutover
                        && verdicts.iter().any(|v| v.0 == "verified" && v.1.is_some())
                    {
                        self.set_wave(index, WavePhase::Held, Some(reason));
                        self.pause_for_retry().await;
                        return false;
                    }
                    let closed: Vec<&str> = verdicts
                        .iter()
                        .filter(|v| v.1.is_some())
                        .map(|v| v.0.as_str())
                        .collect();
                    let (phase, old) = {
                        let live = self.live();
                        (live.waves[index].phase, live.waves[index].reason.clone())
                    };
                    // Log a new event only when the set of closed gates changes,
                    // not every time a figure moves.
                    if phase != WavePhase::Held || !same_gates(old.as_deref(), &closed) {
                        self.set_wave(index, WavePhase::Held, Some(reason));
                    } else {
                        self.live().waves[index].reason = Some(reason);
                    }
                    let notified = self.wake.notified();
                    let _ = tokio::time::timeout(Duration::from_secs(1), notified).await;
                }
            }
        }
    }

    /// Rolls a cut-over wave back: reverse delta sync of every mailbox, then
    /// the flags flip back and the rollback hook runs.
    pub async fn rollback(self: Arc<Self>, index: usize) {
        let wave = self.ctx.plan.waves[index].clone();
        let mailboxes: Vec<crate::plan::Mailbox> =
            self.ctx.plan.wave_mailboxes(index).cloned().collect();
        let mut copied_back = 0;
        for m in &mailboxes {
            let mut attempt = 0;
            loop {
                attempt += 1;
                match reverse_mailbox(&self.ctx, m).await {
                    Ok(done) => {
                        copied_back += done.copied_back;
                        break;
                    }
                    Err(e) if e.category().is_transient() && attempt < 5 => {
                        tokio::time::sleep(Duration::from_secs(2)).await;
                    }
                    Err(e) => {
                        self.note_error(e.category(), &m.source, &e.to_string());
                        self.set_wave(
                            index,
                            WavePhase::CutOver,
                            Some(format!("rollback failed at {}: {e}", m.source)),
                        );
                        return;
                    }
                }
            }
        }
        for m in &mailboxes {
            if let Err(e) = self.ctx.journal.set_cutover(&m.source, false) {
                self.set_wave(
                    index,
                    WavePhase::CutOver,
                    Some(format!("rollback failed: {e}")),
                );
                return;
            }
            if let Some(view) = self.live().mailbox_mut(&m.source) {
                view.cutover = false;
            }
        }
        if let Some(hook) = &wave.rollback_hook {
            let refs: Vec<&crate::plan::Mailbox> = mailboxes.iter().collect();
            let result = match write_mailbox_list(&self.ctx, &wave.name, &refs) {
                Ok(list) => run_hook(&self.ctx, "rollback", &wave.name, hook, &list).await,
                Err(e) => Err(e),
            };
            if let Err(e) = result {
                self.note_error(e.category(), "", &e.to_string());
            }
        }
        self.set_wave(
            index,
            WavePhase::RolledBack,
            Some(format!(
                "{copied_back} message(s) received after cutover copied back to the source"
            )),
        );
    }
}

/// Whether a stored reason mentions the same closed gates.
fn same_gates(old: Option<&str>, closed: &[&str]) -> bool {
    let Some(old) = old else { return false };
    let more = closed.len().saturating_sub(1);
    (more == 0 && !old.contains("more)")) || old.contains(&format!("(+{more} more)"))
}
