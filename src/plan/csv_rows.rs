//! Mailbox lists exported as CSV by hosting providers.
//!
//! Columns (header row, any order): `source`, `destination`, `tenant`, `wave`.
//! `destination` and `wave` may be empty.

use std::path::Path;

use super::diagnostic::Diagnostics;

/// One CSV row, with the line it came from.
pub struct CsvMailbox {
    pub line: usize,
    pub source: String,
    pub destination: Option<String>,
    pub tenant: String,
    pub wave: Option<String>,
}

/// Reads every row, recording a diagnostic per bad row and carrying on.
pub fn read(path: &Path, diags: &mut Diagnostics<'_>) -> Vec<CsvMailbox> {
    let mut reader = match csv::ReaderBuilder::new()
        .trim(csv::Trim::All)
        .from_path(path)
    {
        Ok(r) => r,
        Err(e) => {
            diags.at_line(path, 1, format!("cannot read mailbox CSV: {e}"), None);
            return Vec::new();
        }
    };
    let headers = match reader.headers() {
        Ok(h) => h.clone(),
        Err(e) => {
            diags.at_line(path, 1, format!("bad CSV header: {e}"), None);
            return Vec::new();
        }
    };
    let column = |name: &str| headers.iter().position(|h| h.eq_ignore_ascii_case(name));
    let (Some(src), Some(tenant)) = (column("source"), column("tenant")) else {
        diags.at_line(
            path,
            1,
            "the header row lacks a `source` or `tenant` column",
            Some("expected a header like: source,destination,tenant,wave"),
        );
        return Vec::new();
    };
    let dst = column("destination");
    let wave = column("wave");

    let mut rows = Vec::new();
    for record in reader.records() {
        let record = match record {
            Ok(r) => r,
            Err(e) => {
                let line = e
                    .position()
                    .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
                diags.at_line(path, line, format!("bad CSV row: {e}"), None);
                continue;
            }
        };
        let line = record
            .position()
            .map_or(0, |p| usize::try_from(p.line()).unwrap_or(0));
        let get = |i: Option<usize>| {
            i.and_then(|i| record.get(i))
                .filter(|v| !v.is_empty())
                .map(str::to_owned)
        };
        let Some(source) = get(Some(src)) else {
            diags.at_line(path, line, "row has an empty `source` login", None);
            continue;
        };
        let Some(tenant_name) = get(Some(tenant)) else {
            diags.at_line(path, line, format!("mailbox {source} has no tenant"), None);
            continue;
        };
        rows.push(CsvMailbox {
            line,
            source,
            destination: get(dst),
            tenant: tenant_name,
            wave: get(wave),
        });
    }
    rows
}
