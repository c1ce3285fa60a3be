//! Putting the journal and the servers back in step after a crash or a
//! UIDVALIDITY change, by content hash, never by copying everything again.

use std::collections::{HashMap, HashSet};

use crate::imap::{Connection, FolderStatus, MessageMeta};
use crate::journal::{MessageRow, MessageState};

use super::context::Context;
use super::error::Result;
use super::hash::hash_message;

/// Raw and canonical hashes (and size) of messages in the open folder.
pub struct Hashed {
    pub uid: u32,
    pub raw: String,
    pub canonical: String,
}

/// Reads and hashes every listed message of the open folder.
///
/// # Errors
/// Connection faults.
pub async fn hash_messages(conn: &mut Connection, uids: &[u32]) -> Result<Vec<Hashed>> {
    let mut out = Vec::with_capacity(uids.len());
    for chunk in uids.chunks(500) {
        conn.fetch_bodies(chunk, |uid, body| {
            let h = hash_message(body);
            out.push(Hashed {
                uid,
                raw: h.raw,
                canonical: h.canonical,
            });
            Ok(())
        })
        .await?;
    }
    Ok(out)
}

/// UIDs in the open folder at or above `from` (`n:*` also names the last
/// message when every UID is below `n`, so those are filtered out).
async fn uids_from(conn: &mut Connection, from: u32) -> Result<Vec<MessageMeta>> {
    let metas = conn.fetch_meta(&format!("{}:*", from.max(1))).await?;
    Ok(metas.into_iter().filter(|m| m.uid >= from).collect())
}

/// Groups UIDs by canonical hash so duplicates are matched one to one.
pub fn by_canonical(hashed: Vec<Hashed>) -> HashMap<String, Vec<u32>> {
    let mut map: HashMap<String, Vec<u32>> = HashMap::new();
    for h in hashed {
        map.entry(h.canonical).or_default().push(h.uid);
    }
    for uids in map.values_mut() {
        uids.sort_unstable_by(|a, b| b.cmp(a));
    }
    map
}

/// Settles intents left by a crash between an APPEND and its record: a
/// message found on the destination (at or above the UIDNEXT noted with the
/// intent, not yet claimed by another row) is marked copied; one not found
/// is forgotten, so the pass copies it again.
///
/// # Errors
/// Connection faults and journal failures.
pub async fn settle_intents(
    ctx: &Context,
    dst: &mut Connection,
    dst_status: &FolderStatus,
    rows: &[MessageRow],
) -> Result<()> {
    let intents: Vec<&MessageRow> = rows
        .iter()
        .filter(|r| r.state == MessageState::Intent)
        .collect();
    if intents.is_empty() {
        return Ok(());
    }
    let from = intents
        .iter()
        .filter_map(|r| r.intent_uidnext)
        .min()
        .unwrap_or(1);
    let claimed: HashSet<u32> = rows
        .iter()
        .filter(|r| {
            r.state == MessageState::Copied && r.dst_uidvalidity == Some(dst_status.uidvalidity)
        })
        .filter_map(|r| r.dst_uid)
        .collect();
    let candidates: Vec<u32> = uids_from(dst, from)
        .await?
        .into_iter()
        .map(|m| m.uid)
        .filter(|u| !claimed.contains(u))
        .collect();
    let mut found = by_canonical(hash_messages(dst, &candidates).await?);

    let mut placed = Vec::new();
    let mut lost = Vec::new();
    for row in intents {
        let hit = row
            .canonical
            .as_ref()
            .and_then(|c| found.get_mut(c))
            .and_then(Vec::pop);
        match hit {
            Some(uid) => placed.push((row.id, Some(uid))),
            None => lost.push(row.id),
        }
    }
    tracing::info!(
        found = placed.len(),
        missing = lost.len(),
        "settled intents left by an interrupted pass"
    );
    ctx.journal.mark_copied(&placed, dst_status.uidvalidity)?;
    ctx.journal.forget_messages(&lost)?;
    Ok(())
}

/// The source folder was recreated (new UIDVALIDITY): match its messages to
/// the journal by content and move the rows to the new UIDs. Rows whose
/// message is no longer on the source are dropped from the journal; their
/// copies stay on the destination.
///
/// # Errors
/// Connection faults and journal failures.
pub async fn source_uidvalidity(
    ctx: &Context,
    mailbox: &str,
    folder: &str,
    src: &mut Connection,
    status: &FolderStatus,
    metas: &[MessageMeta],
    rows: &[MessageRow],
) -> Result<()> {
    tracing::warn!(
        mailbox,
        folder,
        uidvalidity = status.uidvalidity,
        "source UIDVALIDITY changed; matching by content"
    );
    let taken: HashSet<u32> = rows
        .iter()
        .filter(|r| r.src_uidvalidity == status.uidvalidity)
        .map(|r| r.src_uid)
        .collect();
    let uids: Vec<u32> = metas
        .iter()
        .map(|m| m.uid)
        .filter(|u| !taken.contains(u))
        .collect();
    let mut found = by_canonical(hash_messages(src, &uids).await?);
    let mut moves = Vec::new();
    let mut gone = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.src_uidvalidity != status.uidvalidity)
    {
        match row
            .canonical
            .as_ref()
            .and_then(|c| found.get_mut(c))
            .and_then(Vec::pop)
        {
            Some(uid) => moves.push((row.id, status.uidvalidity, uid)),
            None => gone.push(row.id),
        }
    }
    ctx.journal.remap_source(&moves)?;
    ctx.journal.delete_messages(&gone)?;
    ctx.journal.event(
        "uidvalidity",
        None,
        Some(mailbox),
        &format!(
            "source {folder}: {} matched by content, {} no longer on the source",
            moves.len(),
            gone.len()
        ),
    )?;
    Ok(())
}

/// The destination folder was recreated: find each copied message again by
/// content; rows whose message is not there any more are dropped so the
/// pass copies them again.
///
/// # Errors
/// Connection faults and journal failures.
pub async fn destination_uidvalidity(
    ctx: &Context,
    mailbox: &str,
    folder: &str,
    dst: &mut Connection,
    status: &FolderStatus,
    rows: &[MessageRow],
) -> Result<()> {
    tracing::warn!(
        mailbox,
        folder,
        uidvalidity = status.uidvalidity,
        "destination UIDVALIDITY changed; matching by content"
    );
    let uids: Vec<u32> = if status.exists > 0 {
        dst.fetch_meta("1:*")
            .await?
            .into_iter()
            .map(|m| m.uid)
            .collect()
    } else {
        Vec::new()
    };
    let mut found = by_canonical(hash_messages(dst, &uids).await?);
    let mut placed = Vec::new();
    let mut gone = Vec::new();
    for row in rows.iter().filter(|r| {
        r.state == MessageState::Copied && r.dst_uidvalidity != Some(status.uidvalidity)
    }) {
        match row
            .canonical
            .as_ref()
            .and_then(|c| found.get_mut(c))
            .and_then(Vec::pop)
        {
            Some(uid) => placed.push((row.id, Some(uid))),
            None => gone.push(row.id),
        }
    }
    ctx.journal.mark_copied(&placed, status.uidvalidity)?;
    ctx.journal.delete_messages(&gone)?;
    ctx.journal.event(
        "uidvalidity",
        None,
        Some(mailbox),
        &format!(
            "destination {folder}: {} found again by content, {} to copy again",
            placed.len(),
            gone.len()
        ),
    )?;
    Ok(())
}
