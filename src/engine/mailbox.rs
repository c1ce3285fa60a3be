//! One mailbox from start to proof: connect, map the folder tree, copy its
//! folders in parallel, then validate. Transient faults retry the whole
//! pass with backoff; the journal makes a retry cheap and safe.

use std::collections::{HashSet, VecDeque};
use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex;

use crate::imap::Connection;
use crate::journal::MailboxPhase;
use crate::plan::Mailbox;
use crate::telemetry::Category;

use super::context::{Context, Counters, Progress};
use super::error::{EngineError, Result};
use super::folder_pass::{FolderJob, FolderOutcome, needs_pass, sync_folder};
use super::manifest::Manifest;
use super::verify::verify_mailbox;

/// Attempts per mailbox before a transient fault counts as a failure.
const ATTEMPTS: u32 = 6;

/// What a mailbox run asks for.
#[derive(Debug, Clone, Copy)]
pub struct MailboxRun {
    /// Copy (pre-sync or delta sync) before anything else.
    pub copy: bool,
    /// Validate checksums after copying.
    pub verify: bool,
}

/// How a mailbox run ended.
#[derive(Debug)]
pub struct MailboxResult {
    pub mailbox: String,
    pub phase: MailboxPhase,
    pub error: Option<(Category, String)>,
    pub manifest: Option<Manifest>,
}

/// Runs one mailbox to its end, retrying transient faults.
pub async fn run_mailbox(ctx: &Context, mailbox: &Mailbox, run: MailboxRun) -> MailboxResult {
    let mut attempt = 0;
    loop {
        attempt += 1;
        match attempt_mailbox(ctx, mailbox, run).await {
            Ok(result) => return finish(ctx, mailbox, result),
            Err(e) if e.category().is_transient() && attempt < ATTEMPTS => {
                let text = e.to_string();
                tracing::warn!(mailbox = %mailbox.source, attempt, "retrying after {text}");
                ctx.metrics.error(e.category(), &mailbox.source, "", &text);
                ctx.emit(&Progress::Retry {
                    mailbox: mailbox.source.clone(),
                    category: e.category(),
                    text,
                    attempt,
                });
                tokio::time::sleep(Duration::from_millis(500 * 2u64.pow(attempt.min(5)))).await;
            }
            Err(e) => {
                let failed = MailboxResult {
                    mailbox: mailbox.source.clone(),
                    phase: MailboxPhase::Failed,
                    error: Some((e.category(), e.to_string())),
                    manifest: None,
                };
                ctx.metrics
                    .error(e.category(), &mailbox.source, "", &e.to_string());
                return finish(ctx, mailbox, failed);
            }
        }
    }
}

fn finish(ctx: &Context, mailbox: &Mailbox, result: MailboxResult) -> MailboxResult {
    let journal = &ctx.journal;
    let error = result.error.as_ref().map(|(c, t)| (c.as_str(), t.as_str()));
    let written = journal
        .set_phase(&mailbox.source, result.phase)
        .and_then(|()| journal.set_mailbox_error(&mailbox.source, error))
        .and_then(|()| {
            let text = match &result.error {
                Some((c, t)) => format!("{} [{c}] {t}", result.phase.as_str()),
                None => result.phase.as_str().to_owned(),
            };
            journal.event(
                "mailbox",
                Some(&ctx.plan.waves[mailbox.wave].name),
                Some(&mailbox.source),
                &text,
            )
        });
    if let Err(e) = written {
        tracing::error!(mailbox = %mailbox.source, "journal write failed: {e}");
    }
    match &result.error {
        Some((c, t)) => tracing::error!(mailbox = %mailbox.source, category = %c, "{t}"),
        None => {
            tracing::info!(mailbox = %mailbox.source, phase = result.phase.as_str(), "mailbox finished");
        }
    }
    ctx.emit(&Progress::Finished {
        mailbox: mailbox.source.clone(),
        phase: result.phase,
        category: result.error.as_ref().map(|e| e.0),
        text: result.error.as_ref().map(|e| e.1.clone()),
    });
    result
}

async fn connect_pair(ctx: &Context, mailbox: &Mailbox) -> Result<(Connection, Connection)> {
    let src = Connection::open(&ctx.plan.source, &mailbox.source, ctx.metrics.clone()).await?;
    let dst = Connection::open(
        &ctx.plan.destination,
        &mailbox.destination,
        ctx.metrics.clone(),
    )
    .await?;
    Ok((src, dst))
}

async fn attempt_mailbox(
    ctx: &Context,
    mailbox: &Mailbox,
    run: MailboxRun,
) -> Result<MailboxResult> {
    let (mut src, mut dst) = connect_pair(ctx, mailbox).await?;
    let mut refused: Vec<(u32, Category, String)> = Vec::new();
    if run.copy {
        let row = ctx.journal.mailbox(&mailbox.source)?;
        let phase = if row.is_some_and(|r| r.presynced) {
            MailboxPhase::DeltaSyncing
        } else {
            MailboxPhase::PreSyncing
        };
        enter(ctx, mailbox, phase)?;
        let jobs = folder_jobs(ctx, &mut src, &mut dst).await?;
        refused = copy_folders(ctx, mailbox, jobs, (src, dst)).await?;
        ctx.journal.set_presynced(&mailbox.source)?;
        if !run.verify {
            return Ok(copied_only(mailbox, &refused));
        }
        (src, dst) = connect_pair(ctx, mailbox).await?;
    }
    let result = if run.verify {
        verified(ctx, mailbox, &refused, &mut src, &mut dst).await?
    } else {
        copied_only(mailbox, &refused)
    };
    src.logout().await;
    dst.logout().await;
    Ok(result)
}

