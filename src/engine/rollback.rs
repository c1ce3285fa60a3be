//! Rollback: copy back what users received on the destination after
//! cutover, carry their flag changes back, then flip the cutover flags back.
//! Nothing a user received on the new server may be lost by a rollback.
//!
//! Known gap: folders created on the destination after cutover are not
//! copied back; only folders the migration created are walked.

use std::collections::HashSet;

use crate::imap::{Connection, Outgoing};
use crate::journal::{Intent, MessageState};
use crate::plan::Mailbox;

use super::context::Context;
use super::error::{EngineError, Result};
use super::hash::hash_message;
use crate::telemetry::Category;

/// What a mailbox's reverse sync did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Reversed {
    pub copied_back: u64,
    pub flags_back: u64,
}

/// Reverse delta sync of one mailbox, each copied-back message verified by
/// reading it from the source and comparing canonical hashes.
///
/// # Errors
/// Connection faults, refusals, a copy that does not read back equal.
#[expect(
    clippy::too_many_lines,
    reason = "per folder: new destination mail back with a read-back check, then flags"
)]
pub async fn reverse_mailbox(ctx: &Context, mailbox: &Mailbox) -> Result<Reversed> {
    let mut src = Connection::open(&ctx.plan.source, &mailbox.source, ctx.metrics.clone()).await?;
    let mut dst = Connection::open(
        &ctx.plan.destination,
        &mailbox.destination,
        ctx.metrics.clone(),
    )
    .await?;
    let mut done = Reversed::default();
    for folder in ctx.journal.folders(&mailbox.source)? {
        let dst_wire = dst.wire_name(&folder.dst_path);
        let status = dst.open_folder(&dst_wire, true).await?;
        let metas = if status.exists > 0 {
            dst.fetch_meta("1:*").await?
        } else {
            Vec::new()
        };
        let rows = ctx.journal.folder_messages(&mailbox.source, &folder.path)?;
        let mut claimed: HashSet<u32> = rows
            .iter()
            .filter(|r| {
                r.state == MessageState::Copied && r.dst_uidvalidity == Some(status.uidvalidity)
            })
            .filter_map(|r| r.dst_uid)
            .collect();
        claimed.extend(
            ctx.journal
                .reversed(&mailbox.source, &folder.path, status.uidvalidity)?,
        );

        let src_wire = src.wire_name(&folder.path);
        let new: Vec<&crate::imap::MessageMeta> =
            metas.iter().filter(|m| !claimed.contains(&m.uid)).collect();
        for meta in new {
            let mut body = Vec::new();
            dst.fetch_bodies(&[meta.uid], |_, b| {
                body = b.to_vec();
                Ok(())
            })
            .await?;
            let hash = hash_message(&body);
            let placed = src
                .append_batch(
                    &src_wire,
                    &[Outgoing {
                        bytes: &body,
                        flags: &meta.flags,
                        internal_date: meta.internal_date,
                    }],
                )
                .await?;
            let src_uid = placed.first().copied().flatten();
            if let Some(uid) = src_uid {
                let src_status = src.open_folder(&src_wire, true).await?;
                let mut back = None;
                src.fetch_bodies(&[uid], |_, b| {
                    back = Some(hash_message(b).canonical);
                    Ok(())
                })
                .await?;
                if back.as_deref() != Some(hash.canonical.as_str()) {
                    return Err(EngineError::Other(
                        Category::ChecksumMismatch,
                        format!(
                            "{}: message copied back to source UID {uid} reads back different",
                            folder.path
                        ),
                    ));
                }
                // The copy is now also a forward pair, so a later delta sync
                // does not carry it to the destination a second time.
                let intent = Intent {
                    src_uidvalidity: src_status.uidvalidity,
                    src_uid: uid,
                    size: body.len() as u64,
                    sha256: hash.raw.clone(),
                    canonical: hash.canonical.clone(),
                    flags: meta.flags.clone(),
                    internal_date: meta.internal_date.map(|d| d.to_rfc3339()),
                };
                let ids = ctx.journal.record_intents(
                    &mailbox.source,
                    &folder.path,
                    meta.uid,
                    &[intent],
                )?;
                ctx.journal
                    .mark_copied(&[(ids[0], Some(meta.uid))], status.uidvalidity)?;
            }
            ctx.journal.record_reversed(
                &mailbox.source,
                &folder.path,
                status.uidvalidity,
                meta.uid,
                src_uid,
                &hash.canonical,
            )?;
            done.copied_back += 1;
        }

        let changed: Vec<(i64, u32, Vec<String>)> = rows
            .iter()
            .filter(|r| {
                r.state == MessageState::Copied && r.dst_uidvalidity == Some(status.uidvalidity)
            })
            .filter_map(|r| {
                let meta = metas.iter().find(|m| Some(m.uid) == r.dst_uid)?;
                (meta.flags != r.flags).then(|| (r.id, r.src_uid, meta.flags.clone()))
            })
            .collect();
        if !changed.is_empty() {
            src.open_folder(&src_wire, false).await?;
            for (id, src_uid, flags) in changed {
                src.store_flags(src_uid, &flags).await?;
                ctx.journal.set_flags(id, &flags)?;
                done.flags_back += 1;
            }
        }
    }
    src.logout().await;
    dst.logout().await;
    Ok(done)
}
