//! `cleardown`: the command provider authors run.
//!
//! A thin shell over `cleardown-host`, `cleardown-conformance` and
//! `cleardown-bench`: parse arguments, call the libraries, print. Exit
//! status: 0 success, 1 a conformance failure or a benchmark regression, 2 a
//! usage or load error (one line on stderr saying why).

use std::{
    path::{Path, PathBuf},
    process::ExitCode,
    time::Duration,
};

mod isolate;
mod new_command;
mod outputs;
mod progress;
mod replay_command;

use clap::{Parser, Subcommand, ValueEnum, error::ErrorKind};
use cleardown_bench::{Baseline, BenchResult, Comparison};
use cleardown_conformance::{
    render,
    run::{self, RunOptions, Target},
    suite::{self, Suite},
};
use cleardown_far_end::Driver;
use cleardown_host::{Host, LoadError, ProviderDescription, locate};

/// Prove that telephony providers drop and terminate calls as the contract says.
#[derive(Debug, Parser)]
#[command(name = "cleardown", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the bundled providers and where their libraries are.
    Providers {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Load a provider and print its name, version, contract version and
    /// every declared capability.
    Inspect {
        /// A bundled provider's name (`pbx-sim`) or a library path.
        provider: String,
        /// The provider's configuration string (e.g. `reject_by_drop=off`).
        #[arg(long, default_value = "")]
        config: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Run the conformance suite. Without `--plugin`: every bundled provider
    /// in each of its configuration variants. Exit 0 all pass, 1 any
    /// failure, 2 a usage or load error.
    Conformance(ConformanceArgs),
    /// Replay one fixture against a provider and print its transcript: how a
    /// new fixture is written. If a snapshot of it exists in the fixture's
    /// `snapshots/` directory, the transcript is compared with it, and so is
    /// the wire log of a `wire = true` fixture with its wire snapshot.
    Replay(replay_command::ReplayArgs),
    /// Write a new provider crate that builds and passes the suite as it
    /// stands (a one-line provider with a simulated far end, on the SDK's
    /// blocks), with a fixture, a `cargo test` running the suite, a CI
    /// workflow and a README saying what to change first.
    New(new_command::NewArgs),
    /// Benchmark the drop cascade (SPEC C1) of a provider that declares
    /// conf_drop: the latency of dropping a conference of N parties, per N
    /// and per affected call, compared with a saved baseline and plotted.
    /// Exit 0 done, 1 slower than `--baseline` beyond `--threshold`, 2 a
    /// usage, load or benchmark error.
    Bench(BenchArgs),
    /// The conformance worker (internal): runs fixtures sent on stdin.
    #[command(name = "__worker", hide = true)]
    Worker {
        #[arg(long)]
        plugin: String,
        #[arg(long, default_value = "")]
        config: String,
        #[arg(long, default_value_t = 1000)]
        settle_ms: u64,
        #[arg(long, default_value = "provider")]
        far_end: Driver,
    },
}

/// The arguments of `cleardown conformance`.
#[derive(Debug, clap::Args)]
struct ConformanceArgs {
    /// A provider to test: a bundled name or a library path (repeatable).
    #[arg(long = "plugin", value_name = "NAME|PATH")]
    plugins: Vec<String>,
    /// A configuration string to open each `--plugin` with (repeatable:
    /// one run per string; default: the provider's default).
    #[arg(long = "config", value_name = "STR", requires = "plugins")]
    configs: Vec<String>,
    /// What plays the far end of every call: `provider`, the far end the
    /// provider simulates (its `remote_*` stimuli); `sip`, a SIP user agent
    /// on loopback UDP, for a provider on a real SIP transport (its
    /// `--config` names the addresses as `{local}` and `{far_end}`).
    #[arg(
        long,
        value_name = "DRIVER",
        default_value = "provider",
        requires = "plugins"
    )]
    far_end: Driver,
    /// A directory of your own fixtures (snapshots in DIR/snapshots),
    /// run with the bundled ones (repeatable).
    #[arg(long = "fixtures", value_name = "DIR")]
    fixture_dirs: Vec<PathBuf>,
    /// Run only the fixtures of `--fixtures`, not the bundled suite.
    #[arg(long, requires = "fixture_dirs")]
    no_bundled: bool,
    /// Run only fixtures whose name contains this text.
    #[arg(long, value_name = "TEXT")]
    filter: Option<String>,
    /// Output format on stdout: `markdown` is a CI step summary (see
    /// `--summary`).
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Also write a JUnit XML report to FILE.
    #[arg(long, value_name = "FILE")]
    junit: Option<PathBuf>,
    /// Also write a Markdown summary to FILE (totals, failures with their
    /// diffs folded, the rule table): append it to a CI job's step summary,
    /// e.g. `--summary "$GITHUB_STEP_SUMMARY"`. An existing file is
    /// appended to, not replaced.
    #[arg(long, value_name = "FILE")]
    summary: Option<PathBuf>,
    /// Per-fixture timeout in seconds; past it the provider's process
    /// is killed and the fixture fails.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_seconds)]
    timeout: f64,
    /// How long to wait for a request's Reply before it counts as
    /// never sent (SPEC D3), in milliseconds (0 to 600000).
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=MAX_SETTLE_MS))]
    settle_ms: u64,
    /// How many providers run at once, 1 to 256 (default: the number of CPUs).
    #[arg(long, value_name = "N", value_parser = parse_jobs)]
    jobs: Option<usize>,
    /// Do not write `.snap.new` files for your fixtures whose snapshot
    /// is missing or differs, nor for wire logs.
    #[arg(long)]
    no_pending: bool,
    /// Where your provider's wire snapshots of the bundled `wire = true`
    /// fixtures are kept (its exact wire text, pinned by you): written as
    /// `.snap.new` while not pinned, compared once renamed to `.snap`
    /// [default: the `snapshots/` of the first `--fixtures DIR`].
    #[arg(long, value_name = "DIR")]
    wire_snapshots: Option<PathBuf>,
    /// Do not explore generated scenarios after the fixtures.
    #[arg(long)]
    no_explore: bool,
    /// Generated scenarios per target, judged by the oracle.
    #[arg(long, value_name = "N", default_value_t = DEFAULT_SCENARIOS,
          value_parser = clap::value_parser!(u32).range(1..=1_000_000), conflicts_with = "no_explore")]
    scenarios: u32,
    /// The exploration's seed: a number (decimal or 0x hex), or `random`
    /// to draw one (printed, so the run can be repeated) [default: a fixed
    /// seed, so CI runs are reproducible].
    #[arg(long, value_name = "S|random", value_parser = parse_seed, conflicts_with = "no_explore")]
    seed: Option<Seed>,
    /// Where a failing scenario is written, shrunk, as a fixture to replay
    /// and keep.
    #[arg(
        long,
        value_name = "DIR",
        default_value = "target/cleardown-explore",
        conflicts_with = "no_explore"
    )]
    explore_out: PathBuf,
    /// How many runs shrinking one failure may take (0: write it as found).
    #[arg(long, value_name = "N", default_value_t = 150,
          value_parser = clap::value_parser!(u32).range(0..=100_000), conflicts_with = "no_explore")]
    shrink_budget: u32,
}

