//! One pass over one folder: pre-sync the first time, delta sync after.
//!
//! A pass costs one STATUS when nothing changed. Otherwise it lists the
//! source folder's UIDs and flags, settles any intents left by a crash,
//! carries flag changes over, and copies what the destination lacks in
//! bounded batches: fetch, hash, write intents, APPEND, record UIDs.

use std::collections::HashMap;

use crate::imap::{Connection, FolderStatus, MessageMeta, Outgoing};
use crate::journal::{FolderRow, Intent, MessageRow, MessageState};
use crate::telemetry::Category;

use super::context::{Context, Counters, Progress};
use super::error::Result;
use super::hash::hash_message;
use super::recover;

/// A folder to copy: its source path and wire name, and where it goes.
#[derive(Debug, Clone)]
pub struct FolderJob {
    pub path: String,
    pub src_wire: String,
    pub dst_path: String,
}

/// What one pass did.
#[derive(Debug, Default)]
pub struct FolderOutcome {
    pub copied: u64,
    pub bytes: u64,
    pub flags_updated: u64,
    /// Messages the destination refused, with the category and server text.
    pub refused: Vec<(u32, Category, String)>,
}

/// A fetched message waiting for its APPEND.
struct Staged {
    meta: MessageMeta,
    bytes: Vec<u8>,
    intent: Intent,
}

/// Asks the source for one STATUS and says whether the folder needs a
/// pass: `None` when nothing changed since the last complete pass, else the
/// figures to pass on to [`sync_folder`].
///
/// # Errors
/// Connection faults and journal failures.
pub async fn needs_pass(
    ctx: &Context,
    mailbox: &str,
    job: &FolderJob,
    src: &mut Connection,
) -> Result<Option<FolderStatus>> {
    let previous = ctx.journal.folder(mailbox, &job.path)?;
    let status = src.status(&job.src_wire).await?;
    Ok((!previous.as_ref().is_some_and(|p| unchanged(p, &status))).then_some(status))
}

/// Runs one pass over `job`, whose STATUS figures [`needs_pass`] returned.
///
/// # Errors
/// Connection faults (the caller retries; intents keep the pass safe) and
/// journal failures.
#[expect(
    clippy::too_many_lines,
    reason = "the pass in order: open, reconcile, flags, batches, record"
)]
pub async fn sync_folder(
    ctx: &Context,
    mailbox: &str,
    job: &FolderJob,
    status: FolderStatus,
    src: &mut Connection,
    dst: &mut Connection,
) -> Result<FolderOutcome> {
    let src_status = src.open_folder(&job.src_wire, true).await?;
    let metas = if src_status.exists > 0 {
        src.fetch_meta("1:*").await?
    } else {
        Vec::new()
    };
    let dst_wire = dst.wire_name(&job.dst_path);
    let dst_status = if let Ok(s) = dst.open_folder(&dst_wire, false).await {
        s
    } else {
        dst.create_folder(&dst_wire).await?;
        dst.open_folder(&dst_wire, false).await?
    };

    let mut rows = ctx.journal.folder_messages(mailbox, &job.path)?;
    if rows
        .iter()
        .any(|r| r.src_uidvalidity != src_status.uidvalidity)
    {
        recover::source_uidvalidity(ctx, mailbox, &job.path, src, &src_status, &metas, &rows)
            .await?;
        rows = ctx.journal.folder_messages(mailbox, &job.path)?;
    }
    if rows.iter().any(|r| {
        r.state == MessageState::Copied && r.dst_uidvalidity != Some(dst_status.uidvalidity)
    }) {
        recover::destination_uidvalidity(ctx, mailbox, &job.path, dst, &dst_status, &rows).await?;
        rows = ctx.journal.folder_messages(mailbox, &job.path)?;
    }
    if rows.iter().any(|r| r.state == MessageState::Intent) {
        recover::settle_intents(ctx, dst, &dst_status, &rows).await?;
        rows = ctx.journal.folder_messages(mailbox, &job.path)?;
    }

    let known: HashMap<u32, &MessageRow> = rows
        .iter()
        .filter(|r| r.src_uidvalidity == src_status.uidvalidity)
        .map(|r| (r.src_uid, r))
        .collect();
    let mut outcome = FolderOutcome::default();
    carry_flags(ctx, dst, &metas, &known, &mut outcome).await?;

    let wanted: Vec<&MessageMeta> = metas
        .iter()
        .filter(|m| {
            known
                .get(&m.uid)
                .is_none_or(|r| r.state != MessageState::Copied)
        })
        .collect();
    Counters::add(&ctx.counters.skipped, (metas.len() - wanted.len()) as u64);
    drop(known);

    let mut on_destination = already_there(ctx, mailbox, job, dst, &dst_status, &rows).await?;
    let mut uidnext = dst_status.uidnext;
    for batch in batches(
        &wanted,
        ctx.plan.concurrency.append_batch,
        ctx.plan.concurrency.append_batch_bytes,
    ) {
        let mut staged = stage(src, batch, src_status.uidvalidity).await?;
        if !on_destination.is_empty() {
            staged = claim_existing(
                ctx,
                mailbox,
                &job.path,
                &dst_status,
                staged,
                &mut on_destination,
            )?;
        }
        if staged.is_empty() {
            continue;
        }
        let intents: Vec<Intent> = staged.iter().map(|s| s.intent.clone()).collect();
        let ids = ctx
            .journal
            .record_intents(mailbox, &job.path, uidnext, &intents)?;
        let target = Target {
            mailbox,
            folder: &job.path,
            wire: &dst_wire,
            status: &dst_status,
        };
        let placed = append_staged(ctx, dst, &target, &staged, &ids, &mut outcome).await?;
        if let Some(max) = placed.iter().filter_map(|p| p.1).max() {
            uidnext = uidnext.max(max + 1);
        }
        if outcome.refused.iter().any(|r| r.1 == Category::OverQuota) {
            break;
        }
    }

    let complete = outcome.refused.is_empty();
    ctx.journal.put_folder(
        mailbox,
        &FolderRow {
            path: job.path.clone(),
            dst_path: job.dst_path.clone(),
            src_uidvalidity: src_status.uidvalidity,
            src_uidnext: src_status.uidnext,
            src_exists: src_status.exists,
            src_modseq: status.highest_modseq,
            dst_uidvalidity: Some(dst_status.uidvalidity),
            complete,
        },
    )?;
    Ok(outcome)
}

