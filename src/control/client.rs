//! The client side of the control socket, used by `cutover ctl` and
//! `cutover attach`.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader, Lines};
use tokio::net::UnixStream;
use tokio::net::unix::{OwnedReadHalf, OwnedWriteHalf};

use super::protocol::{ClientMessage, ServerMessage};

/// A connection to a running engine.
pub struct Client {
    lines: Lines<BufReader<OwnedReadHalf>>,
    write: OwnedWriteHalf,
}

/// Why talking to the engine failed.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("no engine is running for this plan ({path}: {source})")]
    NotRunning {
        path: String,
        source: std::io::Error,
    },
    #[error("control socket: {0}")]
    Io(#[from] std::io::Error),
    #[error("the engine closed the connection")]
    Closed,
    #[error("the engine did not answer in time")]
    Timeout,
    #[error("unreadable answer from the engine: {0}")]
    Decode(#[from] serde_json::Error),
}

impl Client {
    /// Connects to the engine's socket.
    ///
    /// # Errors
    /// No engine listens there.
    pub async fn connect(path: &Path) -> Result<Self, ClientError> {
        let stream = UnixStream::connect(path)
            .await
            .map_err(|source| ClientError::NotRunning {
                path: path.display().to_string(),
                source,
            })?;
        let (read, write) = stream.into_split();
        Ok(Self {
            lines: BufReader::new(read).lines(),
            write,
        })
    }

    /// Sends one message.
    ///
    /// # Errors
    /// The connection failed.
    pub async fn send(&mut self, message: &ClientMessage) -> Result<(), ClientError> {
        let mut line = serde_json::to_string(message)?;
        line.push('\n');
        self.write.write_all(line.as_bytes()).await?;
        Ok(())
    }

    /// Reads the next message, waiting at most `wait`.
    ///
    /// # Errors
    /// Timeout, closed connection or an unreadable line.
    pub async fn next(&mut self, wait: Duration) -> Result<ServerMessage, ClientError> {
        let line = tokio::time::timeout(wait, self.lines.next_line())
            .await
            .map_err(|_| ClientError::Timeout)??
            .ok_or(ClientError::Closed)?;
        Ok(serde_json::from_str(&line)?)
    }

    /// Sends a request and returns the first answer.
    ///
    /// # Errors
    /// As [`Client::send`] and [`Client::next`].
    pub async fn ask(&mut self, message: &ClientMessage) -> Result<ServerMessage, ClientError> {
        self.send(message).await?;
        self.next(Duration::from_secs(30)).await
    }
}