/// Scenarios per target when `--scenarios` is not given: enough that the
/// rare combinations come up (every mutant of harness/mutant-provider is
/// caught under four seeds; at 400 some were not), and still far within
/// the bundled run's 10 s budget (README § Performance: 2.7 s in release).
const DEFAULT_SCENARIOS: u32 = 1000;

/// `--seed`.
#[derive(Debug, Clone, Copy)]
enum Seed {
    Fixed(u64),
    Random,
}

fn parse_seed(text: &str) -> Result<Seed, String> {
    let text = text.trim();
    if text == "random" {
        return Ok(Seed::Random);
    }
    let parsed = match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => text.parse::<u64>(),
    };
    parsed
        .map(Seed::Fixed)
        .map_err(|_| format!("`{text}` is not a seed: a number of 0 to 2^64-1, or `random`"))
}

/// The arguments of `cleardown bench`.
#[derive(Debug, clap::Args)]
struct BenchArgs {
    /// The provider: a bundled name or a library path.
    #[arg(long, value_name = "NAME|PATH")]
    plugin: String,
    /// The provider's configuration string.
    #[arg(long, value_name = "STR", default_value = "")]
    config: String,
    /// Conference sizes N (parties), comma-separated, each 1..=100000.
    /// N = 1 is a single call: the drop without a cascade.
    #[arg(
        long,
        value_name = "N,...",
        value_delimiter = ',',
        default_value = "1,10,100,1000",
        value_parser = parse_size
    )]
    sizes: Vec<usize>,
    /// Timed samples per size.
    #[arg(long, value_name = "COUNT", default_value_t = cleardown_bench::DEFAULT_SAMPLES, value_parser = parse_samples)]
    samples: usize,
    /// Untimed warm-up samples per size, run first.
    #[arg(long, value_name = "COUNT", default_value_t = 1, value_parser = parse_warmup)]
    warmup: usize,
    /// How long to wait for a Reply or an answer, in seconds.
    #[arg(long, value_name = "SECS", default_value_t = 10.0, value_parser = parse_seconds)]
    timeout: f64,
    /// Output format on stdout.
    #[arg(long, value_enum, default_value_t = Format::Text)]
    format: Format,
    /// Compare each N's median with baseline NAME; exit 1 if any is slower
    /// by more than `--threshold` percent.
    #[arg(long, value_name = "NAME")]
    baseline: Option<String>,
    /// How much slower than the baseline, in percent, is a regression.
    #[arg(
        long,
        value_name = "PCT",
        default_value_t = 10.0,
        requires = "baseline",
        value_parser = parse_threshold
    )]
    threshold: f64,
    /// Save this run as baseline NAME (after comparing, with `--baseline`).
    #[arg(long, value_name = "NAME")]
    save_baseline: Option<String>,
    /// Where baselines are kept, as NAME.json (created if missing).
    #[arg(long, value_name = "DIR", default_value = "target/cleardown-bench")]
    baseline_dir: PathBuf,
    /// Where to write the SVG plot of latency against N [default:
    /// latency.svg in the baseline directory].
    #[arg(long, value_name = "FILE")]
    plot: Option<PathBuf>,
    /// Write no plot.
    #[arg(long, conflicts_with = "plot")]
    no_plot: bool,
    /// Show no progress on stderr.
    #[arg(long, short)]
    quiet: bool,
}

