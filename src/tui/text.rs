//! Fitting pieces of a line into the width there is, dropping the least
//! important pieces first instead of cutting the important ones.

use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

/// A piece of a line; lower `rank` is more important.
pub struct Piece<'a> {
    pub rank: u8,
    pub spans: Vec<Span<'a>>,
}

impl<'a> Piece<'a> {
    pub fn new(rank: u8, spans: Vec<Span<'a>>) -> Self {
        Piece { rank, spans }
    }

    fn width(&self) -> usize {
        self.spans.iter().map(Span::width).sum()
    }
}

/// Joins pieces with `separator`, leaving out the least important ones
/// until the rest fits in `width` columns. The order is kept.
pub fn fit<'a>(mut pieces: Vec<Piece<'a>>, separator: &Span<'a>, width: usize) -> Line<'a> {
    let total = |pieces: &[Piece]| {
        let gaps = pieces.len().saturating_sub(1) * separator.width();
        pieces.iter().map(Piece::width).sum::<usize>() + gaps
    };
    while total(&pieces) > width && pieces.len() > 1 {
        let Some(worst) = pieces.iter().map(|p| p.rank).max() else {
            break;
        };
        let Some(at) = pieces.iter().rposition(|p| p.rank == worst) else {
            break;
        };
        pieces.remove(at);
    }
    let mut spans = Vec::new();
    for (i, piece) in pieces.into_iter().enumerate() {
        if i > 0 {
            spans.push(separator.clone());
        }
        spans.extend(piece.spans);
    }
    Line::from(spans)
}

/// A `width` x `height` box in the middle of `area`, shrunk to fit it.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let width = width.min(area.width);
    let height = height.min(area.height);
    Rect {
        x: area.x + (area.width - width) / 2,
        y: area.y + (area.height - height) / 2,
        width,
        height,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn drops_the_least_important_first() {
        let pieces = vec![
            Piece::new(0, vec![Span::raw("window 22:00Z")]),
            Piece::new(2, vec![Span::raw("+30m")]),
            Piece::new(1, vec![Span::raw("2h left")]),
        ];
        let line = fit(pieces, &Span::raw(" | "), 24);
        assert_eq!(line.to_string(), "window 22:00Z | 2h left");
    }
}
