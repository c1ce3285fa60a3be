//! Checksum validation: read every destination message back, hash it, and
//! compare with the hashes taken from the source when it was copied.

use std::collections::{HashMap, HashSet};

use crate::imap::{Connection, MessageMeta};
use crate::journal::{MessageRow, MessageState};
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
    let read_back = hash_messages(dst, &dst_uids).await?;
    let rows = ctx.journal.folder_messages(mailbox, path)?;
    let source = Source {
        uidvalidity: src_status.uidvalidity,
        messages: &src_metas,
    };
    let destination = Destination {
        uidvalidity: dst_status.uidvalidity,
        read_back,
    };
    Ok(compare(path, dst_path, &rows, &source, &destination))
}

/// The source folder as it is now.
struct Source<'a> {
    uidvalidity: u32,
    messages: &'a [MessageMeta],
}

/// The destination folder as read back.
struct Destination {
    uidvalidity: u32,
    read_back: Vec<Hashed>,
}

#[expect(
    clippy::too_many_lines,
    reason = "one comparison, read top to bottom: rows, unplaced rows, new source mail, extras, digests"
)]
/// Compares the journal's view of the source with what the destination
/// served back. Pure, so every way a copy can go wrong is unit-tested.
fn compare(
    path: &str,
    dst_path: &str,
    rows: &[MessageRow],
    source: &Source<'_>,
    dst: &Destination,
) -> FolderManifest {
    let on_source: HashMap<u32, u64> = source
        .messages
        .iter()
        .map(|m| (m.uid, u64::from(m.size)))
        .collect();
    let current = |r: &MessageRow| {
        r.src_uidvalidity == source.uidvalidity && on_source.contains_key(&r.src_uid)
    };
    let read_back: HashMap<u32, &Hashed> = dst.read_back.iter().map(|h| (h.uid, h)).collect();
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

    // Copies of messages since deleted on the source stay out of the proof.
    let expunged: HashSet<u32> = rows
        .iter()
        .filter(|r| !current(r))
        .filter_map(|r| r.dst_uid)
        .collect();
    report.source_expunged = rows.iter().filter(|r| !current(r)).count() as u64;
    let mut claimed = expunged.clone();
    let mut unplaced = Vec::new();
    for row in rows.iter().filter(|r| current(r)) {
        report.count += 1;
        report.bytes += on_source.get(&row.src_uid).copied().unwrap_or(row.size);
        if row.state != MessageState::Copied {
            let reason = row
                .error_category
                .clone()
                .map_or_else(|| "not copied yet".into(), |c| format!("refused: {c}"));
            report.missing.push(Missing {
                src_uid: row.src_uid,
                canonical: row.canonical.clone(),
                reason,
            });
            continue;
        }
        let back = row
            .dst_uid
            .filter(|_| row.dst_uidvalidity == Some(dst.uidvalidity))
            .and_then(|u| read_back.get(&u));
        match back {
            Some(h) => {
                claimed.insert(h.uid);
                let expected = row.canonical.clone().unwrap_or_default();
                if h.canonical != expected {
                    report.altered.push(Altered {
                        src_uid: row.src_uid,
                        dst_uid: h.uid,
                        expected,
                        found: h.canonical.clone(),
                    });
                }
                report.messages.push(proof(row, h));
            }
            None => unplaced.push(row),
        }
    }
    // Rows without a usable destination UID (no UIDPLUS): find them by content.
    let mut spare: HashMap<&str, Vec<&Hashed>> = HashMap::new();
    for h in dst.read_back.iter().filter(|h| !claimed.contains(&h.uid)) {
        spare.entry(h.canonical.as_str()).or_default().push(h);
    }
    for row in unplaced {
        match spare
            .get_mut(row.canonical.as_deref().unwrap_or_default())
            .and_then(Vec::pop)
        {
            Some(h) => {
                claimed.insert(h.uid);
                report.messages.push(proof(row, h));
            }
            None => report.missing.push(Missing {
                src_uid: row.src_uid,
                canonical: row.canonical.clone(),
                reason: "not on the destination".into(),
            }),
        }
    }
    let journaled: HashSet<u32> = rows
        .iter()
        .filter(|r| current(r))
        .map(|r| r.src_uid)
        .collect();
    for meta in source
        .messages
        .iter()
        .filter(|m| !journaled.contains(&m.uid))
    {
        report.count += 1;
        report.bytes += u64::from(meta.size);
        report.missing.push(Missing {
            src_uid: meta.uid,
            canonical: None,
            reason: "arrived on the source after the last pass".into(),
        });
    }
    let mut extra: Vec<&Hashed> = dst
        .read_back
        .iter()
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
        .filter(|r| current(r))
        .filter_map(|r| r.canonical.as_deref())
        .collect();
    report.digest = folder_digest(&mut src_hashes);
    let mut dst_hashes: Vec<&str> = dst
        .read_back
        .iter()
        .filter(|h| !expunged.contains(&h.uid))
        .map(|h| h.canonical.as_str())
        .collect();
    report.destination_count = dst_hashes.len() as u64;
    report.destination_digest = folder_digest(&mut dst_hashes);
    report.messages.sort_by_key(|m| m.src_uid);
    report
}