fn parse_size(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=cleardown_bench::MAX_SIZE).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a size in 1..={}",
            cleardown_bench::MAX_SIZE
        )),
    }
}

fn parse_samples(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if (1..=MAX_SAMPLES).contains(&n) => Ok(n),
        _ => Err(format!(
            "`{text}` is not a count of 1 or more (at most {MAX_SAMPLES})"
        )),
    }
}

/// The most samples or warm-ups per size: far more than any measurement
/// needs, and a bound on how long a mistyped count can run.
const MAX_SAMPLES: usize = 100_000;

fn parse_warmup(text: &str) -> Result<usize, String> {
    match text.parse::<usize>() {
        Ok(n) if n <= MAX_SAMPLES => Ok(n),
        _ => Err(format!(
            "`{text}` is not a count of 0 or more (at most {MAX_SAMPLES})"
        )),
    }
}

/// The longest `--timeout`: a day. Beyond it a timeout is a mistake, and
/// far beyond it a `Duration` cannot hold it.
const MAX_TIMEOUT_SECS: f64 = 86_400.0;

/// The longest `--settle-ms`: ten minutes.
pub(crate) const MAX_SETTLE_MS: u64 = 600_000;

fn parse_seconds(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(secs) if secs.is_finite() && secs > 0.0 && secs <= MAX_TIMEOUT_SECS => Ok(secs),
        _ => Err(format!(
            "`{text}` is not a timeout: a number of seconds above 0 and up to {MAX_TIMEOUT_SECS} (a day)"
        )),
    }
}

