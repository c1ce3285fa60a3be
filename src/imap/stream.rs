//! TCP and TLS transport for IMAP, with certificate verification always on.
//!
//! `tls` verifies against the system's web PKI roots, or only against the
//! plan's `ca-file` when one is given (private CAs and test servers).

use std::fmt;
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

use rustls::RootCertStore;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::{ImapError, Kind};
use crate::plan::{Endpoint, Security};

/// A connection to an IMAP server, plain or TLS.
pub enum Stream {
    Plain(TcpStream),
    Tls(Box<TlsStream<TcpStream>>),
}

impl fmt::Debug for Stream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Stream::Plain(_) => f.write_str("Stream::Plain"),
            Stream::Tls(_) => f.write_str("Stream::Tls"),
        }
    }
}

impl AsyncRead for Stream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_read(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_read(cx, buf),
        }
    }
}

impl AsyncWrite for Stream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_write(cx, buf),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_write(cx, buf),
        }
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_flush(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_flush(cx),
        }
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        match self.get_mut() {
            Stream::Plain(s) => Pin::new(s).poll_shutdown(cx),
            Stream::Tls(s) => Pin::new(s.as_mut()).poll_shutdown(cx),
        }
    }
}

/// Opens the transport. For `starttls` this reads the greeting and upgrades,
/// so the caller must not expect a second greeting; the returned flag says
/// whether the greeting is still unread.
pub async fn open(endpoint: &Endpoint) -> Result<(Stream, bool), ImapError> {
    let address = endpoint.address();
    let tcp = tokio::time::timeout(endpoint.timeout, TcpStream::connect(&address))
        .await
        .map_err(|_| ImapError::new(Kind::Timeout, format!("connecting to {address} timed out")))?
        .map_err(|e| {
            ImapError::new(
                Kind::Connection,
                format!("cannot connect to {address}: {e}"),
            )
        })?;
    tcp.set_nodelay(true).ok();

    match endpoint.security {
        Security::Plain => Ok((Stream::Plain(tcp), true)),
        Security::Tls => Ok((Stream::Tls(Box::new(handshake(endpoint, tcp).await?)), true)),
        Security::StartTls => {
            let mut tcp = tcp;
            starttls(&mut tcp, endpoint.timeout).await?;
            Ok((
                Stream::Tls(Box::new(handshake(endpoint, tcp).await?)),
                false,
            ))
        }
    }
}

async fn handshake(endpoint: &Endpoint, tcp: TcpStream) -> Result<TlsStream<TcpStream>, ImapError> {
    let config = client_config(endpoint)?;
    let name = ServerName::try_from(endpoint.host.clone()).map_err(|e| {
        ImapError::new(
            Kind::Tls,
            format!("bad TLS server name {}: {e}", endpoint.host),
        )
    })?;
    let connector = TlsConnector::from(Arc::new(config));
    tokio::time::timeout(endpoint.timeout, connector.connect(name, tcp))
        .await
        .map_err(|_| ImapError::new(Kind::Timeout, "TLS handshake timed out"))?
        .map_err(|e| {
            ImapError::new(
                Kind::Tls,
                format!(
                    "TLS handshake with {} failed: {e} (a private or self-signed certificate needs \
                     the plan's ca-file)",
                    endpoint.address()
                ),
            )
        })
}

fn client_config(endpoint: &Endpoint) -> Result<rustls::ClientConfig, ImapError> {
    let mut roots = RootCertStore::empty();
    match &endpoint.ca_file {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path).map_err(|e| {
                ImapError::new(
                    Kind::Tls,
                    format!("cannot read CA file {}: {e}", path.display()),
                )
            })?;
            for cert in certs {
                let cert = cert.map_err(|e| {
                    ImapError::new(
                        Kind::Tls,
                        format!("bad certificate in {}: {e}", path.display()),
                    )
                })?;
                roots.add(cert).map_err(|e| {
                    ImapError::new(
                        Kind::Tls,
                        format!("unusable certificate in {}: {e}", path.display()),
                    )
                })?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    Ok(rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| ImapError::new(Kind::Tls, e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth())
}

/// Reads one CRLF-terminated line byte by byte, so nothing past it is consumed.
pub async fn read_line<S: AsyncRead + Unpin>(stream: &mut S, limit: usize) -> io::Result<Vec<u8>> {
    let mut line = Vec::with_capacity(128);
    loop {
        let byte = stream.read_u8().await?;
        line.push(byte);
        if line.ends_with(b"\r\n") {
            return Ok(line);
        }
        if line.len() > limit {
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "response line too long",
            ));
        }
    }
}

async fn starttls(tcp: &mut TcpStream, wait: Duration) -> Result<(), ImapError> {
    let exchange = async {
        let refused = |line: &[u8]| -> io::Result<Result<(), String>> {
            Ok(Err(String::from_utf8_lossy(line).trim().to_owned()))
        };
        let greeting = read_line(tcp, 64 * 1024).await?;
        if !greeting.starts_with(b"* OK") {
            return refused(&greeting);
        }
        tcp.write_all(b"S0 STARTTLS\r\n").await?;
        loop {
            let line = read_line(tcp, 64 * 1024).await?;
            if line.starts_with(b"S0 OK") {
                return Ok(Ok(()));
            }
            if line.starts_with(b"S0 ") {
                return refused(&line);
            }
        }
    };
    match tokio::time::timeout(wait, exchange).await {
        Err(_) => Err(ImapError::new(Kind::Timeout, "STARTTLS timed out")),
        Ok(Err(e)) => Err(ImapError::new(Kind::Connection, format!("STARTTLS: {e}"))),
        Ok(Ok(Err(text))) => Err(ImapError::new(
            Kind::Tls,
            format!("server refused STARTTLS: {text}"),
        )),
        Ok(Ok(Ok(()))) => Ok(()),
    }
}
