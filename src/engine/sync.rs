//! `cutover sync`: run a set of mailboxes through copy and validation within
//! the plan's connection budget, one failing mailbox never stopping others.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::Serialize;

use crate::journal::MailboxPhase;
use crate::plan::Mailbox;
use crate::telemetry::Category;

use super::context::{Context, Counters};
use super::mailbox::{MailboxResult, MailboxRun, run_mailbox};

/// What a sync run did, for the closing statistics and the exit code.
#[derive(Debug, Clone, Serialize)]
pub struct SyncReport {
    pub mailboxes: usize,
    pub verified: usize,
    pub failed: usize,
    pub copied: u64,
    pub skipped: u64,
    pub refused: u64,
    pub bytes: u64,
    pub flags_updated: u64,
    pub folders_unchanged: u64,
    pub seconds: f64,
    pub messages_per_second: f64,
    pub megabytes_per_second: f64,
    pub errors: Vec<(Category, u64)>,
    pub failures: Vec<(String, Category, String)>,
}

/// Ensures journal rows exist for the given mailboxes.
///
/// # Errors
/// The journal cannot be written.
pub fn register(ctx: &Context, mailboxes: &[Mailbox]) -> Result<(), crate::journal::JournalError> {
    for m in mailboxes {
        ctx.journal.ensure_mailbox(
            &m.source,
            &m.destination,
            &m.tenant,
            &ctx.plan.waves[m.wave].name,
        )?;
    }
    Ok(())
}

/// Runs every mailbox (in parallel within the plan's limits).
pub async fn run_all(
    ctx: Arc<Context>,
    mailboxes: Vec<Mailbox>,
    run: MailboxRun,
) -> (SyncReport, Vec<MailboxResult>) {
    let started = Instant::now();
    let tasks = mailboxes.into_iter().map(|mailbox| {
        let ctx = ctx.clone();
        tokio::spawn(async move {
            let Ok(_slot) = ctx.mailbox_slots.clone().acquire_owned().await else {
                return None;
            };
            Some(run_mailbox(&ctx, &mailbox, run).await)
        })
    });
    let mut results = Vec::new();
    for joined in futures::future::join_all(tasks).await {
        match joined {
            Ok(Some(r)) => results.push(r),
            Ok(None) => {}
            Err(e) => tracing::error!("a mailbox task ended abnormally: {e}"),
        }
    }
    (report(&ctx, &results, started.elapsed()), results)
}

/// Sums up a run.
pub fn report(ctx: &Context, results: &[MailboxResult], took: Duration) -> SyncReport {
    let c = &ctx.counters;
    let seconds = took.as_secs_f64().max(1e-3);
    let copied = Counters::get(&c.copied);
    let bytes = Counters::get(&c.bytes);
    #[expect(clippy::cast_precision_loss, reason = "rates for display")]
    let (per_second, megabytes_per_second) = (
        copied as f64 / seconds,
        bytes as f64 / seconds / 1_000_000.0,
    );
    SyncReport {
        mailboxes: results.len(),
        verified: results
            .iter()
            .filter(|r| r.phase == MailboxPhase::Verified)
            .count(),
        failed: results
            .iter()
            .filter(|r| r.phase == MailboxPhase::Failed)
            .count(),
        copied,
        skipped: Counters::get(&c.skipped),
        refused: Counters::get(&c.failed),
        bytes,
        flags_updated: Counters::get(&c.flags_updated),
        folders_unchanged: Counters::get(&c.folders_unchanged),
        seconds,
        messages_per_second: per_second,
        megabytes_per_second,
        errors: ctx.metrics.error_counts(),
        failures: results
            .iter()
            .filter_map(|r| {
                r.error
                    .as_ref()
                    .map(|(c, t)| (r.mailbox.clone(), *c, t.clone()))
            })
            .collect(),
    }
}
