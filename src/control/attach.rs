//! A remote link to a running engine for `cutover attach`: snapshots in,
//! commands out, over one socket connection, reconnecting with backoff when
//! the engine goes away. The connection state is published so the war room
//! can say "reconnecting" instead of showing old figures as current.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::UnixStream;
use tokio::sync::{mpsc, oneshot, watch};

use super::actions::Action;
use super::delta::Decoder;
use super::protocol::{ClientMessage, ServerMessage};
use crate::engine::{ConnectionState, Reply, Snapshot};

/// Backoff between reconnection attempts, capped.
const BACKOFF: [u64; 6] = [1, 1, 2, 4, 8, 15];

/// Runs until `commands` closes: keeps `snapshots` fed and `state` true.
pub async fn link(
    path: PathBuf,
    snapshots: watch::Sender<Option<Snapshot>>,
    state: watch::Sender<ConnectionState>,
    mut commands: mpsc::Receiver<(Action, oneshot::Sender<Reply>)>,
) {
    let mut attempt: u32 = 0;
    loop {
        match UnixStream::connect(&path).await {
            Ok(stream) => {
                attempt = 0;
                let _ = state.send(ConnectionState::Connected);
                if session(stream, &snapshots, &mut commands).await.is_none() {
                    return;
                }
            }
            Err(e) => tracing::debug!("attach: {}: {e}", path.display()),
        }
        attempt += 1;
        let wait = BACKOFF[(attempt as usize).min(BACKOFF.len()) - 1];
        let _ = state.send(ConnectionState::Reconnecting {
            next_try_secs: wait,
            attempt,
        });
        // Commands sent while the engine is away are refused at once.
        let deadline = tokio::time::sleep(Duration::from_secs(wait));
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                () = &mut deadline => break,
                cmd = commands.recv() => match cmd {
                    Some((_, reply)) => {
                        let _ = reply.send(Reply::refused("not connected to the engine; reconnecting"));
                    }
                    None => return,
                },
            }
        }
    }
}

/// One connected session. `None` when the front end has gone (stop);
/// `Some(())` when the engine went away (reconnect).
async fn session(
    stream: UnixStream,
    snapshots: &watch::Sender<Option<Snapshot>>,
    commands: &mut mpsc::Receiver<(Action, oneshot::Sender<Reply>)>,
) -> Option<()> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read).lines();
    if write
        .write_all(line(&ClientMessage::Watch).as_bytes())
        .await
        .is_err()
    {
        return Some(());
    }
    let mut pending: VecDeque<oneshot::Sender<Reply>> = VecDeque::new();
    let mut decoder = Decoder::default();
    loop {
        tokio::select! {
            next = lines.next_line() => if let Ok(Some(text)) = next { match serde_json::from_str::<ServerMessage>(&text) {
                Ok(ServerMessage::Snapshot { snapshot }) => {
                    let _ = snapshots.send(Some(decoder.full(*snapshot)));
                }
                Ok(ServerMessage::Update { update }) => {
                    if let Some(s) = decoder.update(update) {
                        let _ = snapshots.send(Some(s));
                    }
                }
                Ok(ServerMessage::Alive { at }) => {
                    if let Some(s) = decoder.alive(at) {
                        let _ = snapshots.send(Some(s));
                    }
                }
                Ok(ServerMessage::Reply { reply, .. }) => {
                    if let Some(tx) = pending.pop_front() {
                        let _ = tx.send(reply);
                    }
                }
                Ok(ServerMessage::Error { message }) => tracing::warn!("engine said: {message}"),
                Ok(ServerMessage::Whoami { .. }) => {}
                Err(e) => tracing::warn!("unreadable message from the engine: {e}"),
            } } else {
                for tx in pending.drain(..) {
                    let _ = tx.send(Reply::refused("the engine went away before answering"));
                }
                return Some(());
            },
            cmd = commands.recv() => match cmd {
                Some((action, reply)) => {
                    if write.write_all(line(&ClientMessage::Command { action }).as_bytes()).await.is_err() {
                        let _ = reply.send(Reply::refused("the engine went away"));
                        return Some(());
                    }
                    pending.push_back(reply);
                }
                None => return None,
            },
        }
    }
}

fn line(message: &ClientMessage) -> String {
    let mut text = serde_json::to_string(message).unwrap_or_default();
    text.push('\n');
    text
}
