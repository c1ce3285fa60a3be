//! Checksum validation: read every destination message back, hash it, and
//! compare with the hashes taken from the source when it was copied.

use std::collections::{HashMap, HashSet};

use crate::imap::Connection;
use crate::journal::MessageState;
use crate::plan::Mailbox;

use super::context::Context;
use super::error::Result;
use super::manifest::{
    Altered, Extra, FolderManifest, Manifest, ManifestMessage, Missing, folder_digest,
};
use super::recover::{Hashed, hash_messages};

/// Builds the mailbox's manifest from both servers and stores it.
///
/// # Errors
/// Connection faults and journal failures; a mismatch is not an error but
/// a manifest with `verified = false`.
pub async fn verify_mailbox(
    ctx: &Context,
    mailbox: &Mailbox,
    src: &mut Connection,
    dst: &mut Connection,
) -> Result<Manifest> {
    let mut folders = Vec::new();
    for folder in ctx.journal.folders(&mailbox.source)? {
        folders.push(
            verify_folder(
                ctx,
                &mailbox.source,
                &folder.path,
                &folder.dst_path,
                src,
                dst,
            )
            .await?,
        );
    }
    let manifest = Manifest::new(&mailbox.source, &mailbox.destination, folders);
    let body = serde_json::to_string(&manifest).unwrap_or_default();
    ctx.journal.store_manifest(
        &mailbox.source,
        &manifest.root_digest,
        manifest.verified,
        &body,
    )?;
    Ok(manifest)
}

