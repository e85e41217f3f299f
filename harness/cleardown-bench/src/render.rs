//! Results for people: durations with a unit, the per-size table, the
//! comparison with a baseline.

use std::fmt::Write as _;

use crate::{BenchResult, Comparison};

/// A duration in nanoseconds with three significant digits and a unit:
/// `850 ns`, `12.3 µs`, `1.50 ms`, `2.00 s`.
pub fn duration(ns: u64) -> String {
    const UNITS: [(f64, &str); 3] = [(1e9, "s"), (1e6, "ms"), (1e3, "µs")];
    let value = ns as f64;
    for (scale, unit) in UNITS {
        if value >= scale * 0.9995 {
            return format!("{} {unit}", three_digits(value / scale));
        }
    }
    format!("{ns} ns")
}

fn three_digits(value: f64) -> String {
    if value >= 99.95 {
        format!("{value:.0}")
    } else if value >= 9.995 {
        format!("{value:.1}")
    } else {
        format!("{value:.2}")
    }
}

/// A configuration string as people read it.
pub fn config(config: &str) -> String {
    if config.is_empty() {
        "default".to_owned()
    } else {
        format!("{config:?}")
    }
}

/// The header line and one row per size: N, affected calls, median, min,
/// p90, MAD and median per affected call.
pub fn table(result: &BenchResult) -> String {
    let p = &result.provider;
    let mut out = format!(
        "{} {} (config {}), conference drop on {}: {} per N after {}\n",
        p.name,
        p.version,
        config(&p.config),
        p.address,
        count(result.samples, "sample"),
        count(result.warmup, "warm-up")
    );
    let _ = writeln!(
        out,
        "{:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
        "N", "calls", "median", "min", "p90", "MAD", "per call"
    );
    for size in &result.sizes {
        let s = &size.summary;
        let _ = writeln!(
            out,
            "{:>7} {:>7} {:>10} {:>10} {:>10} {:>10} {:>10}",
            size.n,
            size.calls,
            duration(s.median_ns),
            duration(s.min_ns),
            duration(s.p90_ns),
            duration(s.mad_ns),
            duration(size.per_call_ns)
        );
    }
    out
}

/// The comparison table (N, baseline median, this median, change) and a
/// verdict line.
pub fn comparison(comparison: &Comparison) -> String {
    let b = &comparison.baseline_provider;
    let mut out = format!(
        "compared with baseline `{}` ({} {}, config {}), threshold {}%:\n",
        comparison.baseline,
        b.name,
        b.version,
        config(&b.config),
        comparison.threshold_pct
    );
    let _ = writeln!(
        out,
        "{:>7} {:>10} {:>10} {:>9}",
        "N", "baseline", "median", "change"
    );
    for change in &comparison.sizes {
        let _ = writeln!(
            out,
            "{:>7} {:>10} {:>10} {:>9}{}",
            change.n,
            duration(change.baseline_ns),
            duration(change.median_ns),
            percent(change.change_pct),
            if change.regressed { "  REGRESSED" } else { "" }
        );
    }
    out.push_str(&verdict(comparison));
    out.push('\n');
    out
}

/// One line: which sizes are slower than the baseline beyond the
/// threshold, or that none is.
pub fn verdict(comparison: &Comparison) -> String {
    let regressed: Vec<String> = comparison
        .regressions()
        .map(|c| format!("N={} {}", c.n, percent(c.change_pct)))
        .collect();
    if regressed.is_empty() {
        format!(
            "no regression: no N is more than {}% slower than baseline `{}`",
            comparison.threshold_pct, comparison.baseline
        )
    } else {
        format!(
            "regression: {} slower than baseline `{}` by more than {}%",
            regressed.join(", "),
            comparison.baseline,
            comparison.threshold_pct
        )
    }
}

/// `1 sample`, `20 samples`.
pub fn count(n: usize, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

/// A signed percentage: `+12.5%`, `-3.0%`.
pub fn percent(change: f64) -> String {
    format!("{change:+.1}%")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations_with_three_significant_digits() {
        assert_eq!(duration(0), "0 ns");
        assert_eq!(duration(999), "999 ns");
        assert_eq!(duration(1_000), "1.00 µs");
        assert_eq!(duration(12_345), "12.3 µs");
        assert_eq!(duration(123_456), "123 µs");
        assert_eq!(duration(999_999), "1.00 ms");
        assert_eq!(duration(1_500_000), "1.50 ms");
        assert_eq!(duration(2_000_000_000), "2.00 s");
        assert_eq!(duration(250_000_000_000), "250 s");
    }

    #[test]
    fn percentages_are_signed() {
        assert_eq!(percent(12.54), "+12.5%");
        assert_eq!(percent(-3.0), "-3.0%");
        assert_eq!(percent(0.0), "+0.0%");
    }
}