/// One message's entry in the proof.
fn proof(row: &MessageRow, back: &Hashed) -> ManifestMessage {
    ManifestMessage {
        src_uid: row.src_uid,
        dst_uid: Some(back.uid),
        size: row.size,
        sha256: row.sha256.clone().unwrap_or_default(),
        dst_sha256: Some(back.raw.clone()),
        canonical: row.canonical.clone().unwrap_or_default(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(src_uid: u32, dst_uid: Option<u32>, canonical: &str, state: MessageState) -> MessageRow {
        MessageRow {
            id: i64::from(src_uid),
            folder: "INBOX".into(),
            src_uidvalidity: 7,
            src_uid,
            size: 10,
            sha256: Some(format!("raw-{canonical}")),
            canonical: Some(canonical.into()),
            flags: Vec::new(),
            internal_date: None,
            dst_uidvalidity: dst_uid.map(|_| 9),
            dst_uid,
            intent_uidnext: None,
            state,
            error_category: None,
        }
    }

    fn meta(uid: u32) -> MessageMeta {
        MessageMeta {
            uid,
            flags: Vec::new(),
            internal_date: None,
            size: 10,
        }
    }

    fn back(uid: u32, canonical: &str) -> Hashed {
        Hashed {
            uid,
            raw: format!("raw-{canonical}"),
            canonical: canonical.into(),
        }
    }

    #[test]
    fn a_faithful_copy_matches() {
        let rows = [
            row(1, Some(1), "a", MessageState::Copied),
            row(2, Some(2), "b", MessageState::Copied),
        ];
        let metas = [meta(1), meta(2)];
        let source = Source {
            uidvalidity: 7,
            messages: &metas,
        };
        let dst = Destination {
            uidvalidity: 9,
            read_back: vec![back(1, "a"), back(2, "b")],
        };
        let report = compare("INBOX", "INBOX", &rows, &source, &dst);
        assert!(report.matches(), "{report:?}");
        assert_eq!((report.count, report.destination_count), (2, 2));
    }

    #[test]
    fn missing_extra_and_altered_are_named() {
        let rows = [
            row(1, Some(1), "a", MessageState::Copied),
            row(2, Some(2), "b", MessageState::Copied),
            row(3, None, "c", MessageState::Failed),
        ];
        let metas = [meta(1), meta(2), meta(3), meta(4)];
        let source = Source {
            uidvalidity: 7,
            messages: &metas,
        };
        let dst = Destination {
            uidvalidity: 9,
            read_back: vec![back(1, "a"), back(2, "B!"), back(5, "zz")],
        };
        let report = compare("INBOX", "INBOX", &rows, &source, &dst);
        assert!(!report.matches());
        assert_eq!(report.altered.len(), 1);
        assert_eq!(
            (report.altered[0].src_uid, report.altered[0].dst_uid),
            (2, 2)
        );
        let missing: Vec<u32> = report.missing.iter().map(|m| m.src_uid).collect();
        assert_eq!(missing, [3, 4]);
        assert_eq!(
            report.extra.iter().map(|e| e.dst_uid).collect::<Vec<_>>(),
            [5]
        );
    }

    #[test]
    fn rows_without_uids_are_found_by_content_and_expunged_ones_are_left_out() {
        let rows = [
            row(1, None, "a", MessageState::Copied),
            row(2, Some(2), "b", MessageState::Copied),
        ];
        let metas = [meta(1)];
        let source = Source {
            uidvalidity: 7,
            messages: &metas,
        };
        let dst = Destination {
            uidvalidity: 9,
            read_back: vec![back(7, "a"), back(2, "b")],
        };
        let report = compare("INBOX", "INBOX", &rows, &source, &dst);
        assert!(report.matches(), "{report:?}");
        assert_eq!(report.source_expunged, 1);
        assert_eq!(report.messages[0].dst_uid, Some(7));
    }
}