async fn verify_folder(
    ctx: &Context,
    mailbox: &str,
    path: &str,
    dst_path: &str,
    src: &mut Connection,
    dst: &mut Connection,
) -> Result<FolderManifest> {
    let src_wire = src.wire_name(path);
    let src_status = src.open_folder(&src_wire, true).await?;
    let src_metas = if src_status.exists > 0 {
        src.fetch_meta("1:*").await?
    } else {
        Vec::new()
    };
    let on_source: HashSet<u32> = src_metas.iter().map(|m| m.uid).collect();
    let sizes: HashMap<u32, u64> = src_metas
        .iter()
        .map(|m| (m.uid, u64::from(m.size)))
        .collect();

    let dst_wire = dst.wire_name(dst_path);
    let dst_status = dst.open_folder(&dst_wire, true).await?;
    let dst_uids: Vec<u32> = if dst_status.exists > 0 {
        dst.fetch_meta("1:*")
            .await?
            .into_iter()
            .map(|m| m.uid)
            .collect()
    } else {
        Vec::new()
    };
    let read_back: HashMap<u32, Hashed> = hash_messages(dst, &dst_uids)
        .await?
        .into_iter()
        .map(|h| (h.uid, h))
        .collect();

    let rows = ctx.journal.folder_messages(mailbox, path)?;
    let journaled: HashSet<u32> = rows
        .iter()
        .filter(|r| r.src_uidvalidity == src_status.uidvalidity)
        .map(|r| r.src_uid)
        .collect();
    let mut claimed: HashSet<u32> = HashSet::new();
    let mut report = FolderManifest {
        path: path.to_owned(),
        destination_path: dst_path.to_owned(),
        count: 0,
        bytes: 0,
        digest: String::new(),
        destination_count: 0,
        destination_digest: String::new(),
        source_expunged: 0,
        missing: Vec::new(),
        extra: Vec::new(),
        altered: Vec::new(),
        messages: Vec::new(),
    };
    let mut unplaced = Vec::new();
    for row in &rows {
        let here =
            row.src_uidvalidity == src_status.uidvalidity && on_source.contains(&row.src_uid);
        if !here {
            if let Some(uid) = row.dst_uid {
                claimed.insert(uid);
            }
            report.source_expunged += 1;
            continue;
        }
        report.count += 1;
        report.bytes += sizes.get(&row.src_uid).copied().unwrap_or(row.size);
        let canonical = row.canonical.clone().unwrap_or_default();
        if row.state != MessageState::Copied {
            report.missing.push(Missing {
                src_uid: row.src_uid,
                canonical: row.canonical.clone(),
                reason: row
                    .error_category
                    .clone()
                    .map_or_else(|| "not copied yet".into(), |c| format!("refused: {c}")),
            });
            continue;
        }
        let back = row
            .dst_uid
            .filter(|_| row.dst_uidvalidity == Some(dst_status.uidvalidity))
            .and_then(|u| read_back.get(&u));
        match back {
            Some(h) => {
                claimed.insert(h.uid);
                if h.canonical != canonical {
                    report.altered.push(Altered {
                        src_uid: row.src_uid,
                        dst_uid: h.uid,
                        expected: canonical.clone(),
                        found: h.canonical.clone(),
                    });
                }
                report.messages.push(ManifestMessage {
                    src_uid: row.src_uid,
                    dst_uid: Some(h.uid),
                    size: row.size,
                    sha256: row.sha256.clone().unwrap_or_default(),
                    dst_sha256: Some(h.raw.clone()),
                    canonical,
                });
            }
            None => unplaced.push(row),
        }
    }
    // Rows without a usable destination UID (no UIDPLUS): find them by content.
    let mut spare: HashMap<&str, Vec<&Hashed>> = HashMap::new();
    for h in read_back.values().filter(|h| !claimed.contains(&h.uid)) {
        spare.entry(h.canonical.as_str()).or_default().push(h);
    }
    for row in unplaced {
        let canonical = row.canonical.clone().unwrap_or_default();
        match spare.get_mut(canonical.as_str()).and_then(Vec::pop) {
            Some(h) => {
                claimed.insert(h.uid);
                report.messages.push(ManifestMessage {
                    src_uid: row.src_uid,
                    dst_uid: Some(h.uid),
                    size: row.size,
                    sha256: row.sha256.clone().unwrap_or_default(),
                    dst_sha256: Some(h.raw.clone()),
                    canonical,
                });
            }
            None => report.missing.push(Missing {
                src_uid: row.src_uid,
                canonical: row.canonical.clone(),
                reason: "not on the destination".into(),
            }),
        }
    }
    for meta in src_metas.iter().filter(|m| !journaled.contains(&m.uid)) {
        report.count += 1;
        report.bytes += u64::from(meta.size);
        report.missing.push(Missing {
            src_uid: meta.uid,
            canonical: None,
            reason: "arrived on the source after the last pass".into(),
        });
    }
    let mut extra: Vec<&Hashed> = read_back
        .values()
        .filter(|h| !claimed.contains(&h.uid))
        .collect();
    extra.sort_by_key(|h| h.uid);
    report.extra = extra
        .iter()
        .map(|h| Extra {
            dst_uid: h.uid,
            canonical: h.canonical.clone(),
        })
        .collect();

    let mut src_hashes: Vec<&str> = rows
        .iter()
        .filter(|r| r.src_uidvalidity == src_status.uidvalidity && on_source.contains(&r.src_uid))
        .filter_map(|r| r.canonical.as_deref())
        .collect();
    report.digest = folder_digest(&mut src_hashes);
    let expunged_dst: HashSet<u32> = rows
        .iter()
        .filter(|r| {
            !(r.src_uidvalidity == src_status.uidvalidity && on_source.contains(&r.src_uid))
        })
        .filter_map(|r| r.dst_uid)
        .collect();
    let mut dst_hashes: Vec<&str> = read_back
        .values()
        .filter(|h| !expunged_dst.contains(&h.uid))
        .map(|h| h.canonical.as_str())
        .collect();
    report.destination_count = dst_hashes.len() as u64;
    report.destination_digest = folder_digest(&mut dst_hashes);
    report.messages.sort_by_key(|m| m.src_uid);
    Ok(report)
}