fn parse_jobs(text: &str) -> Result<usize, String> {
    match text.trim().parse::<usize>() {
        Ok(n) if (1..=256).contains(&n) => Ok(n),
        _ => Err(format!("`{text}` is not a number of jobs of 1 to 256")),
    }
}

fn parse_threshold(text: &str) -> Result<f64, String> {
    match text.trim().parse::<f64>() {
        Ok(pct) if pct.is_finite() && (0.0..=1_000_000.0).contains(&pct) => Ok(pct),
        _ => Err(format!(
            "`{text}` is not a threshold: --threshold must be a percentage of 0 to 1000000"
        )),
    }
}

/// How `cleardown conformance` prints its report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// For people.
    Text,
    /// One JSON document; its schema is in the README.
    Json,
    /// GitHub-flavoured Markdown, for a CI step summary.
    Markdown,
}

/// How `cleardown bench` prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// For people.
    Text,
    /// One JSON document; its schema is in the README.
    Json,
}

/// The provider `command` loads into this process, if it loads one:
/// `inspect`, `replay` and `bench` (`conformance` runs its providers in
/// workers of its own).
fn in_process_provider(command: &Command) -> Option<&str> {
    match command {
        Command::Inspect { provider, .. } => Some(provider),
        Command::Replay(args) => Some(args.plugin()),
        Command::Bench(args) => Some(&args.plugin),
        _ => None,
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    if !isolate::in_child() {
        if let Some(provider) = in_process_provider(&cli.command) {
            let limit =
                matches!(cli.command, Command::Inspect { .. }).then_some(isolate::INSPECT_LIMIT);
            return isolate::isolated(provider, limit);
        }
    }
    let outcome = match cli.command {
        Command::Providers { json } => providers(json).map(|()| 0).map_err(|e| e.to_string()),
        Command::Inspect {
            provider,
            config,
            json,
        } => inspect(&provider, &config, json)
            .map(|()| 0)
            .map_err(|e| e.to_string()),
        Command::Conformance(args) => conformance(args),
        Command::Bench(args) => bench(&args),
        Command::Replay(args) => replay_command::run(&args),
        Command::New(args) => new_command::run(&args).map(|dir| {
            println!(
                "wrote a provider crate in {}: `cd {} && cargo test` builds it and runs the suite",
                dir.display(),
                dir.display()
            );
            0
        }),
        Command::Worker {
            plugin,
            config,
            settle_ms,
            far_end,
        } => Ok(run::worker(
            &Target {
                provider: plugin,
                config,
                far_end,
            },
            Duration::from_millis(settle_ms),
        )),
    };
    match outcome {
        Ok(code) => ExitCode::from(code),
        Err(error) => {
            eprintln!("cleardown: {}", render::printable(&error));
            ExitCode::from(2)
        }
    }
}

fn conformance(args: ConformanceArgs) -> Result<u8, String> {
    let mut suite = if args.no_bundled {
        Suite::empty()
    } else {
        Suite::bundled().map_err(|e| e.to_string())?
    };
    for dir in &args.fixture_dirs {
        suite.add_dir(dir).map_err(|e| e.to_string())?;
    }
    if let Some(filter) = &args.filter {
        suite.entries.retain(|e| e.fixture.name.contains(filter));
        if suite.entries.is_empty() {
            return Err(format!("no fixture name contains `{filter}`"));
        }
    }
    if suite.entries.is_empty() {
        return Err("no fixture to run".to_owned());
    }
    if let Some(path) = &args.junit {
        outputs::check_file(path, "the JUnit report")?;
    }
    if let Some(path) = &args.summary {
        outputs::check_file(path, "the Markdown summary")?;
    }
    let targets: Vec<Target> = if args.plugins.is_empty() {
        run::bundled_targets()
    } else {
        let configs = if args.configs.is_empty() {
            vec![String::new()]
        } else {
            args.configs.clone()
        };
        args.plugins
            .iter()
            .flat_map(|plugin| {
                configs.iter().map(move |config| Target {
                    provider: plugin.clone(),
                    config: config.clone(),
                    far_end: args.far_end,
                })
            })
            .collect()
    };
    let mut options = RunOptions {
        worker: std::env::current_exe()
            .map_err(|e| format!("cannot find the cleardown executable: {e}"))?,
        timeout: Duration::from_secs_f64(args.timeout),
        settle: Duration::from_millis(args.settle_ms),
        jobs: args.jobs.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }),
        write_pending: !args.no_pending,
        explore: (!args.no_explore).then(|| {
            let seed = match args.seed {
                Some(Seed::Fixed(seed)) => seed,
                Some(Seed::Random) => {
                    let seed = random_seed();
                    eprintln!("cleardown: exploring with --seed {seed}");
                    seed
                }
                None => run::DEFAULT_SEED,
            };
            run::ExploreOptions {
                scenarios: args.scenarios as usize,
                seed,
                out: Some(args.explore_out.clone()),
                shrink_budget: args.shrink_budget as usize,
            }
        }),
        progress: run::Progress::default(),
        wire_snapshots: args.wire_snapshots.clone().or_else(|| {
            args.fixture_dirs
                .first()
                .map(|dir| suite::snapshot_dir(dir))
        }),
    };
    let bar = progress::ConformanceBar::new(run::planned_ticks(&suite, &targets, &options));
    options.progress = bar.progress();
    let report = run::run(&suite, &targets, &options);
    bar.finish();
    // Rendered once, for stdout and the summary file alike.
    let markdown = (args.format == ReportFormat::Markdown || args.summary.is_some())
        .then(|| cleardown_conformance::markdown::markdown(&report));
    match (args.format, &markdown) {
        (ReportFormat::Markdown, Some(markdown)) => print!("{markdown}"),
        (ReportFormat::Json, _) => println!("{}", to_json(&report)),
        _ => print!("{}", render::text(&report)),
    }
    if let (Some(path), Some(markdown)) = (&args.summary, &markdown) {
        use std::io::Write as _;
        std::fs::OpenOptions::new()
            .append(true)
            .create(true)
            .open(path)
            .and_then(|mut file| file.write_all(markdown.as_bytes()))
            .map_err(|e| format!("cannot write the Markdown summary {}: {e}", path.display()))?;
    }
    if let Some(path) = &args.junit {
        // After the report is printed, so a write that fails now loses
        // nothing already shown.
        std::fs::write(path, cleardown_conformance::junit::junit(&report))
            .map_err(|e| format!("cannot write the JUnit report {}: {e}", path.display()))?;
    }
    let mut code = report.exit_code();
    // A green run that checked nothing is the worst answer a CI can get:
    // say so, and fail as a usage error does. A target that ran nothing
    // is such a run; with --filter, which narrows on purpose, only a whole
    // run that executed no fixture is.
    let idle: Vec<(&cleardown_conformance::report::Run, String)> = report
        .runs
        .iter()
        .filter(|run| run.load_error.is_none())
        .filter_map(|run| ran_nothing(run).map(|why| (run, why)))
        .collect();
    let loaded = report
        .runs
        .iter()
        .filter(|r| r.load_error.is_none())
        .count();
    let refuse = !idle.is_empty() && (args.filter.is_none() || idle.len() == loaded);
    for run in &report.runs {
        if let Some(error) = &run.load_error {
            eprintln!("cleardown: {}", render::printable(error));
        }
    }
    if refuse {
        for (run, why) in &idle {
            eprintln!("cleardown: {}: ran no fixture: {why}", render::label(run));
        }
        code = 2;
    }
    Ok(code)
}