/// Messages already on the destination that the journal knows nothing
/// about, by canonical hash: only looked for when the journal has never
/// finished a pass over this folder (a lost or new journal, mail copied by
/// another tool), so that such mail is claimed instead of copied twice.
async fn already_there(
    ctx: &Context,
    mailbox: &str,
    job: &FolderJob,
    dst: &mut Connection,
    dst_status: &FolderStatus,
    rows: &[MessageRow],
) -> Result<HashMap<String, Vec<u32>>> {
    if dst_status.exists == 0 || ctx.journal.folder(mailbox, &job.path)?.is_some() {
        return Ok(HashMap::new());
    }
    let claimed: std::collections::HashSet<u32> = rows
        .iter()
        .filter(|r| {
            r.state == MessageState::Copied && r.dst_uidvalidity == Some(dst_status.uidvalidity)
        })
        .filter_map(|r| r.dst_uid)
        .collect();
    let uids: Vec<u32> = dst
        .fetch_meta("1:*")
        .await?
        .into_iter()
        .map(|m| m.uid)
        .filter(|u| !claimed.contains(u))
        .collect();
    Ok(recover::by_canonical(
        recover::hash_messages(dst, &uids).await?,
    ))
}

/// Records staged messages that are already on the destination as copied
/// (no APPEND), and returns the rest.
fn claim_existing(
    ctx: &Context,
    mailbox: &str,
    folder: &str,
    dst_status: &FolderStatus,
    staged: Vec<Staged>,
    on_destination: &mut HashMap<String, Vec<u32>>,
) -> Result<Vec<Staged>> {
    let mut rest = Vec::with_capacity(staged.len());
    let mut found = Vec::new();
    for s in staged {
        match on_destination
            .get_mut(&s.intent.canonical)
            .and_then(Vec::pop)
        {
            Some(uid) => found.push((s.intent, uid)),
            None => rest.push(s),
        }
    }
    if !found.is_empty() {
        let intents: Vec<Intent> = found.iter().map(|(i, _)| i.clone()).collect();
        let ids = ctx
            .journal
            .record_intents(mailbox, folder, dst_status.uidnext, &intents)?;
        let placed: Vec<(i64, Option<u32>)> = ids
            .into_iter()
            .zip(found.iter().map(|(_, uid)| Some(*uid)))
            .collect();
        ctx.journal.mark_copied(&placed, dst_status.uidvalidity)?;
        Counters::add(&ctx.counters.skipped, placed.len() as u64);
        tracing::info!(
            mailbox,
            folder,
            found = placed.len(),
            "claimed messages already on the destination"
        );
    }
    Ok(rest)
}

