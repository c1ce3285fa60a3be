//! One logged-in IMAP connection, with timeouts and latency on every command.

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use async_imap::{Client, Session};
use imap_proto::Response;
use tokio::io::AsyncWriteExt;

use super::stream::{self, Stream};
use super::{ImapError, Kind, auth};
use crate::plan::{Auth, Endpoint, MasterMethod};
use crate::telemetry::{Metrics, Op};

/// What the server offers that changes how cutover talks to it.
#[expect(
    clippy::struct_excessive_bools,
    reason = "one flag per IMAP capability a server may offer"
)]
#[derive(Debug, Clone, Default)]
pub struct Capabilities {
    pub uidplus: bool,
    pub literal_plus: bool,
    pub multiappend: bool,
    pub condstore: bool,
    pub namespace: bool,
    /// Largest message the server accepts (RFC 7889), when it says.
    pub append_limit: Option<u64>,
}

/// A logged-in session on one server for one mailbox.
pub struct Connection {
    pub(super) session: Session<Stream>,
    pub caps: Capabilities,
    /// The personal namespace's prefix and hierarchy delimiter.
    pub prefix: String,
    pub delimiter: Option<char>,
    pub(super) server: String,
    pub(super) timeout: Duration,
    pub(super) metrics: Arc<Metrics>,
    pub(super) next_tag: u32,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

/// Runs a future under the connection's timeout and records its latency.
pub(super) async fn timed<T>(
    metrics: &Metrics,
    server: &str,
    timeout: Duration,
    op: Op,
    doing: &str,
    fut: impl Future<Output = Result<T, ImapError>>,
) -> Result<T, ImapError> {
    let started = Instant::now();
    let result = match tokio::time::timeout(timeout, fut).await {
        Ok(r) => r,
        Err(_) => Err(ImapError::timeout(doing)),
    };
    metrics.record(server, op, started.elapsed(), result.is_err());
    result
}

impl Connection {
    /// Connects and logs in as `login` (the mailbox), directly or through the
    /// endpoint's admin user.
    ///
    /// # Errors
    /// Connection, TLS, timeout or authentication failures, categorised.
    pub async fn open(
        endpoint: &Endpoint,
        login: &str,
        metrics: Arc<Metrics>,
    ) -> Result<Self, ImapError> {
        let server = endpoint.side.as_str().to_owned();
        let timeout = endpoint.timeout;
        let (stream, greeting_unread) = timed(
            &metrics,
            &server,
            timeout,
            Op::Connect,
            "connect",
            stream::open(endpoint),
        )
        .await?;
        let mut client = Client::new(stream);
        if greeting_unread {
            let greeting = timed(&metrics, &server, timeout, Op::Connect, "greeting", async {
                client
                    .read_response()
                    .await
                    .map_err(|e| {
                        ImapError::new(
                            super::error::io_category(&e),
                            format!("reading greeting: {e}"),
                        )
                    })?
                    .ok_or_else(|| {
                        ImapError::new(Kind::Connection, "server closed before greeting")
                    })
            })
            .await?;
            if let Response::Data {
                status: imap_proto::Status::Bye,
                outcome,
            } = greeting.parsed()
            {
                return Err(ImapError::new(
                    Kind::Connection,
                    format!(
                        "server said BYE: {}",
                        outcome.information.as_deref().unwrap_or("")
                    ),
                ));
            }
        }

        let session = timed(
            &metrics,
            &server,
            timeout,
            Op::Login,
            "login",
            login_as(client, endpoint, login),
        )
        .await?;
        let mut conn = Self {
            session,
            caps: Capabilities::default(),
            prefix: String::new(),
            delimiter: None,
            server,
            timeout,
            metrics,
            next_tag: 0,
        };
        conn.read_capabilities().await?;
        if conn.caps.namespace {
            conn.read_namespace().await?;
        }
        Ok(conn)
    }

    /// The server label used in metrics (`source` or `destination`).
    pub fn server(&self) -> &str {
        &self.server
    }

    pub(super) fn tag(&mut self) -> String {
        self.next_tag += 1;
        format!("C{}", self.next_tag)
    }

    async fn read_capabilities(&mut self) -> Result<(), ImapError> {
        let caps = timed(
            &self.metrics,
            &self.server,
            self.timeout,
            Op::Login,
            "CAPABILITY",
            async {
                self.session
                    .capabilities()
                    .await
                    .map_err(|e| ImapError::from_imap(e, "CAPABILITY"))
            },
        )
        .await?;
        self.caps.uidplus = caps.has_str("UIDPLUS");
        self.caps.literal_plus = caps.has_str("LITERAL+");
        self.caps.multiappend = caps.has_str("MULTIAPPEND");
        self.caps.condstore = caps.has_str("CONDSTORE");
        self.caps.namespace = caps.has_str("NAMESPACE");
        for cap in caps.iter() {
            if let async_imap::types::Capability::Atom(atom) = cap
                && let Some(limit) = atom.strip_prefix("APPENDLIMIT=")
            {
                self.caps.append_limit = limit.parse().ok();
            }
        }
        Ok(())
    }