fn bench(args: &BenchArgs) -> Result<u8, String> {
    let options = cleardown_bench::Options {
        provider: args.plugin.clone(),
        config: args.config.clone(),
        sizes: args.sizes.clone(),
        samples: args.samples,
        warmup: args.warmup,
        timeout: Duration::from_secs_f64(args.timeout),
    };
    let dir = &args.baseline_dir;
    // Everything that can be refused without measuring is, first.
    let baseline = match &args.baseline {
        Some(name) => {
            let baseline = Baseline::load(dir, name).map_err(|e| e.to_string())?;
            baseline
                .check_sizes(&options.normalized_sizes())
                .map_err(|e| e.to_string())?;
            Some(baseline)
        }
        None => None,
    };
    if let Some(name) = &args.save_baseline {
        Baseline::path(dir, name).map_err(|e| e.to_string())?;
        outputs::check_dir(dir, "the baseline")?;
    }
    let plot =
        (!args.no_plot).then(|| args.plot.clone().unwrap_or_else(|| dir.join("latency.svg")));
    if let Some(path) = &plot {
        outputs::check_file(path, "the plot")?;
    }

    let prepared = cleardown_bench::Bench::new(&options).map_err(|e| e.to_string())?;
    if let Some(baseline) = &baseline {
        baseline
            .check_provider(&prepared.provider().name)
            .map_err(|e| e.to_string())?;
    }

    let progress = progress::BenchBar::new(
        options.normalized_sizes().len(),
        args.samples,
        args.warmup,
        args.quiet,
    );
    let result = prepared.run(&mut |p| progress.show(p));
    progress.finish();
    let result = result.map_err(|e| e.to_string())?;

    let comparison = match &baseline {
        Some(baseline) => Some(
            baseline
                .compare(&result, args.threshold)
                .map_err(|e| e.to_string())?,
        ),
        None => None,
    };
    // What was measured is printed whatever happens to the files: a
    // write that fails now (the disk filled up meanwhile) is reported after
    // the results, not instead of them.
    let mut failed_writes = Vec::new();
    let saved = match &args.save_baseline {
        Some(name) => match Baseline::from_result(name, &result).and_then(|b| b.save(dir)) {
            Ok(path) => Some(path),
            Err(error) => {
                failed_writes.push(error.to_string());
                None
            }
        },
        None => None,
    };
    let plot = plot.filter(|path| {
        match write_plot(path, &result, baseline.as_ref(), comparison.as_ref()) {
            Ok(()) => true,
            Err(error) => {
                failed_writes.push(error);
                false
            }
        }
    });
    print_bench(args.format, &result, comparison.as_ref(), saved, plot);
    if !failed_writes.is_empty() {
        return Err(failed_writes.join("; "));
    }
    match &comparison {
        Some(comparison) if comparison.regressed() => {
            if args.format == Format::Json {
                eprintln!(
                    "cleardown: {}",
                    cleardown_bench::render::verdict(comparison)
                );
            }
            Ok(1)
        }
        _ => Ok(0),
    }
}