/// The end of a copy without validation.
fn copied_only(mailbox: &Mailbox, refused: &[(u32, Category, String)]) -> MailboxResult {
    let error = refused.first().map(|(_, c, t)| {
        (
            *c,
            format!("{} message(s) refused; first: {t}", refused.len()),
        )
    });
    MailboxResult {
        mailbox: mailbox.source.clone(),
        phase: if error.is_none() {
            MailboxPhase::PreSynced
        } else {
            MailboxPhase::Failed
        },
        error,
        manifest: None,
    }
}

/// Validates the mailbox; refusals during the copy outrank the manifest.
async fn verified(
    ctx: &Context,
    mailbox: &Mailbox,
    refused: &[(u32, Category, String)],
    src: &mut Connection,
    dst: &mut Connection,
) -> Result<MailboxResult> {
    enter(ctx, mailbox, MailboxPhase::Verifying)?;
    let manifest = verify_mailbox(ctx, mailbox, src, dst).await?;
    let error = if let Some((_, category, text)) = refused.first() {
        Some((
            *category,
            format!(
                "{} message(s) refused by the destination; first: {text}",
                refused.len()
            ),
        ))
    } else if manifest.verified {
        None
    } else {
        let problems = manifest.problems();
        Some((
            Category::ChecksumMismatch,
            format!(
                "{} problem(s); first: {}",
                problems.len(),
                problems.first().cloned().unwrap_or_default()
            ),
        ))
    };
    Ok(MailboxResult {
        mailbox: mailbox.source.clone(),
        phase: if error.is_none() {
            MailboxPhase::Verified
        } else {
            MailboxPhase::Failed
        },
        error,
        manifest: Some(manifest),
    })
}

fn enter(ctx: &Context, mailbox: &Mailbox, phase: MailboxPhase) -> Result<()> {
    ctx.journal.set_phase(&mailbox.source, phase)?;
    ctx.emit(&Progress::Phase {
        mailbox: mailbox.source.clone(),
        phase,
    });
    tracing::info!(mailbox = %mailbox.source, phase = phase.as_str(), "mailbox phase");
    Ok(())
}

/// Lists the source tree, applies the plan's folder rules and creates the
/// destination folders that are missing (empty ones included).
async fn folder_jobs(
    ctx: &Context,
    src: &mut Connection,
    dst: &mut Connection,
) -> Result<Vec<FolderJob>> {
    let source = src.list_folders().await?;
    let existing: HashSet<String> = dst
        .list_folders()
        .await?
        .into_iter()
        .map(|f| f.path)
        .collect();
    let mut jobs = Vec::new();
    for folder in source
        .into_iter()
        .filter(|f| f.selectable && !ctx.folders.excluded(&f.path))
    {
        let dst_path = ctx.folders.map(&folder.path);
        if !existing.contains(&dst_path) {
            dst.create_folder(&dst.wire_name(&dst_path)).await?;
        }
        jobs.push(FolderJob {
            path: folder.path,
            src_wire: folder.wire,
            dst_path,
        });
    }
    Ok(jobs)
}

/// Copies the folders that changed, with up to `folders-per-mailbox`
/// connection pairs. The first pair (already open) checks every folder with
/// one STATUS first, so an unchanged mailbox costs no further logins.
async fn copy_folders(
    ctx: &Context,
    mailbox: &Mailbox,
    jobs: Vec<FolderJob>,
    first: (Connection, Connection),
) -> Result<Vec<(u32, Category, String)>> {
    let (mut src, dst) = first;
    let mut changed = VecDeque::new();
    for job in jobs {
        match needs_pass(ctx, &mailbox.source, &job, &mut src).await? {
            Some(status) => changed.push_back((job, status)),
            None => Counters::add(&ctx.counters.folders_unchanged, 1),
        }
    }
    let workers = ctx
        .plan
        .concurrency
        .folders_per_mailbox
        .min(changed.len())
        .max(1);
    let queue = Arc::new(Mutex::new(changed));
    let mut pairs = vec![Some((src, dst))];
    pairs.resize_with(workers, || None);
    let tasks = pairs.into_iter().map(|pair| {
        let queue = queue.clone();
        async move {
            let (mut src, mut dst) = match pair {
                Some(p) => p,
                None => connect_pair(ctx, mailbox).await?,
            };
            let mut refused = Vec::new();
            loop {
                let Some((job, status)) = queue.lock().await.pop_front() else {
                    break;
                };
                let outcome: FolderOutcome =
                    sync_folder(ctx, &mailbox.source, &job, status, &mut src, &mut dst).await?;
                refused.extend(outcome.refused);
            }
            src.logout().await;
            dst.logout().await;
            Ok::<_, EngineError>(refused)
        }
    });
    let mut refused = Vec::new();
    let mut first_error = None;
    for result in futures::future::join_all(tasks).await {
        match result {
            Ok(r) => refused.extend(r),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    match first_error {
        Some(e) => Err(e),
        None => Ok(refused),
    }
}
