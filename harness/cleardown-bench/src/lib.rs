//! The drop-cascade benchmark behind `cleardown bench` (SPEC C1).
//!
//! For each size N, [`run`] (or [`Bench::new`] then [`Bench::run`]) builds a conference of N parties on the first
//! address of a provider that declares `conf_drop` and the conference call
//! features, with a fresh [`Host`](cleardown_host::Host) per sample, and
//! times one thing: from the app's drop of the conference parent until the
//! app has read the drop's Reply, after one Idle `CallState` event for each
//! of the N + 1 calls (SPEC C1, D4). Building the conference and
//! deallocating it afterwards are not timed. A cascade that reports the
//! wrong events is an error naming the rule, never a number.
//!
//! N = 1 is the base case: a conference needs two parties (SPEC C4 ends one
//! that falls to one), so N = 1 drops a single connected call, one affected
//! call, which is the cost of a drop without a cascade.
//!
//! [`stats`] turns samples into a [`Summary`], [`render`] prints results
//! for people, [`Baseline`] saves a run under a name and compares a later
//! run with it, and [`svg()`] plots latency against N.

pub mod baseline;
mod cascade;
pub mod render;
pub mod stats;
mod svg;

use std::{path::PathBuf, time::Duration};

use cleardown_host::{LineError, LoadError};
use serde::{Deserialize, Serialize};

pub use baseline::{Baseline, BaselineError, Change, Comparison};
pub use cascade::{Bench, run};
pub use stats::Summary;
pub use svg::svg;

/// The `schema` of `cleardown bench --format json`.
pub const SCHEMA: &str = "cleardown-bench/1";
/// The sizes benchmarked when none are given.
pub const DEFAULT_SIZES: &[usize] = &[1, 10, 100, 1000];
/// The largest conference the benchmark builds.
pub const MAX_SIZE: usize = 100_000;
/// Timed samples per size when not told.
pub const DEFAULT_SAMPLES: usize = 20;

/// What to benchmark, and how much.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// A bundled provider's name (`pbx-sim`) or a library path.
    pub provider: String,
    /// The provider's configuration string.
    pub config: String,
    /// Conference sizes (parties), each `1..=MAX_SIZE`; run in ascending
    /// order, duplicates once.
    pub sizes: Vec<usize>,
    /// Timed samples per size (at least 1).
    pub samples: usize,
    /// Untimed samples run first per size, to warm caches and allocators.
    pub warmup: usize,
    /// How long to wait for any one thing the provider owes: a Reply, an
    /// answer, the cascade's events.
    pub timeout: Duration,
}

impl Options {
    /// The defaults for `provider`: sizes 1, 10, 100, 1000; 20 samples after
    /// one warm-up; 10 s timeout.
    pub fn new(provider: &str) -> Options {
        Options {
            provider: provider.to_owned(),
            config: String::new(),
            sizes: DEFAULT_SIZES.to_vec(),
            samples: DEFAULT_SAMPLES,
            warmup: 1,
            timeout: Duration::from_secs(10),
        }
    }

    /// The sizes as they run: ascending, each once.
    pub fn normalized_sizes(&self) -> Vec<usize> {
        let mut sizes = self.sizes.clone();
        sizes.sort_unstable();
        sizes.dedup();
        sizes
    }

    fn check(&self) -> Result<(), BenchError> {
        let bad = |reason: String| Err(BenchError::Options(reason));
        if self.sizes.is_empty() {
            return bad("no sizes to benchmark".to_owned());
        }
        if let Some(n) = self.sizes.iter().find(|n| !(1..=MAX_SIZE).contains(*n)) {
            return bad(format!("size {n} is not in 1..={MAX_SIZE}"));
        }
        if self.samples == 0 {
            return bad("at least one sample per size is needed".to_owned());
        }
        if self.timeout.is_zero() {
            return bad("the timeout must be positive".to_owned());
        }
        Ok(())
    }
}

