//! The engine's control socket: a Unix socket in the state directory that
//! serves snapshots and takes commands. The caller's identity is the peer's
//! uid from the kernel (`SO_PEERCRED`), never a name the client sends.

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::{UnixListener, UnixStream};
use tokio::sync::mpsc;

use super::delta::{Encoder, Frame};
use super::identity::Caller;
use super::protocol::{ClientMessage, ServerMessage};
use crate::engine::Handle;
use crate::plan::Roles;

/// Messages queued per client before a slow client is dropped.
const CLIENT_QUEUE: usize = 16;

/// Where a plan's engine listens.
#[must_use]
pub fn socket_path(journal: &Path) -> PathBuf {
    journal.with_extension("sock")
}

/// Binds the socket (mode 0660, owned by `group` when given), replacing a
/// stale file left by a crash. Members of the group may connect; what they
/// may do is still decided by their uid and the plan's roles.
///
/// # Errors
/// The socket cannot be bound, or the group does not exist.
pub fn bind(path: &Path, group: Option<&str>) -> std::io::Result<UnixListener> {
    if path.exists() {
        std::fs::remove_file(path)?;
    }
    let listener = UnixListener::bind(path)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660))?;
    if let Some(group) = group {
        let gid = group_id(group).ok_or_else(|| {
            std::io::Error::other(format!("control-group {group:?} does not exist"))
        })?;
        std::os::unix::fs::chown(path, None, Some(gid))?;
        // Group members must also reach the socket through its folder.
        if let Some(dir) = path.parent() {
            let mode = std::fs::metadata(dir)?.permissions().mode();
            std::fs::set_permissions(dir, std::fs::Permissions::from_mode(mode | 0o010))?;
            std::os::unix::fs::chown(dir, None, Some(gid))?;
        }
    }
    Ok(listener)
}

/// Looks a group up by name.
fn group_id(name: &str) -> Option<u32> {
    let cname = std::ffi::CString::new(name).ok()?;
    let mut grp: libc::group = unsafe { std::mem::zeroed() };
    let mut buf = vec![0u8; 16 * 1024];
    let mut result: *mut libc::group = std::ptr::null_mut();
    // SAFETY: all buffers are valid for the given lengths; result is checked.
    let rc = unsafe {
        libc::getgrnam_r(
            cname.as_ptr(),
            &raw mut grp,
            buf.as_mut_ptr().cast(),
            buf.len(),
            &raw mut result,
        )
    };
    (rc == 0 && !result.is_null()).then_some(grp.gr_gid)
}

/// Serves clients until the listener fails.
pub async fn serve(listener: UnixListener, handle: Handle, roles: Roles) {
    loop {
        let Ok((stream, _)) = listener.accept().await else {
            continue;
        };
        let uid = match stream.peer_cred() {
            Ok(cred) => cred.uid(),
            Err(e) => {
                tracing::warn!("control socket: no peer credentials: {e}");
                continue;
            }
        };
        let caller = Caller::from_uid(uid, &roles);
        tracing::info!(user = %caller.user, role = %caller.role, "control client connected");
        tokio::spawn(client(stream, handle.clone(), caller));
    }
}

async fn client(stream: UnixStream, handle: Handle, caller: Caller) {
    let (read, mut write) = stream.into_split();
    let (tx, mut rx) = mpsc::channel::<String>(CLIENT_QUEUE);
    let writer = tokio::spawn(async move {
        while let Some(line) = rx.recv().await {
            if write.write_all(line.as_bytes()).await.is_err() {
                break;
            }
        }
    });
    let mut lines = BufReader::new(read).lines();
    let mut watcher: Option<tokio::task::JoinHandle<()>> = None;
    while let Ok(Some(line)) = lines.next_line().await {
        let answer = match serde_json::from_str::<ClientMessage>(&line) {
            Err(e) => Some(ServerMessage::Error {
                message: format!("bad request: {e}"),
            }),
            Ok(ClientMessage::Whoami) => Some(ServerMessage::Whoami {
                caller: caller.clone(),
            }),
            Ok(ClientMessage::Snapshot) => {
                handle
                    .snapshots
                    .borrow()
                    .clone()
                    .map(|s| ServerMessage::Snapshot {
                        snapshot: Box::new(s),
                    })
            }
            Ok(ClientMessage::Command { action }) => {
                let reply = handle.send(caller.clone(), action).await;
                Some(ServerMessage::Reply {
                    reply,
                    caller: caller.clone(),
                })
            }
            Ok(ClientMessage::Watch) => {
                if watcher.is_none() {
                    watcher = Some(tokio::spawn(watch(handle.clone(), tx.clone())));
                }
                None
            }
        };
        if let Some(answer) = answer
            && tx.try_send(encode(&answer)).is_err()
        {
            break;
        }
    }
    if let Some(w) = watcher {
        w.abort();
    }
    drop(tx);
    let _ = writer.await;
}

/// Streams snapshots to one client; a client that does not keep up is
/// dropped rather than allowed to hold the engine back.
async fn watch(handle: Handle, tx: mpsc::Sender<String>) {
    let mut snapshots = handle.snapshots.clone();
    let mut encoder = Encoder::default();
    loop {
        let line = snapshots.borrow_and_update().as_ref().map(|s| {
            encode(&match encoder.next(s) {
                Frame::Full(snapshot) => ServerMessage::Snapshot { snapshot },
                Frame::Update(update) => ServerMessage::Update { update },
                Frame::Alive(at) => ServerMessage::Alive { at },
            })
        });
        if let Some(line) = line
            && tx.try_send(line).is_err()
        {
            tracing::warn!("control client too slow; dropping it");
            return;
        }
        if snapshots.changed().await.is_err() {
            return;
        }
    }
}

fn encode(message: &ServerMessage) -> String {
    let mut line = serde_json::to_string(message)
        .unwrap_or_else(|e| format!("{{\"op\":\"error\",\"message\":\"cannot encode: {e}\"}}"));
    line.push('\n');
    line
}