fn write_plot(
    path: &Path,
    result: &BenchResult,
    baseline: Option<&Baseline>,
    comparison: Option<&Comparison>,
) -> Result<(), String> {
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent)
            .map_err(|e| format!("cannot write plot {}: {e}", path.display()))?;
    }
    std::fs::write(path, cleardown_bench::svg(result, baseline, comparison))
        .map_err(|e| format!("cannot write plot {}: {e}", path.display()))
}

fn print_bench(
    format: Format,
    result: &BenchResult,
    comparison: Option<&Comparison>,
    saved: Option<PathBuf>,
    plot: Option<PathBuf>,
) {
    match format {
        Format::Json => println!(
            "{}",
            to_json(&cleardown_bench::Report {
                schema: cleardown_bench::SCHEMA,
                result,
                comparison,
                saved_baseline: saved,
                plot,
            })
        ),
        Format::Text => {
            print!("{}", cleardown_bench::render::table(result));
            if let Some(comparison) = comparison {
                println!();
                print!("{}", cleardown_bench::render::comparison(comparison));
            }
            if let Some(path) = saved {
                println!("baseline saved: {}", path.display());
            }
            if let Some(path) = plot {
                println!("plot: {}", path.display());
            }
        }
    }
}

/// A seed nobody chose: the clock's nanoseconds mixed with the process id.
fn random_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos() as u64);
    cleardown_conformance::explore_seed(nanos ^ u64::from(std::process::id()).rotate_left(32))
}