/// Where the benchmark stands, for a progress display.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Progress {
    /// Sample `sample` of `of` (1-based) at size `n` is starting; a warm-up
    /// sample is not counted in `of` and not timed.
    Sample {
        n: usize,
        sample: usize,
        of: usize,
        warmup: bool,
    },
    /// Every sample of size `n` is taken.
    Done { n: usize, summary: Summary },
}

/// The provider a run measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRun {
    /// The name the provider declares (not the file name).
    pub name: String,
    pub version: String,
    /// The configuration string it was opened with (`""`: its default).
    pub config: String,
    /// The library file.
    pub path: Option<PathBuf>,
    /// The address the conferences were built on.
    pub address: String,
}

/// One size's measurements.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SizeResult {
    /// Conference parties.
    pub n: usize,
    /// Calls the drop affects: N + 1 (the parties and the parent), 1 for N = 1.
    pub calls: usize,
    #[serde(flatten)]
    pub summary: Summary,
    /// `median_ns / calls`: the cost of the cascade per affected call.
    pub per_call_ns: u64,
    /// Every timed sample, in the order taken.
    pub samples_ns: Vec<u64>,
}

/// A whole run: per size, ascending.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BenchResult {
    pub provider: ProviderRun,
    /// Timed samples per size.
    pub samples: usize,
    /// Untimed warm-up samples per size.
    pub warmup: usize,
    pub sizes: Vec<SizeResult>,
}

/// The document `cleardown bench --format json` prints.
#[derive(Debug, Serialize)]
pub struct Report<'a> {
    /// [`SCHEMA`].
    pub schema: &'static str,
    #[serde(flatten)]
    pub result: &'a BenchResult,
    /// The comparison with `--baseline`, if one was asked for.
    pub comparison: Option<&'a Comparison>,
    /// The baseline file written by `--save-baseline`.
    pub saved_baseline: Option<PathBuf>,
    /// The SVG plot written.
    pub plot: Option<PathBuf>,
}

/// Why the benchmark could not produce a number. One line each.
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    #[error("{0}")]
    Options(String),
    #[error(transparent)]
    Load(#[from] LoadError),
    #[error(
        "{provider}: declares conf_drop on none of its addresses ({addresses}); the cascade benchmark needs an address where dropping a conference drops its parties (SPEC C1)"
    )]
    NoConfDrop { provider: String, addresses: String },
    #[error(
        "{provider}: address {address} declares conf_drop but not the call features setup_conference and add_to_conference (it has: {features}), so no conference can be built on it"
    )]
    NoConferenceFeatures {
        provider: String,
        address: String,
        features: String,
    },
    #[error("N={n}: building the conference: {step} failed: {source} ({})", .source.description())]
    Setup {
        n: usize,
        step: String,
        #[source]
        source: LineError,
    },
    #[error("N={n}: building the conference: {what}")]
    Stalled { n: usize, what: String },
    #[error("N={n}: the drop of {dropped} was refused: {source} ({})", .source.description())]
    DropRefused {
        n: usize,
        dropped: &'static str,
        #[source]
        source: LineError,
    },
    #[error("N={n}: the provider failed the drop of {dropped}: {source} ({})", .source.description())]
    DropFailed {
        n: usize,
        dropped: &'static str,
        #[source]
        source: LineError,
    },
    #[error(
        "N={n}: no Reply to the drop of {dropped} within {timeout:?} (SPEC D3: every request gets one Reply)"
    )]
    NoReply {
        n: usize,
        dropped: &'static str,
        timeout: Duration,
    },
    #[error(
        "N={n}: the drop of {dropped} gave {events} CallState events before its Reply, an Idle for {idle} of the {calls} calls; SPEC C1 and D4 want exactly one Idle for each call, all before the Reply"
    )]
    Cascade {
        n: usize,
        dropped: &'static str,
        calls: usize,
        events: usize,
        idle: usize,
    },
    #[error("N={n}: the provider was faulted (SPEC X2): {reason}")]
    Faulted { n: usize, reason: String },
}
