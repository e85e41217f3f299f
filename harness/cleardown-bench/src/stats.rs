//! Order statistics over latency samples, in nanoseconds.
//!
//! Every function takes the samples in any order and leaves them as they
//! are; an empty slice gives 0 (the benchmark never has one: it takes at
//! least one sample per size).

use serde::{Deserialize, Serialize};

/// The median: the middle value, or the mean of the two middle values
/// (rounded down) for an even count.
pub fn median(samples: &[u64]) -> u64 {
    let sorted = sorted(samples);
    median_of_sorted(&sorted)
}

/// The `p`-th percentile (0–100) by the nearest-rank method: the smallest
/// sample such that at least `p` percent of the samples are at or below it.
/// `percentile(s, 0.0)` is the minimum, `percentile(s, 100.0)` the maximum.
pub fn percentile(samples: &[u64], p: f64) -> u64 {
    let sorted = sorted(samples);
    percentile_of_sorted(&sorted, p)
}

/// The median absolute deviation from the median: a spread measure that,
/// unlike the standard deviation, one descheduled sample cannot blow up.
pub fn mad(samples: &[u64]) -> u64 {
    let centre = median(samples);
    let deviations: Vec<u64> = samples.iter().map(|s| s.abs_diff(centre)).collect();
    median(&deviations)
}

/// What the benchmark reports about one size's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    pub median_ns: u64,
    pub min_ns: u64,
    pub p90_ns: u64,
    pub max_ns: u64,
    /// Median absolute deviation (see [`mad`]).
    pub mad_ns: u64,
}

impl Summary {
    /// The summary of `samples`.
    pub fn of(samples: &[u64]) -> Summary {
        let sorted = sorted(samples);
        Summary {
            median_ns: median_of_sorted(&sorted),
            min_ns: sorted.first().copied().unwrap_or(0),
            p90_ns: percentile_of_sorted(&sorted, 90.0),
            max_ns: sorted.last().copied().unwrap_or(0),
            mad_ns: mad(samples),
        }
    }
}

fn sorted(samples: &[u64]) -> Vec<u64> {
    let mut sorted = samples.to_vec();
    sorted.sort_unstable();
    sorted
}

fn median_of_sorted(sorted: &[u64]) -> u64 {
    let n = sorted.len();
    match n {
        0 => 0,
        _ if n % 2 == 1 => sorted[n / 2],
        _ => {
            let (a, b) = (sorted[n / 2 - 1], sorted[n / 2]);
            a / 2 + b / 2 + (a % 2 + b % 2) / 2
        }
    }
}

fn percentile_of_sorted(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let p = if p.is_nan() { 0.0 } else { p.clamp(0.0, 100.0) };
    let rank = (p / 100.0 * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[5]), 5);
        assert_eq!(median(&[3, 1, 2]), 2);
        assert_eq!(median(&[4, 1, 3, 2]), 2); // (2 + 3) / 2, rounded down
        assert_eq!(median(&[10, 20]), 15);
        assert_eq!(median(&[]), 0);
    }

    #[test]
    fn median_does_not_overflow() {
        assert_eq!(median(&[u64::MAX, u64::MAX]), u64::MAX);
        assert_eq!(median(&[u64::MAX - 1, u64::MAX]), u64::MAX - 1);
    }

    #[test]
    fn percentiles_by_nearest_rank() {
        let ten: Vec<u64> = (1..=10).rev().collect();
        assert_eq!(percentile(&ten, 0.0), 1);
        assert_eq!(percentile(&ten, 10.0), 1);
        assert_eq!(percentile(&ten, 11.0), 2);
        assert_eq!(percentile(&ten, 50.0), 5);
        assert_eq!(percentile(&ten, 90.0), 9);
        assert_eq!(percentile(&ten, 91.0), 10);
        assert_eq!(percentile(&ten, 100.0), 10);
        // Twenty samples, the benchmark's default: p90 is the 18th.
        let twenty: Vec<u64> = (1..=20).collect();
        assert_eq!(percentile(&twenty, 90.0), 18);
        // Three samples: p90 is the largest.
        assert_eq!(percentile(&[7, 9, 8], 90.0), 9);
        assert_eq!(percentile(&[], 90.0), 0);
        assert_eq!(percentile(&[4], 90.0), 4);
    }

    #[test]
    fn mad_ignores_one_outlier() {
        // deviations from 3: 2 1 0 1 997 -> median 1
        assert_eq!(mad(&[1, 2, 3, 4, 1000]), 1);
        assert_eq!(mad(&[5, 5, 5]), 0);
    }

    #[test]
    fn summary_of_known_samples() {
        let s = Summary::of(&[30, 10, 20, 50, 40]);
        assert_eq!(
            s,
            Summary {
                median_ns: 30,
                min_ns: 10,
                p90_ns: 50,
                max_ns: 50,
                mad_ns: 10,
            }
        );
    }
}