    /// Reads the personal namespace with a raw NAMESPACE command.
    ///
    /// imap-proto cannot parse NAMESPACE responses, so this writes the command
    /// and reads its lines directly; the connection is idle at this point, so
    /// no buffered response is skipped.
    async fn read_namespace(&mut self) -> Result<(), ImapError> {
        let tag = self.tag();
        let session = &mut self.session;
        let lines = timed(
            &self.metrics,
            &self.server,
            self.timeout,
            Op::List,
            "NAMESPACE",
            async {
                let raw = session.get_mut();
                raw.write_all(format!("{tag} NAMESPACE\r\n").as_bytes())
                    .await
                    .map_err(|e| ImapError::new(Kind::Connection, format!("NAMESPACE: {e}")))?;
                raw.flush()
                    .await
                    .map_err(|e| ImapError::new(Kind::Connection, format!("NAMESPACE: {e}")))?;
                let mut lines = Vec::new();
                loop {
                    let line = stream::read_line(raw, 1 << 20)
                        .await
                        .map_err(|e| ImapError::new(Kind::Connection, format!("NAMESPACE: {e}")))?;
                    let text = String::from_utf8_lossy(&line).into_owned();
                    if text.starts_with(&format!("{tag} ")) {
                        return Ok(lines);
                    }
                    lines.push(text);
                }
            },
        )
        .await?;
        if let Some(line) = lines.iter().find(|l| l.starts_with("* NAMESPACE"))
            && let Some((prefix, delimiter)) = parse_personal_namespace(line)
        {
            self.prefix = prefix;
            self.delimiter = delimiter;
        }
        Ok(())
    }

    /// Ends the session politely; errors are of no interest by then.
    pub async fn logout(mut self) {
        let _ = tokio::time::timeout(Duration::from_secs(5), self.session.logout()).await;
    }
}

async fn login_as(
    client: Client<Stream>,
    endpoint: &Endpoint,
    login: &str,
) -> Result<Session<Stream>, ImapError> {
    let refused = |e: async_imap::error::Error| {
        let mut err = ImapError::from_imap(e, &format!("login as {login}"));
        if matches!(err.category, Kind::ServerNo | Kind::ServerBad) {
            err.category = Kind::Authentication;
        }
        err
    };
    match &endpoint.auth {
        Auth::User { passwords } => {
            let Some(password) = passwords.get(login) else {
                return Err(ImapError::new(
                    Kind::Authentication,
                    format!(
                        "no password for {login} in the {} passwords-file",
                        endpoint.side.as_str()
                    ),
                ));
            };
            client
                .login(login, password.expose())
                .await
                .map_err(|(e, _)| refused(e))
        }
        Auth::Master {
            user,
            method: MasterMethod::Login,
            separator,
            password,
        } => client
            .login(format!("{login}{separator}{user}"), password.expose())
            .await
            .map_err(|(e, _)| refused(e)),
        Auth::Master {
            user,
            method: MasterMethod::Plain,
            password,
            ..
        } => {
            let plain = auth::Plain {
                authzid: login,
                authcid: user,
                password: password.expose(),
            };
            client
                .authenticate("PLAIN", plain)
                .await
                .map_err(|(e, _)| refused(e))
        }
    }
}

/// Extracts the first personal namespace: `* NAMESPACE (("INBOX." ".")) NIL NIL`.
fn parse_personal_namespace(line: &str) -> Option<(String, Option<char>)> {
    let rest = line.strip_prefix("* NAMESPACE ")?.trim_start();
    let rest = rest.strip_prefix("((")?;
    let (prefix, rest) = quoted(rest)?;
    let rest = rest.trim_start();
    let delimiter = if rest.starts_with("NIL") {
        None
    } else {
        quoted(rest)?.0.chars().next()
    };
    Some((prefix, delimiter))
}

/// Reads one quoted string from the start of `s`.
fn quoted(s: &str) -> Option<(String, &str)> {
    let s = s.strip_prefix('"')?;
    let mut out = String::new();
    let mut chars = s.char_indices();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' => out.push(chars.next()?.1),
            '"' => return Some((out, &s[i + 1..])),
            c => out.push(c),
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::parse_personal_namespace;

    #[test]
    fn namespace_lines() {
        assert_eq!(
            parse_personal_namespace("* NAMESPACE ((\"\" \"/\")) NIL NIL\r\n"),
            Some((String::new(), Some('/')))
        );
        assert_eq!(
            parse_personal_namespace("* NAMESPACE ((\"INBOX.\" \".\")) NIL ((\"#shared/\" \"/\"))"),
            Some(("INBOX.".into(), Some('.')))
        );
        assert_eq!(parse_personal_namespace("* NAMESPACE NIL NIL NIL"), None);
    }
}
