//! The plot: a self-contained SVG of median drop latency against N, both
//! axes logarithmic, with the median per affected call and, when a baseline
//! is compared, the baseline's medians dashed.

use std::fmt::Write as _;

mod layout;

use layout::{Layout, Rect};

use crate::{BenchResult, Comparison, baseline::Baseline, render};

const WIDTH: f64 = 760.0;
const HEIGHT: f64 = 470.0;
const LEFT: f64 = 86.0;
const RIGHT: f64 = 24.0;
const TOP: f64 = 62.0;
const BOTTOM: f64 = 64.0;
const MEDIAN: &str = "#1f77b4";
const PER_CALL: &str = "#d62728";
const BASELINE: &str = "#6f6f6f";
const REGRESSED: &str = "#e6550d";
/// Half the width of a whisker's caps: wider than a median's marker, so a
/// whisker shorter than the marker still shows.
const CAP: f64 = 8.0;
const MARKER: f64 = 4.5;

/// A whole SVG document: median latency (with min–p90 whiskers) and median
/// per affected call against N on log-log axes; `baseline`'s medians
/// dashed, and the sizes `comparison` found regressed ringed and labelled
/// with their change.
pub fn svg(
    result: &BenchResult,
    baseline: Option<&Baseline>,
    comparison: Option<&Comparison>,
) -> String {
    let ns: Vec<f64> = result.sizes.iter().map(|s| s.n as f64).collect();
    let mut values: Vec<f64> = Vec::new();
    for s in &result.sizes {
        values.extend([s.summary.min_ns, s.summary.p90_ns, s.per_call_ns].map(|v| v as f64));
    }
    if let Some(b) = baseline {
        values.extend(b.sizes.iter().map(|s| s.median_ns as f64));
    }
    let x = Axis::decades(&ns, LEFT, WIDTH - RIGHT, (0.12, 0.12));
    let y = Axis::decades(&values, HEIGHT - BOTTOM, TOP, (0.12, 0.3));

    let p = &result.provider;
    let mut out = String::new();
    let _ = writeln!(out, r#"<?xml version="1.0" encoding="UTF-8"?>"#);
    let _ = writeln!(
        out,
        r#"<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">"#
    );
    let title = format!(
        "Drop cascade latency (SPEC C1): {} {}, config {}, address {}",
        p.name,
        p.version,
        render::config(&p.config),
        p.address
    );
    let _ = writeln!(out, "<title>{}</title>", escape(&title));
    let _ = writeln!(
        out,
        r#"<rect x="0" y="0" width="{WIDTH}" height="{HEIGHT}" fill="white"/>"#
    );
    let _ = writeln!(
        out,
        r#"<text x="{}" y="22" text-anchor="middle" font-size="15" font-weight="bold">{}</text>"#,
        WIDTH / 2.0,
        escape(&title)
    );
    let _ = writeln!(
        out,
        r##"<text x="{}" y="40" text-anchor="middle" fill="#444">{}</text>"##,
        WIDTH / 2.0,
        escape(&format!(
            "median of {} per N after {}; whiskers from min to p90; time from the drop until the app read its Reply",
            render::count(result.samples, "sample"),
            render::count(result.warmup, "warm-up")
        ))
    );

    // Grid, ticks and tick labels.
    // Minor grid lines light, major ones darker, each group in one <g>.
    for (stroke, xs, ys) in [
        ("#e6e6e6", x.minor(), y.minor()),
        ("#bdbdbd", x.major(), y.major()),
    ] {
        let _ = writeln!(out, r#"<g stroke="{stroke}" stroke-width="1">"#);
        for value in xs {
            let px = x.at(value);
            let _ = writeln!(
                out,
                r#"<line x1="{px:.1}" y1="{TOP}" x2="{px:.1}" y2="{:.1}"/>"#,
                HEIGHT - BOTTOM
            );
        }
        for value in ys {
            let py = y.at(value);
            let _ = writeln!(
                out,
                r#"<line x1="{LEFT}" y1="{py:.1}" x2="{:.1}" y2="{py:.1}"/>"#,
                WIDTH - RIGHT
            );
        }
        out.push_str("</g>\n");
    }
    out.push_str("<g fill=\"#222\">\n");
    for value in x.major() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">{}</text>"#,
            x.at(value),
            HEIGHT - BOTTOM + 18.0,
            count_label(value)
        );
    }
    for value in y.major() {
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="end">{}</text>"#,
            LEFT - 8.0,
            y.at(value) + 4.0,
            escape(&time_label(value))
        );
    }
    out.push_str("</g>\n");
    let _ = writeln!(
        out,
        r##"<rect x="{LEFT}" y="{TOP}" width="{:.1}" height="{:.1}" fill="none" stroke="#222"/>"##,
        WIDTH - RIGHT - LEFT,
        HEIGHT - BOTTOM - TOP
    );
    let _ = writeln!(
        out,
        r#"<text x="{:.1}" y="{:.1}" text-anchor="middle">conference size N (parties; log scale)</text>"#,
        (LEFT + WIDTH - RIGHT) / 2.0,
        HEIGHT - 18.0
    );
    let mid_y = (TOP + HEIGHT - BOTTOM) / 2.0;
    let _ = writeln!(
        out,
        r#"<text x="20" y="{mid_y:.1}" text-anchor="middle" transform="rotate(-90 20 {mid_y:.1})">latency (ns, µs, ms; log scale)</text>"#
    );

    // The baseline, dashed, under the run.
    if let Some(b) = baseline {
        let points: Vec<(f64, f64)> = b
            .sizes
            .iter()
            .map(|s| (x.at(s.n as f64), y.at(s.median_ns as f64)))
            .collect();
        polyline(&mut out, &points, BASELINE, 1.5, Some("6 4"));
        for (size, (px, py)) in b.sizes.iter().zip(&points) {
            let _ = writeln!(
                out,
                r#"<circle cx="{px:.1}" cy="{py:.1}" r="3.5" fill="white" stroke="{BASELINE}" stroke-width="1.5"><title>baseline N={}: median {}</title></circle>"#,
                size.n,
                escape(&render::duration(size.median_ns))
            );
        }
    }

    let plot_area = Rect {
        x0: LEFT,
        y0: TOP,
        x1: WIDTH - RIGHT,
        y1: HEIGHT - BOTTOM,
    };
    let mut layout = Layout::new(plot_area, 4.0);

    // The legend's box first: labels keep off it.
    let mut entries: Vec<(&str, Option<&str>, String)> = vec![
        (
            MEDIAN,
            None,
            "median drop latency (whiskers: min to p90)".to_owned(),
        ),
        (
            PER_CALL,
            None,
            "median per affected call (median / calls)".to_owned(),
        ),
    ];
    if let Some(b) = baseline {
        entries.push((
            BASELINE,
            Some("6 4"),
            format!(
                "baseline `{}`: {} {}, config {}",
                b.name,
                b.provider.name,
                b.provider.version,
                render::config(&b.provider.config)
            ),
        ));
    }
    let regressions: Vec<&crate::baseline::Change> = comparison
        .map(|c| c.regressions().collect())
        .unwrap_or_default();
    if let Some(c) = comparison.filter(|_| !regressions.is_empty()) {
        entries.push((
            REGRESSED,
            None,
            format!(
                "regressed: more than {}% slower than the baseline",
                percent(c.threshold_pct)
            ),
        ));
    }
    let legend = Rect {
        x0: LEFT + 10.0,
        y0: TOP + 10.0,
        x1: LEFT
            + 10.0
            + 12.0
            + 36.0
            + entries
                .iter()
                .map(|(_, _, text)| text.chars().count() as f64 * 6.6)
                .fold(0.0, f64::max),
        y1: TOP + 10.0 + 8.0 + 18.0 * entries.len() as f64,
    };
    layout.block(legend);

    // Where everything goes, so the labels can keep clear of it.
    let per_call: Vec<(f64, f64)> = result
        .sizes
        .iter()
        .map(|s| (x.at(s.n as f64), y.at(s.per_call_ns as f64)))
        .collect();
    let medians: Vec<(f64, f64)> = result
        .sizes
        .iter()
        .map(|s| (x.at(s.n as f64), y.at(s.summary.median_ns as f64)))
        .collect();
    let whiskers: Vec<(f64, f64, f64)> = result
        .sizes
        .iter()
        .map(|s| {
            (
                x.at(s.n as f64),
                y.at(s.summary.min_ns as f64),
                y.at(s.summary.p90_ns as f64),
            )
        })
        .collect();
    layout.line(&per_call);
    layout.line(&medians);
    if let Some(b) = baseline {
        let points: Vec<(f64, f64)> = b
            .sizes
            .iter()
            .map(|s| (x.at(s.n as f64), y.at(s.median_ns as f64)))
            .collect();
        layout.line(&points);
        for point in points {
            layout.block(Rect::around(point.0, point.1, 4.0));
        }
    }
    for (px, lo, hi) in &whiskers {
        layout.line(&[(*px, *lo), (*px, *hi)]);
        layout.block(Rect {
            x0: px - CAP,
            y0: lo - 1.0,
            x1: px + CAP,
            y1: lo + 1.0,
        });
        layout.block(Rect {
            x0: px - CAP,
            y0: hi - 1.0,
            x1: px + CAP,
            y1: hi + 1.0,
        });
    }
    for (px, py) in per_call.iter().chain(&medians) {
        layout.block(Rect::around(*px, *py, MARKER + 1.0));
    }

    // Per affected call.
    polyline(&mut out, &per_call, PER_CALL, 1.5, None);
    for (s, (px, py)) in result.sizes.iter().zip(&per_call) {
        let _ = writeln!(
            out,
            r#"<rect x="{:.1}" y="{:.1}" width="7" height="7" fill="{PER_CALL}"><title>N={}: {} per affected call ({} calls)</title></rect>"#,
            px - 3.5,
            py - 3.5,
            s.n,
            escape(&render::duration(s.per_call_ns)),
            s.calls
        );
    }

    // The medians, their whiskers on top of the markers, labelled.
    polyline(&mut out, &medians, MEDIAN, 2.0, None);
    for (s, (px, py)) in result.sizes.iter().zip(&medians) {
        let _ = writeln!(
            out,
            r#"<circle cx="{px:.1}" cy="{py:.1}" r="{MARKER}" fill="{MEDIAN}"><title>N={}: median {}, min {}, p90 {}, {} per affected call</title></circle>"#,
            s.n,
            escape(&render::duration(s.summary.median_ns)),
            escape(&render::duration(s.summary.min_ns)),
            escape(&render::duration(s.summary.p90_ns)),
            escape(&render::duration(s.per_call_ns))
        );
    }
    let _ = writeln!(out, r##"<g stroke="#0b3c66" stroke-width="1.2">"##);
    for (px, lo, hi) in &whiskers {
        let _ = writeln!(
            out,
            r#"<line x1="{px:.1}" y1="{lo:.1}" x2="{px:.1}" y2="{hi:.1}"/><line x1="{:.1}" y1="{lo:.1}" x2="{:.1}" y2="{lo:.1}"/><line x1="{:.1}" y1="{hi:.1}" x2="{:.1}" y2="{hi:.1}"/>"#,
            px - CAP,
            px + CAP,
            px - CAP,
            px + CAP
        );
    }
    out.push_str("</g>\n");
    for (s, point) in result.sizes.iter().zip(&medians) {
        let change = regressions.iter().find(|c| c.n == s.n);
        if change.is_some() {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="9" fill="none" stroke="{REGRESSED}" stroke-width="2.5"/>"#,
                point.0, point.1
            );
        }
        let text = match change {
            Some(c) => format!(
                "{} (+{}%)",
                render::duration(s.summary.median_ns),
                percent(c.change_pct)
            ),
            None => render::duration(s.summary.median_ns),
        };
        let placed = layout.place(*point, &text);
        let colour = if change.is_some() { REGRESSED } else { MEDIAN };
        // A white halo keeps a label readable wherever it had to go.
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}" text-anchor="{}" fill="{colour}" font-size="11" stroke="white" stroke-width="3" paint-order="stroke"{}>{}</text>"#,
            placed.x,
            placed.y,
            placed.anchor,
            if change.is_some() {
                r#" font-weight="bold""#
            } else {
                ""
            },
            escape(&text)
        );
    }

    // Legend, top left inside the plot.
    let _ = writeln!(
        out,
        r##"<rect x="{:.1}" y="{:.1}" width="{:.1}" height="{:.1}" fill="white" fill-opacity="0.9" stroke="#999"/>"##,
        legend.x0,
        legend.y0,
        legend.x1 - legend.x0,
        legend.y1 - legend.y0
    );
    for (i, (colour, dash, text)) in entries.iter().enumerate() {
        let ly = TOP + 24.0 + 18.0 * i as f64;
        if *colour == REGRESSED {
            let _ = writeln!(
                out,
                r#"<circle cx="{:.1}" cy="{:.1}" r="6" fill="none" stroke="{REGRESSED}" stroke-width="2.5"/>"#,
                LEFT + 31.0,
                ly - 4.0
            );
        } else {
            let dash = dash.map_or_else(String::new, |d| format!(r#" stroke-dasharray="{d}""#));
            let _ = writeln!(
                out,
                r#"<line x1="{:.1}" y1="{:.1}" x2="{:.1}" y2="{:.1}" stroke="{colour}" stroke-width="2"{dash}/>"#,
                LEFT + 18.0,
                ly - 4.0,
                LEFT + 44.0,
                ly - 4.0
            );
        }
        let _ = writeln!(
            out,
            r#"<text x="{:.1}" y="{:.1}">{}</text>"#,
            LEFT + 52.0,
            ly,
            escape(text)
        );
    }
    out.push_str("</svg>\n");
    out
}

/// A percentage as the table prints it: one decimal, none when whole.
fn percent(value: f64) -> String {
    let text = format!("{value:.1}");
    text.strip_suffix(".0").map_or(text.clone(), str::to_owned)
}

fn polyline(out: &mut String, points: &[(f64, f64)], colour: &str, width: f64, dash: Option<&str>) {
    if points.is_empty() {
        return;
    }
    let coords: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    let dash = dash.map_or_else(String::new, |d| format!(r#" stroke-dasharray="{d}""#));
    let _ = writeln!(
        out,
        r#"<polyline points="{}" fill="none" stroke="{colour}" stroke-width="{width}"{dash}/>"#,
        coords.join(" ")
    );
}

/// A logarithmic axis mapping values to pixels.
struct Axis {
    /// log10 of the values at `from` and `to`.
    low: f64,
    high: f64,
    /// Pixels of `10^low` and `10^high`.
    from: f64,
    to: f64,
}

impl Axis {
    /// An axis around `values` (each taken as at least 1) reaching `pad`
    /// decades past the smallest and largest (so no point sits on the frame
    /// and labels above points fit), and spanning at least one decade, so it
    /// has at least one labelled tick.
    fn decades(values: &[f64], from: f64, to: f64, pad: (f64, f64)) -> Axis {
        let logs = values.iter().map(|v| v.max(1.0).log10());
        let min = logs.clone().fold(f64::INFINITY, f64::min);
        let max = logs.fold(f64::NEG_INFINITY, f64::max);
        let (mut low, mut high) = if min.is_finite() && max.is_finite() {
            // Below 0 for N = 1 (log 0): the first point is off the frame.
            (min - pad.0, max + pad.1)
        } else {
            (0.0, 1.0)
        };
        if low.ceil() > high.floor() {
            // No decade inside: reach down to the one below.
            low = low.floor();
        }
        if high - low < 1.0 {
            high = low + 1.0;
        }
        Axis {
            low,
            high,
            from,
            to,
        }
    }

    fn at(&self, value: f64) -> f64 {
        let t = (value.max(1.0).log10() - self.low) / (self.high - self.low);
        self.from + t * (self.to - self.from)
    }

    fn decade_range(&self) -> std::ops::RangeInclusive<i32> {
        (self.low.floor() as i32)..=(self.high.ceil() as i32)
    }

    fn inside(&self, value: f64) -> bool {
        let log = value.log10();
        log >= self.low - 1e-9 && log <= self.high + 1e-9
    }

    /// The decades on the axis.
    fn major(&self) -> Vec<f64> {
        self.decade_range()
            .map(|e| 10f64.powi(e))
            .filter(|v| self.inside(*v))
            .collect()
    }

    /// 2–9 times each decade, on the axis.
    fn minor(&self) -> Vec<f64> {
        self.decade_range()
            .flat_map(|e| (2..10).map(move |k| f64::from(k) * 10f64.powi(e)))
            .filter(|v| self.inside(*v))
            .collect()
    }
}

/// `1`, `10`, `100`, `1k`, `10k`, `100k`, `1M`.
fn count_label(value: f64) -> String {
    let v = value.round() as u64;
    match v {
        1_000_000.. if v % 1_000_000 == 0 => format!("{}M", v / 1_000_000),
        1_000.. if v % 1_000 == 0 => format!("{}k", v / 1_000),
        _ => v.to_string(),
    }
}

/// A decade of nanoseconds: `1 ns`, `10 µs`, `100 ms`, `1 s`.
fn time_label(ns: f64) -> String {
    let v = ns.round() as u64;
    const UNITS: [(u64, &str); 4] = [
        (1_000_000_000, "s"),
        (1_000_000, "ms"),
        (1_000, "µs"),
        (1, "ns"),
    ];
    for (scale, unit) in UNITS {
        if v >= scale {
            return format!("{} {unit}", v / scale);
        }
    }
    format!("{v} ns")
}

/// Text and attribute content as XML wants it.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{ProviderRun, SizeResult, stats::Summary};

    fn result() -> BenchResult {
        BenchResult {
            provider: ProviderRun {
                name: "a<b>&\"c\"".to_owned(),
                version: "0.1.0".to_owned(),
                config: "x=1;y='2'".to_owned(),
                path: None,
                address: "ext-100".to_owned(),
            },
            samples: 3,
            warmup: 1,
            sizes: [(1, 2_000), (10, 9_000), (100, 80_000)]
                .iter()
                .map(|&(n, m)| SizeResult {
                    n,
                    calls: n + 1,
                    summary: Summary::of(&[m, m + 10, m + 500]),
                    per_call_ns: m / (n as u64 + 1),
                    samples_ns: vec![m, m + 10, m + 500],
                })
                .collect(),
        }
    }

    #[test]
    fn axes_span_whole_decades() {
        let axis = Axis::decades(&[1.0, 1000.0], 0.0, 100.0, (0.1, 0.1));
        assert_eq!(axis.major(), [1.0, 10.0, 100.0, 1000.0]);
        // N = 1 (log 0) is inside the axis, not on its frame.
        assert!(
            axis.at(1.0) > 2.0 && axis.at(1000.0) < 98.0,
            "{}",
            axis.at(1.0)
        );
        // With 0.8 and 0.9 of the decade below, which the padding reaches.
        assert_eq!(axis.minor().len(), 3 * 8 + 2);
        // Far inside one decade: the decade below is on the axis too.
        let narrow = Axis::decades(&[3000.0, 5000.0], 0.0, 100.0, (0.1, 0.1));
        assert_eq!(narrow.major(), [1000.0, 10000.0]);
        assert!(narrow.at(1000.0) >= 0.0 && narrow.at(5000.0) <= 100.0);
        let empty = Axis::decades(&[], 0.0, 1.0, (0.1, 0.1));
        assert_eq!(empty.major(), [1.0, 10.0]);
    }

    #[test]
    fn labels() {
        assert_eq!(count_label(1.0), "1");
        assert_eq!(count_label(100.0), "100");
        assert_eq!(count_label(10_000.0), "10k");
        assert_eq!(count_label(1_000_000.0), "1M");
        assert_eq!(time_label(1.0), "1 ns");
        assert_eq!(time_label(100.0), "100 ns");
        assert_eq!(time_label(10_000.0), "10 µs");
        assert_eq!(time_label(1e9), "1 s");
    }

    #[test]
    fn names_are_escaped_and_the_baseline_is_dashed() {
        let run = result();
        let plain = svg(&run, None, None);
        assert!(plain.contains("a&lt;b&gt;&amp;&quot;c&quot;"), "{plain}");
        assert!(!plain.contains("a<b>"), "{plain}");
        assert!(!plain.contains("stroke-dasharray"), "{plain}");
        let base = Baseline::from_result("before", &run).expect("name");
        let both = svg(&run, Some(&base), None);
        assert!(both.contains(r#"stroke-dasharray="6 4""#), "{both}");
        assert!(both.contains("baseline `before`"), "{both}");
        assert_eq!(both.matches("<svg ").count(), 1);
        assert!(both.trim_end().ends_with("</svg>"));
    }

    /// The `cx` of every median marker, in order.
    fn median_xs(svg: &str) -> Vec<f64> {
        svg.split(&format!(r#"r="{MARKER}" fill="{MEDIAN}""#))
            .filter_map(|before| before.rsplit("cx=\"").next())
            .take(
                svg.matches(&format!(r#"r="{MARKER}" fill="{MEDIAN}""#))
                    .count(),
            )
            .filter_map(|tail| tail.split('"').next()?.parse().ok())
            .collect()
    }

    /// Issue 16 (13): N = 1 is off the left frame, whiskers are drawn over
    /// the markers with caps wider than them, labels have a halo.
    #[test]
    fn the_first_point_is_off_the_frame_and_whiskers_show() {
        let plot = svg(&result(), None, None);
        let xs = median_xs(&plot);
        assert_eq!(xs.len(), 3, "{plot}");
        assert!(
            xs[0] > LEFT + 2.0 * CAP,
            "N=1 at x={} (frame at {LEFT})",
            xs[0]
        );
        let markers = plot
            .rfind(&format!(r#"fill="{MEDIAN}"><title>"#))
            .expect("markers");
        let whiskers = plot.find(r##"<g stroke="#0b3c66""##).expect("whiskers");
        assert!(whiskers > markers, "whiskers over the markers");
        const { assert!(CAP > MARKER) };
        assert!(plot.contains(r#"paint-order="stroke""#));
    }

    /// Issue 16 (13): a size the comparison found regressed is ringed and
    /// labelled with its change, and the legend says what the ring means.
    #[test]
    fn regressed_sizes_are_marked() {
        let run = result();
        let base = Baseline::from_result("before", &run).expect("name");
        let mut slower = run.clone();
        slower.sizes[2].summary.median_ns *= 2;
        let comparison = base.compare(&slower, 10.0).expect("comparable");
        let plot = svg(&slower, Some(&base), Some(&comparison));
        assert_eq!(
            plot.matches(&format!(r#"r="9" fill="none" stroke="{REGRESSED}""#))
                .count(),
            1,
            "{plot}"
        );
        assert!(plot.contains("(+100%)"), "{plot}");
        assert!(
            plot.contains("regressed: more than 10% slower than the baseline"),
            "{plot}"
        );
        let unchanged = svg(
            &run,
            Some(&base),
            Some(&base.compare(&run, 10.0).expect("comparable")),
        );
        assert!(
            !unchanged.contains(REGRESSED),
            "nothing regressed, nothing marked"
        );
    }
}
