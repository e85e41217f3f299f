//! Progress bars on stderr (indicatif): what a long `conformance` or
//! `bench` is doing, how long it has taken and how long it has left. Drawn
//! only on a terminal (indicatif draws nothing elsewhere, so CI logs and
//! piped output stay clean) and cleared when the work is done, so the
//! results that follow are printed once.

use std::time::Duration;

use cleardown_bench::Progress as BenchTick;
use cleardown_conformance::run::{Progress, Tick};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

fn bar(length: u64, template: &str, quiet: bool) -> ProgressBar {
    let target = if quiet {
        ProgressDrawTarget::hidden()
    } else {
        ProgressDrawTarget::stderr()
    };
    let bar = ProgressBar::with_draw_target(Some(length), target);
    bar.set_style(
        ProgressStyle::with_template(template)
            .expect("the templates are fixed and valid")
            .progress_chars("=> "),
    );
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// The bar of a conformance run: fixtures and scenarios done over all
/// targets, the target that ticked last.
pub(crate) struct ConformanceBar(ProgressBar);

impl ConformanceBar {
    pub(crate) fn new(ticks: u64) -> ConformanceBar {
        ConformanceBar(bar(
            ticks,
            "{elapsed_precise} [{bar:24}] {pos}/{len} runs, ETA {eta} {wide_msg}",
            false,
        ))
    }

    /// What the runner ticks into.
    pub(crate) fn progress(&self) -> Progress {
        let bar = self.0.clone();
        Progress::to(move |tick| {
            let target = match tick {
                Tick::Fixture { target } | Tick::Scenario { target } => target,
            };
            let name = std::path::Path::new(target)
                .file_name()
                .map_or_else(|| target.to_owned(), |n| n.to_string_lossy().into_owned());
            bar.set_message(cleardown_conformance::render::printable(&name));
            bar.inc(1);
        })
    }

    pub(crate) fn finish(self) {
        self.0.finish_and_clear();
    }
}

/// The bar of a benchmark: samples (warm-ups included) over every size.
pub(crate) struct BenchBar(ProgressBar);

impl BenchBar {
    pub(crate) fn new(sizes: usize, samples: usize, warmup: usize, quiet: bool) -> BenchBar {
        BenchBar(bar(
            (sizes * (samples + warmup)) as u64,
            "{elapsed_precise} [{bar:24}] {pos}/{len} samples, ETA {eta} {wide_msg}",
            quiet,
        ))
    }

    pub(crate) fn show(&self, tick: BenchTick) {
        match tick {
            BenchTick::Sample {
                n,
                sample,
                of,
                warmup,
            } => {
                let what = if warmup { "warm-up" } else { "sample" };
                self.0.set_message(format!("N={n} {what} {sample}/{of}"));
                self.0.inc(1);
            }
            BenchTick::Done { n, summary } => {
                self.0.set_message(format!(
                    "N={n} done: median {}",
                    cleardown_bench::render::duration(summary.median_ns)
                ));
            }
        }
    }

    pub(crate) fn finish(self) {
        self.0.finish_and_clear();
    }
}