/// Why a loaded target ran no fixture at all, if it ran none.
fn ran_nothing(run: &cleardown_conformance::report::Run) -> Option<String> {
    use cleardown_conformance::report::Status;
    if run.fixtures.iter().any(|f| f.status != Status::Skip) {
        return None;
    }
    let mut reasons: Vec<&str> = run
        .fixtures
        .iter()
        .filter_map(|f| f.skip_reason.as_deref())
        .collect();
    reasons.sort_unstable();
    reasons.dedup();
    Some(format!(
        "all {} skipped by their gates ({})",
        run.fixtures.len(),
        reasons.join("; ")
    ))
}

/// Help and version go out as clap prints them; a usage mistake becomes one
/// line, like every other error of this command.
fn usage_error(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let reason = rendered.split("\n\n").next().unwrap_or_default();
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let reason = reason.strip_prefix("error: ").unwrap_or(&reason);
    eprintln!("cleardown: {reason} (see `cleardown --help`)");
    ExitCode::from(2)
}

fn load(provider: &str, config: &str) -> Result<ProviderDescription, LoadError> {
    let host = Host::new();
    let id = host.load_named(provider, config)?;
    host.describe(id).map_err(|error| LoadError::Faulty {
        provider: provider.to_owned(),
        reason: error.description().to_owned(),
    })
}

fn providers(json: bool) -> Result<(), LoadError> {
    let described = locate::BUNDLED
        .iter()
        .map(|name| load(name, ""))
        .collect::<Result<Vec<_>, _>>()?;
    if json {
        println!("{}", to_json(&described));
    } else {
        for d in &described {
            let path = d
                .path
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string());
            println!(
                "{:<16} {:<8} contract {}  {}",
                d.name, d.version, d.contract, path
            );
        }
    }
    Ok(())
}

fn inspect(provider: &str, config: &str, json: bool) -> Result<(), LoadError> {
    let d = load(provider, config)?;
    if json {
        println!("{}", to_json(&d));
        return Ok(());
    }
    let yes = |b: bool| if b { "yes" } else { "no" };
    let caps = &d.capabilities;
    println!("name:              {}", d.name);
    println!("version:           {}", d.version);
    println!(
        "contract:          {} (negotiated {})",
        d.contract, d.negotiated
    );
    if let Some(path) = &d.path {
        println!("library:           {}", path.display());
    }
    println!(
        "config:            {}",
        if d.config.is_empty() {
            "(default)"
        } else {
            &d.config
        }
    );
    println!("uui_drop_size:     {}", caps.uui_drop_size);
    println!("reject_by_drop:    {}", yes(caps.reject_by_drop));
    println!("close_drop:        {}", yes(caps.close_drop));
    println!("far_causes:        {}", yes(caps.far_causes));
    println!("uui_received_size: {}", caps.uui_received_size);
    println!(
        "hang_up_delay_ms:  {}",
        match caps.hang_up_delay_ms {
            0 => "0 (signalled at once)".to_owned(),
            ms => format!("{ms} (found after up to {ms} ms)"),
        }
    );
    println!("addresses:");
    for (index, address) in caps.addresses.iter().enumerate() {
        println!(
            "  {index}  {:<12} sharing={:<16} conf_drop={:<3} features={}",
            address.name,
            address.sharing,
            yes(address.conf_drop),
            address.features.names().join(",")
        );
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}