/// A folder needs no work when its source figures match the last complete pass.
fn unchanged(previous: &FolderRow, now: &FolderStatus) -> bool {
    previous.complete
        && previous.src_uidvalidity == now.uidvalidity
        && previous.src_uidnext == now.uidnext
        && previous.src_exists == now.exists
        && (previous.src_modseq.is_none() || previous.src_modseq == now.highest_modseq)
}

/// Splits messages into batches bounded by count and bytes (at least one each).
fn batches<'a>(
    wanted: &[&'a MessageMeta],
    max_count: usize,
    max_bytes: usize,
) -> Vec<Vec<&'a MessageMeta>> {
    let mut out = Vec::new();
    let mut current: Vec<&MessageMeta> = Vec::new();
    let mut bytes = 0usize;
    for &m in wanted {
        let size = m.size as usize;
        if !current.is_empty() && (current.len() >= max_count || bytes + size > max_bytes) {
            out.push(std::mem::take(&mut current));
            bytes = 0;
        }
        bytes += size;
        current.push(m);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

/// Fetches and hashes a batch from the source.
async fn stage(
    src: &mut Connection,
    batch: Vec<&MessageMeta>,
    uidvalidity: u32,
) -> Result<Vec<Staged>> {
    let by_uid: HashMap<u32, &MessageMeta> = batch.iter().map(|m| (m.uid, *m)).collect();
    let uids: Vec<u32> = batch.iter().map(|m| m.uid).collect();
    let mut staged = Vec::with_capacity(batch.len());
    src.fetch_bodies(&uids, |uid, body| {
        if let Some(meta) = by_uid.get(&uid) {
            let hash = hash_message(body);
            staged.push(Staged {
                meta: (*meta).clone(),
                bytes: body.to_vec(),
                intent: Intent {
                    src_uidvalidity: uidvalidity,
                    src_uid: uid,
                    size: body.len() as u64,
                    sha256: hash.raw,
                    canonical: hash.canonical,
                    flags: meta.flags.clone(),
                    internal_date: meta.internal_date.map(|d| d.to_rfc3339()),
                },
            });
        }
        Ok(())
    })
    .await?;
    staged.sort_by_key(|s| s.meta.uid);
    Ok(staged)
}

/// Where a batch goes: the mailbox and folder in the journal, the folder on
/// the destination.
struct Target<'a> {
    mailbox: &'a str,
    folder: &'a str,
    wire: &'a str,
    status: &'a FolderStatus,
}

/// Appends a staged batch; on a refusal, settles what was stored and retries
/// the rest one by one so only the offending messages are marked refused.
async fn append_staged(
    ctx: &Context,
    dst: &mut Connection,
    target: &Target<'_>,
    staged: &[Staged],
    ids: &[i64],
    outcome: &mut FolderOutcome,
) -> Result<Vec<(i64, Option<u32>)>> {
    let Target {
        mailbox,
        folder,
        wire: dst_wire,
        status: dst_status,
    } = *target;
    let whole: Vec<Outgoing<'_>> = staged.iter().map(outgoing).collect();
    match dst.append_batch(dst_wire, &whole).await {
        Ok(uids) => {
            let placed: Vec<(i64, Option<u32>)> = ids.iter().copied().zip(uids).collect();
            ctx.journal.mark_copied(&placed, dst_status.uidvalidity)?;
            record_copied(
                ctx,
                mailbox,
                staged.iter().map(|s| s.bytes.len() as u64),
                outcome,
            );
            Ok(placed)
        }
        Err(e) if e.category.is_transient() => Err(e.into()),
        Err(e) if staged.len() == 1 => {
            refuse(ctx, mailbox, ids[0], staged[0].meta.uid, &e, outcome)?;
            Ok(Vec::new())
        }
        Err(_) => {
            // Part of a pipelined batch may be stored; claim it before retrying.
            let rows = ctx.journal.folder_messages(mailbox, folder)?;
            recover::settle_intents(ctx, dst, dst_status, &rows).await?;
            let rows = ctx.journal.folder_messages(mailbox, folder)?;
            let settled: HashMap<i64, &MessageRow> = rows.iter().map(|r| (r.id, r)).collect();
            let mut placed = Vec::new();
            for (s, id) in staged.iter().zip(ids) {
                if settled
                    .get(id)
                    .is_some_and(|r| r.state == MessageState::Copied)
                {
                    continue;
                }
                let fresh = ctx.journal.record_intents(
                    mailbox,
                    folder,
                    dst_status.uidnext,
                    std::slice::from_ref(&s.intent),
                )?;
                match dst.append_batch(dst_wire, &[outgoing(s)]).await {
                    Ok(uids) => {
                        let one = (fresh[0], uids.first().copied().flatten());
                        ctx.journal.mark_copied(&[one], dst_status.uidvalidity)?;
                        record_copied(ctx, mailbox, [s.bytes.len() as u64], outcome);
                        placed.push(one);
                    }
                    Err(e) if e.category.is_transient() => return Err(e.into()),
                    Err(e) => {
                        refuse(ctx, mailbox, fresh[0], s.meta.uid, &e, outcome)?;
                        if e.category == Category::OverQuota {
                            break;
                        }
                    }
                }
            }
            Ok(placed)
        }
    }
}

