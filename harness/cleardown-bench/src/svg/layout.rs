//! Where the plot's value labels go: beside their point, inside the plot
//! area with a margin, and over nothing else that is drawn (a line, a
//! whisker, a marker, the legend, another label). Lines are sampled every
//! two pixels, so a label is tried against points, not segments.

/// An axis-aligned box in pixels.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Rect {
    pub(super) x0: f64,
    pub(super) y0: f64,
    pub(super) x1: f64,
    pub(super) y1: f64,
}

impl Rect {
    /// The box of radius `r` around `(x, y)`.
    pub(super) fn around(x: f64, y: f64, r: f64) -> Rect {
        Rect {
            x0: x - r,
            y0: y - r,
            x1: x + r,
            y1: y + r,
        }
    }

    fn overlaps(&self, other: &Rect) -> bool {
        self.x0 < other.x1 && other.x0 < self.x1 && self.y0 < other.y1 && other.y0 < self.y1
    }

    fn holds(&self, (x, y): (f64, f64)) -> bool {
        (self.x0..=self.x1).contains(&x) && (self.y0..=self.y1).contains(&y)
    }

    fn within(&self, outer: &Rect) -> bool {
        self.x0 >= outer.x0 && self.x1 <= outer.x1 && self.y0 >= outer.y0 && self.y1 <= outer.y1
    }
}

/// What a label must stay clear of, and the area it must stay inside.
pub(super) struct Layout {
    area: Rect,
    points: Vec<(f64, f64)>,
    boxes: Vec<Rect>,
}

/// Where a label goes: its anchor point and `text-anchor`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct Placed {
    pub(super) x: f64,
    pub(super) y: f64,
    pub(super) anchor: &'static str,
    /// No free place was found: it is drawn with a white halo instead.
    pub(super) crowded: bool,
}

/// The width of `text` at the labels' 11 px sans-serif, generously.
fn text_width(text: &str) -> f64 {
    text.chars().count() as f64 * 6.6
}

impl Layout {
    /// Labels inside `area`, kept `margin` pixels from its edges.
    pub(super) fn new(area: Rect, margin: f64) -> Layout {
        Layout {
            area: Rect {
                x0: area.x0 + margin,
                y0: area.y0 + margin,
                x1: area.x1 - margin,
                y1: area.y1 - margin,
            },
            points: Vec::new(),
            boxes: Vec::new(),
        }
    }

    /// A drawn line through `points`.
    pub(super) fn line(&mut self, points: &[(f64, f64)]) {
        for pair in points.windows(2) {
            let ((ax, ay), (bx, by)) = (pair[0], pair[1]);
            let steps = ((bx - ax).hypot(by - ay) / 2.0).ceil().max(1.0) as usize;
            for step in 0..=steps {
                let t = step as f64 / steps as f64;
                self.points.push((ax + t * (bx - ax), ay + t * (by - ay)));
            }
        }
        if let [only] = points {
            self.points.push(*only);
        }
    }

    /// A drawn box (a marker, the legend).
    pub(super) fn block(&mut self, rect: Rect) {
        self.boxes.push(rect);
    }

    fn free(&self, rect: &Rect) -> bool {
        rect.within(&self.area)
            && !self.boxes.iter().any(|b| b.overlaps(rect))
            && !self.points.iter().any(|p| rect.holds(*p))
    }

    /// A place for `text` beside the point `(x, y)`, tried above left,
    /// above right, below right, below left, level with it, then further
    /// out; the place taken is blocked for later labels.
    pub(super) fn place(&mut self, (x, y): (f64, f64), text: &str) -> Placed {
        let width = text_width(text);
        let candidates = [
            (-9.0, -9.0, "end"),
            (9.0, -9.0, "start"),
            (9.0, 18.0, "start"),
            (-9.0, 18.0, "end"),
            (11.0, 4.0, "start"),
            (-11.0, 4.0, "end"),
            (0.0, -14.0, "middle"),
            (0.0, 24.0, "middle"),
            // Further out, for a point with lines leaving it every way.
            (9.0, 34.0, "start"),
            (-9.0, 34.0, "end"),
            (9.0, -24.0, "start"),
            (-9.0, -24.0, "end"),
            (0.0, 40.0, "middle"),
            (0.0, -30.0, "middle"),
        ];
        let boxed = |(dx, dy, anchor): (f64, f64, &str)| {
            let (lx, ly) = (x + dx, y + dy);
            let x0 = match anchor {
                "end" => lx - width,
                "middle" => lx - width / 2.0,
                _ => lx,
            };
            Rect {
                x0: x0 - 1.0,
                y0: ly - 10.0,
                x1: x0 + width + 1.0,
                y1: ly + 3.0,
            }
        };
        let chosen = candidates
            .iter()
            .map(|c| (*c, boxed(*c)))
            .find(|(_, rect)| self.free(rect))
            .map(|(c, rect)| (c, rect, false))
            .unwrap_or_else(|| {
                let inside = candidates
                    .iter()
                    .map(|c| (*c, boxed(*c)))
                    .find(|(_, rect)| rect.within(&self.area))
                    .unwrap_or((candidates[0], boxed(candidates[0])));
                (inside.0, inside.1, true)
            });
        let ((dx, dy, anchor), rect, crowded) = chosen;
        self.boxes.push(rect);
        Placed {
            x: x + dx,
            y: y + dy,
            anchor,
            crowded,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn area() -> Rect {
        Rect {
            x0: 0.0,
            y0: 0.0,
            x1: 400.0,
            y1: 300.0,
        }
    }

    #[test]
    fn a_label_avoids_a_line_through_its_first_place() {
        let mut layout = Layout::new(area(), 4.0);
        // A line running up-left from the point through "above left".
        layout.line(&[(200.0, 150.0), (120.0, 130.0)]);
        let placed = layout.place((200.0, 150.0), "1.00 µs");
        assert_eq!(placed.anchor, "start", "{placed:?}");
        assert!(!placed.crowded);
    }

    #[test]
    fn a_label_stays_off_the_frame() {
        let mut layout = Layout::new(area(), 4.0);
        // At the left edge: nothing may end left of it.
        let placed = layout.place((6.0, 150.0), "10.0 µs");
        assert_ne!(placed.anchor, "end", "{placed:?}");
        // At the top right corner: below and to the left.
        let placed = layout.place((398.0, 2.0), "10.0 µs");
        assert!(placed.y > 2.0 && placed.anchor == "end", "{placed:?}");
    }

    #[test]
    fn labels_do_not_cover_each_other_or_markers() {
        let mut layout = Layout::new(area(), 4.0);
        layout.block(Rect::around(200.0, 150.0, 5.0));
        let first = layout.place((200.0, 150.0), "one label");
        let second = layout.place((200.0, 150.0), "two label");
        assert_ne!((first.x, first.y), (second.x, second.y));
    }
}
