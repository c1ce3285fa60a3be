//! Putting frames on a terminal cheaply: a frame is drawn off screen first
//! and reaches the terminal only when some cell differs from what is
//! already shown, as one write inside a synchronized update. An idle war
//! room sends nothing at all; a busy one sends only the changed cells.

use std::io::{self, Write};

use chrono::{DateTime, Utc};
use crossterm::queue;
use crossterm::terminal::{BeginSynchronizedUpdate, EndSynchronizedUpdate};
use ratatui::backend::{CrosstermBackend, TestBackend};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use ratatui::{Terminal, TerminalOptions, Viewport};

use super::TuiOptions;
use super::layout::render_frame;
use super::view::ViewState;
use crate::engine::{ConnectionState, Snapshot};

/// Holds a frame's bytes until the backend flushes, then writes them in
/// one piece between the begin and end of a synchronized update, so a
/// terminal never shows half a frame and a slow link gets one packet.
pub struct SyncedWriter<W: Write> {
    inner: W,
    pending: Vec<u8>,
}

impl<W: Write> SyncedWriter<W> {
    pub fn new(inner: W) -> Self {
        SyncedWriter {
            inner,
            pending: Vec::new(),
        }
    }
}

impl<W: Write> Write for SyncedWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.pending.extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.pending.is_empty() {
            return Ok(());
        }
        let mut frame = Vec::with_capacity(self.pending.len() + 16);
        queue!(frame, BeginSynchronizedUpdate)?;
        frame.append(&mut self.pending);
        queue!(frame, EndSynchronizedUpdate)?;
        self.inner.write_all(&frame)?;
        self.inner.flush()
    }
}

/// A terminal plus the frame it currently shows.
pub struct Screen<W: Write> {
    terminal: Terminal<CrosstermBackend<SyncedWriter<W>>>,
    scratch: Terminal<TestBackend>,
    /// The size to draw at when it is not the real terminal's.
    fixed: Option<Rect>,
    shown: Option<Buffer>,
}

impl<W: Write> Screen<W> {
    /// The whole terminal, following its size.
    ///
    /// # Errors
    /// The terminal's size cannot be read.
    pub fn fullscreen(writer: W) -> io::Result<Self> {
        let terminal = Terminal::new(CrosstermBackend::new(SyncedWriter::new(writer)))?;
        Ok(Self::with(terminal, None))
    }

    /// A fixed size, for measuring and tests: no terminal is asked anything.
    ///
    /// # Errors
    /// Never in practice; the backend's constructor is fallible.
    pub fn fixed(writer: W, width: u16, height: u16) -> io::Result<Self> {
        let area = Rect::new(0, 0, width, height);
        let backend = CrosstermBackend::new(SyncedWriter::new(writer));
        let terminal = Terminal::with_options(
            backend,
            TerminalOptions {
                viewport: Viewport::Fixed(area),
            },
        )?;
        Ok(Self::with(terminal, Some(area)))
    }

    fn with(terminal: Terminal<CrosstermBackend<SyncedWriter<W>>>, fixed: Option<Rect>) -> Self {
        let Ok(scratch) = Terminal::new(TestBackend::new(1, 1));
        Screen {
            terminal,
            scratch,
            fixed,
            shown: None,
        }
    }

    /// Draws the frame if it differs from the one on screen; returns whether
    /// anything was sent.
    ///
    /// # Errors
    /// Writing to the terminal failed.
    pub fn draw(
        &mut self,
        snapshot: Option<&Snapshot>,
        view: &ViewState,
        opts: &TuiOptions,
        connection: &ConnectionState,
        now: DateTime<Utc>,
    ) -> io::Result<bool> {
        let area = match self.fixed {
            Some(area) => area,
            None => self.terminal.size()?.into(),
        };
        if self.scratch.backend().buffer().area != area {
            self.scratch.backend_mut().resize(area.width, area.height);
        }
        let Ok(completed) = self
            .scratch
            .draw(|f| render_frame(f, snapshot, view, opts, connection, now));
        let frame = completed.buffer.clone();
        if self.shown.as_ref() == Some(&frame) {
            return Ok(false);
        }
        self.terminal.draw(|f| {
            let target = f.buffer_mut();
            if target.area == frame.area {
                target.content.clone_from(&frame.content);
            } else {
                render_frame(f, snapshot, view, opts, connection, now);
            }
        })?;
        self.shown = Some(frame);
        Ok(true)
    }

    /// Clears the terminal and forgets what was on it, so the next frame
    /// is drawn whole. (Not `Terminal::clear`, which asks the terminal for
    /// the cursor position and would race the key reader for the answer.)
    ///
    /// # Errors
    /// Clearing the terminal failed.
    pub fn redraw_all(&mut self) -> io::Result<()> {
        self.shown = None;
        let area = match self.fixed {
            Some(area) => area,
            None => self.terminal.size()?.into(),
        };
        self.terminal.resize(area)
    }
}

/// Draws one frame off screen and returns its cells, for tests and for
/// printing the war room where there is no terminal.
#[must_use]
pub fn render_buffer(
    width: u16,
    height: u16,
    snapshot: Option<&Snapshot>,
    view: &ViewState,
    opts: &TuiOptions,
    connection: &ConnectionState,
    now: DateTime<Utc>,
) -> Buffer {
    let Ok(mut terminal) = Terminal::new(TestBackend::new(width, height));
    let Ok(completed) = terminal.draw(|f| render_frame(f, snapshot, view, opts, connection, now));
    completed.buffer.clone()
}

/// A buffer as plain text, one line per row, trailing blanks trimmed.
#[must_use]
pub fn buffer_text(buffer: &Buffer) -> String {
    let mut out = String::new();
    let width = usize::from(buffer.area.width);
    if width == 0 {
        return out;
    }
    for row in buffer.content.chunks(width) {
        let mut line = String::new();
        let mut hidden = 0;
        for cell in row {
            if hidden > 0 {
                hidden -= 1;
                continue;
            }
            line.push_str(cell.symbol());
            hidden = ratatui::text::Span::raw(cell.symbol())
                .width()
                .saturating_sub(1);
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}