fn outgoing(s: &Staged) -> Outgoing<'_> {
    Outgoing {
        bytes: &s.bytes,
        flags: &s.meta.flags,
        internal_date: s.meta.internal_date,
    }
}

fn record_copied(
    ctx: &Context,
    mailbox: &str,
    sizes: impl IntoIterator<Item = u64>,
    outcome: &mut FolderOutcome,
) {
    let (mut n, mut bytes) = (0, 0);
    for size in sizes {
        n += 1;
        bytes += size;
    }
    outcome.copied += n;
    outcome.bytes += bytes;
    Counters::add(&ctx.counters.copied, n);
    Counters::add(&ctx.counters.bytes, bytes);
    ctx.emit(&Progress::Copied {
        mailbox: mailbox.to_owned(),
        messages: n,
        bytes,
    });
}

fn refuse(
    ctx: &Context,
    mailbox: &str,
    id: i64,
    uid: u32,
    e: &crate::imap::ImapError,
    outcome: &mut FolderOutcome,
) -> Result<()> {
    tracing::warn!(mailbox, uid, category = %e.category, "destination refused a message: {}", e.message);
    ctx.journal
        .mark_failed(id, e.category.as_str(), &e.message)?;
    ctx.metrics
        .error(e.category, mailbox, "destination", &e.message);
    Counters::add(&ctx.counters.failed, 1);
    outcome.refused.push((uid, e.category, e.message.clone()));
    Ok(())
}

/// Carries flag changes made on the source since the last pass.
async fn carry_flags(
    ctx: &Context,
    dst: &mut Connection,
    metas: &[MessageMeta],
    known: &HashMap<u32, &MessageRow>,
    outcome: &mut FolderOutcome,
) -> Result<()> {
    for meta in metas {
        let Some(row) = known.get(&meta.uid) else {
            continue;
        };
        if row.state != MessageState::Copied || row.flags == meta.flags {
            continue;
        }
        if let Some(dst_uid) = row.dst_uid {
            dst.store_flags(dst_uid, &meta.flags).await?;
            ctx.journal.set_flags(row.id, &meta.flags)?;
            outcome.flags_updated += 1;
            Counters::add(&ctx.counters.flags_updated, 1);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta(uid: u32, size: u32) -> MessageMeta {
        MessageMeta {
            uid,
            flags: Vec::new(),
            internal_date: None,
            size,
        }
    }

    #[test]
    fn batches_respect_count_and_bytes() {
        let all: Vec<MessageMeta> = (1..=10).map(|u| meta(u, 100)).collect();
        let refs: Vec<&MessageMeta> = all.iter().collect();
        let by_count = batches(&refs, 4, 1_000_000);
        assert_eq!(
            by_count.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![4, 4, 2]
        );
        let by_bytes = batches(&refs, 100, 250);
        assert_eq!(
            by_bytes.iter().map(Vec::len).collect::<Vec<_>>(),
            vec![2, 2, 2, 2, 2]
        );
        let huge = [meta(1, 10_000)];
        let huge_refs: Vec<&MessageMeta> = huge.iter().collect();
        assert_eq!(batches(&huge_refs, 4, 100).len(), 1);
    }
}
