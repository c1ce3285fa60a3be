//! The proof of a mailbox copy: per folder the count, bytes and a digest over
//! the sorted canonical hashes, read back from both sides; one root digest
//! per mailbox. Raw hashes are kept per message beside the canonical ones.

use serde::{Deserialize, Serialize};

use super::hash::digest_lines;

/// One message as the proof records it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ManifestMessage {
    pub src_uid: u32,
    pub dst_uid: Option<u32>,
    pub size: u64,
    /// SHA-256 of the bytes the source served.
    pub sha256: String,
    /// SHA-256 of the bytes the destination served back.
    pub dst_sha256: Option<String>,
    /// SHA-256 of the canonical (CRLF) form, equal on both sides.
    pub canonical: String,
}

/// A message the destination lacks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Missing {
    pub src_uid: u32,
    pub canonical: Option<String>,
    pub reason: String,
}

/// A message only the destination has.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    pub dst_uid: u32,
    pub canonical: String,
}

/// A message whose content differs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Altered {
    pub src_uid: u32,
    pub dst_uid: u32,
    pub expected: String,
    pub found: String,
}

/// One folder's side-by-side proof.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FolderManifest {
    pub path: String,
    pub destination_path: String,
    pub count: u64,
    pub bytes: u64,
    /// Digest over the source's sorted canonical hashes.
    pub digest: String,
    pub destination_count: u64,
    /// Digest over the destination's sorted canonical hashes.
    pub destination_digest: String,
    /// Messages deleted on the source after they were copied: left on the
    /// destination, and outside both digests.
    pub source_expunged: u64,
    pub missing: Vec<Missing>,
    pub extra: Vec<Extra>,
    pub altered: Vec<Altered>,
    pub messages: Vec<ManifestMessage>,
}

impl FolderManifest {
    #[must_use]
    pub fn matches(&self) -> bool {
        self.digest == self.destination_digest
            && self.missing.is_empty()
            && self.extra.is_empty()
            && self.altered.is_empty()
    }
}

/// The proof for one mailbox.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    pub mailbox: String,
    pub destination: String,
    pub created_at: String,
    pub verified: bool,
    pub root_digest: String,
    pub messages: u64,
    pub bytes: u64,
    pub folders: Vec<FolderManifest>,
}

impl Manifest {
    /// Builds the manifest and its root digest from folder proofs.
    pub fn new(mailbox: &str, destination: &str, mut folders: Vec<FolderManifest>) -> Self {
        folders.sort_by(|a, b| a.path.cmp(&b.path));
        let lines: Vec<String> = folders
            .iter()
            .map(|f| format!("{}\t{}\t{}\t{}", f.path, f.count, f.bytes, f.digest))
            .collect();
        Self {
            mailbox: mailbox.to_owned(),
            destination: destination.to_owned(),
            created_at: crate::journal::now(),
            verified: folders.iter().all(FolderManifest::matches),
            root_digest: digest_lines(lines.iter().map(String::as_str)),
            messages: folders.iter().map(|f| f.count).sum(),
            bytes: folders.iter().map(|f| f.bytes).sum(),
            folders,
        }
    }

    /// One line per problem, naming the folder and message.
    #[must_use]
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        for f in &self.folders {
            for m in &f.missing {
                out.push(format!(
                    "{}: missing source UID {} ({})",
                    f.path, m.src_uid, m.reason
                ));
            }
            for e in &f.extra {
                out.push(format!(
                    "{}: extra destination UID {} ({})",
                    f.path,
                    e.dst_uid,
                    short(&e.canonical)
                ));
            }
            for a in &f.altered {
                out.push(format!(
                    "{}: altered source UID {} -> destination UID {} (expected {}, found {})",
                    f.path,
                    a.src_uid,
                    a.dst_uid,
                    short(&a.expected),
                    short(&a.found)
                ));
            }
        }
        out
    }
}

fn short(hash: &str) -> &str {
    hash.get(..12).unwrap_or(hash)
}

/// Digest over sorted canonical hashes.
pub fn folder_digest(hashes: &mut [&str]) -> String {
    hashes.sort_unstable();
    digest_lines(hashes.iter().copied())
}
