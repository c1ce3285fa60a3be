//! The journal's tables, created and upgraded in numbered steps.

use rusqlite::Connection;

/// Each step runs once, in order; the number reached is kept in `user_version`.
const STEPS: &[&str] = &[
    // 1: mailboxes, folders, messages, manifests, events.
    "CREATE TABLE mailboxes (
        source TEXT PRIMARY KEY,
        destination TEXT NOT NULL,
        tenant TEXT NOT NULL,
        wave TEXT NOT NULL,
        phase TEXT NOT NULL DEFAULT 'pending',
        presynced INTEGER NOT NULL DEFAULT 0,
        error_category TEXT,
        error_text TEXT,
        root_digest TEXT,
        cutover INTEGER NOT NULL DEFAULT 0,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE folders (
        mailbox TEXT NOT NULL,
        path TEXT NOT NULL,
        dst_path TEXT NOT NULL,
        src_uidvalidity INTEGER NOT NULL,
        src_uidnext INTEGER NOT NULL,
        src_exists INTEGER NOT NULL,
        src_modseq INTEGER,
        dst_uidvalidity INTEGER,
        complete INTEGER NOT NULL DEFAULT 0,
        PRIMARY KEY (mailbox, path)
    );
    CREATE TABLE messages (
        id INTEGER PRIMARY KEY,
        mailbox TEXT NOT NULL,
        folder TEXT NOT NULL,
        src_uidvalidity INTEGER NOT NULL,
        src_uid INTEGER NOT NULL,
        size INTEGER NOT NULL,
        sha256 TEXT,
        canonical TEXT,
        flags TEXT NOT NULL DEFAULT '',
        internal_date TEXT,
        dst_uidvalidity INTEGER,
        dst_uid INTEGER,
        intent_uidnext INTEGER,
        state TEXT NOT NULL,
        error_category TEXT,
        error_text TEXT,
        UNIQUE (mailbox, folder, src_uidvalidity, src_uid)
    );
    CREATE INDEX messages_by_folder ON messages (mailbox, folder, state);
    CREATE TABLE manifests (
        mailbox TEXT PRIMARY KEY,
        root_digest TEXT NOT NULL,
        verified INTEGER NOT NULL,
        body TEXT NOT NULL,
        created_at TEXT NOT NULL
    );
    CREATE TABLE events (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        kind TEXT NOT NULL,
        wave TEXT,
        mailbox TEXT,
        text TEXT NOT NULL
    );",
    // 2: waves, operator audit, maintenance window extensions, cutover lists.
    "CREATE TABLE waves (
        name TEXT PRIMARY KEY,
        phase TEXT NOT NULL DEFAULT 'planned',
        reason TEXT,
        cutover_at TEXT,
        updated_at TEXT NOT NULL
    );
    CREATE TABLE audit (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        uid INTEGER NOT NULL,
        user TEXT NOT NULL,
        role TEXT NOT NULL,
        action TEXT NOT NULL,
        arguments TEXT NOT NULL,
        decision TEXT NOT NULL,
        reason TEXT
    );
    CREATE TABLE window_extensions (
        id INTEGER PRIMARY KEY,
        at TEXT NOT NULL,
        minutes INTEGER NOT NULL,
        reason TEXT NOT NULL,
        user TEXT NOT NULL
    );
    CREATE TABLE flags (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    CREATE TABLE reverse_messages (
        mailbox TEXT NOT NULL,
        folder TEXT NOT NULL,
        dst_uidvalidity INTEGER NOT NULL,
        dst_uid INTEGER NOT NULL,
        src_uid INTEGER,
        canonical TEXT NOT NULL,
        PRIMARY KEY (mailbox, folder, dst_uidvalidity, dst_uid)
    );",
    // 3: runbook steps.
    "CREATE TABLE steps (
        wave TEXT NOT NULL,
        step INTEGER NOT NULL,
        title TEXT NOT NULL,
        done INTEGER NOT NULL DEFAULT 0,
        ticked_by TEXT,
        ticked_at TEXT,
        check_exit INTEGER,
        check_output TEXT,
        checked_at TEXT,
        PRIMARY KEY (wave, step)
    );",
];

pub fn migrate(conn: &Connection) -> rusqlite::Result<()> {
    let done: usize = conn.pragma_query_value(None, "user_version", |r| r.get(0))?;
    for (i, step) in STEPS.iter().enumerate().skip(done) {
        conn.execute_batch(&format!(
            "BEGIN; {step}; PRAGMA user_version = {}; COMMIT;",
            i + 1
        ))?;
    }
    Ok(())
}
