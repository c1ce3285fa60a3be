//! `cutover check --connect`: log in to every mailbox on both sides and count
//! what is there, copying nothing.

use serde::Serialize;

use crate::imap::Connection;
use crate::plan::{Endpoint, Mailbox};

use super::context::Context;
use super::error::Result;

/// What one side of one mailbox looks like.
#[derive(Debug, Clone, Serialize)]
pub struct SideProbe {
    pub ok: bool,
    pub error: Option<String>,
    pub folders: usize,
    pub messages: u64,
}

/// Both sides of one mailbox.
#[derive(Debug, Clone, Serialize)]
pub struct MailboxProbe {
    pub mailbox: String,
    pub source: SideProbe,
    pub destination: SideProbe,
}

/// Probes one mailbox on both servers.
pub async fn probe_mailbox(ctx: &Context, mailbox: &Mailbox) -> MailboxProbe {
    MailboxProbe {
        mailbox: mailbox.source.clone(),
        source: side(ctx, &ctx.plan.source, &mailbox.source).await,
        destination: side(ctx, &ctx.plan.destination, &mailbox.destination).await,
    }
}

async fn side(ctx: &Context, endpoint: &Endpoint, login: &str) -> SideProbe {
    match count(ctx, endpoint, login).await {
        Ok((folders, messages)) => SideProbe {
            ok: true,
            error: None,
            folders,
            messages,
        },
        Err(e) => SideProbe {
            ok: false,
            error: Some(e.to_string()),
            folders: 0,
            messages: 0,
        },
    }
}

async fn count(ctx: &Context, endpoint: &Endpoint, login: &str) -> Result<(usize, u64)> {
    let mut conn = Connection::open(endpoint, login, ctx.metrics.clone()).await?;
    let folders = conn.list_folders().await?;
    let mut messages = 0u64;
    let mut selectable = 0;
    for folder in folders.iter().filter(|f| f.selectable) {
        selectable += 1;
        messages += u64::from(conn.status(&folder.wire).await?.exists);
    }
    conn.logout().await;
    Ok((selectable, messages))
}
