//! IMAP client side: connections, login, folders, FETCH and APPEND, with
//! every command timed per operation and server.
//!
//! Reading goes through async-imap. Its APPEND waits for each message, drops
//! the APPENDUID response code and the server's text on refusal, so
//! [`append`] writes APPEND itself on the same connection (MULTIAPPEND or
//! pipelined, LITERAL+ when offered) and parses the answers with imap-proto.

mod append;
mod auth;
mod error;
mod fetch;
mod folders;
mod session;
mod stream;

pub use append::Outgoing;
pub use error::{ImapError, classify_text};
pub use fetch::{FolderStatus, MessageMeta, uid_set};
pub use folders::{RemoteFolder, decode_mutf7, encode_mutf7};
pub use session::{Capabilities, Connection};

use crate::telemetry::Category as Kind;
