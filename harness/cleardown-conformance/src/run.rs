//! Running the suite: each provider target in a child process of its own
//! (the [`worker`]), so a provider that aborts, segfaults or hangs fails
//! the fixture it was running and the run goes on with a fresh child; the
//! judging of each answer ([`judge`]); then the report with rule coverage.
//!
//! The parent sends one fixture per line on the child's stdin; the child
//! answers each with one line on stdout prefixed by [`PREFIX`] (anything
//! else a provider prints is kept as its output, not parsed).

mod coverage;
mod explore;
mod judge;
mod worker;

use std::{
    collections::BTreeMap,
    path::PathBuf,
    sync::Mutex,
    time::{Duration, Instant},
};

use cleardown_far_end::Driver;
use cleardown_report as report;

use self::{
    judge::{failure, judge, record, result_for},
    worker::{Answer, Job, Worker},
};
use crate::{
    fixture,
    suite::{self, Suite},
};

pub use explore::{DEFAULT_SEED, ExploreOptions};
pub use worker::{PREFIX, WORKER_COMMAND, describe_exit, worker};

/// A provider to run the suite against: a bundled name or a library path,
/// and a configuration string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `pbx-sim` or `path/to/libprovider.so`.
    pub provider: String,
    /// The configuration string (SPEC L3). For a far-end driver on a
    /// wire, `{local}` and `{far_end}` in it are filled in per fixture
    /// ([`cleardown_far_end::SipWire::fill`]).
    pub config: String,
    /// What plays the far end.
    pub far_end: Driver,
}

/// How to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The executable that serves as the worker (`cleardown` itself).
    pub worker: PathBuf,
    /// Per-fixture timeout: past it the child is killed.
    pub timeout: Duration,
    /// How long to wait for Replies (see [`Options::settle`]).
    pub settle: Duration,
    /// How many targets run at once.
    pub jobs: usize,
    /// Whether to write `.snap.new` files for author fixtures whose snapshot
    /// is missing or differs, and for wire logs not pinned or differing.
    pub write_pending: bool,
    /// Where a provider that is not bundled keeps its wire snapshots of the
    /// bundled fixtures (`--wire-snapshots DIR`, else the `snapshots/` of
    /// the first `--fixtures DIR`); `None`: they can only be "not pinned".
    /// An author's own fixture keeps its wire snapshots beside its
    /// transcript snapshots, whatever this says.
    pub wire_snapshots: Option<PathBuf>,
    /// After the fixtures, explore generated scenarios (`None`: do not).
    pub explore: Option<ExploreOptions>,
    /// Told of each piece of work as it is done, from the threads that do
    /// it (a progress bar).
    pub progress: Progress,
}

/// A piece of work done, for [`Progress`]: one fixture run or one generated
/// scenario on the target named.
#[derive(Debug, Clone, Copy)]
pub enum Tick<'a> {
    /// A fixture ran (or skipped) on `target`.
    Fixture { target: &'a str },
    /// A generated scenario ran on `target`.
    Scenario { target: &'a str },
}

/// What receives [`Tick`]s, called from the runner's threads.
type TickSink = dyn Fn(Tick<'_>) + Send + Sync;

/// Where [`Tick`]s go: nowhere by default.
#[derive(Clone, Default)]
pub struct Progress(Option<std::sync::Arc<TickSink>>);

impl Progress {
    /// Ticks go to `sink`.
    pub fn to(sink: impl Fn(Tick<'_>) + Send + Sync + 'static) -> Progress {
        Progress(Some(std::sync::Arc::new(sink)))
    }

    pub(crate) fn tick(&self, tick: Tick<'_>) {
        if let Some(sink) = &self.0 {
            sink(tick);
        }
    }
}

impl std::fmt::Debug for Progress {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(if self.0.is_some() {
            "Progress(on)"
        } else {
            "Progress(off)"
        })
    }
}

/// How many ticks a run of `suite` over `targets` gives at most: every
/// fixture on every target, and every scenario it may generate.
pub fn planned_ticks(suite: &Suite, targets: &[Target], options: &RunOptions) -> u64 {
    let scenarios = options.explore.as_ref().map_or(0, |e| e.scenarios);
    (targets.len() * (suite.entries.len() + scenarios)) as u64
}

/// Runs every fixture of `suite` against `target` in child processes.
pub fn run_target(suite: &Suite, target: &Target, options: &RunOptions) -> report::Run {
    let started = Instant::now();
    let mut run = report::Run {
        target: target.provider.clone(),
        config: target.config.clone(),
        far_end: (target.far_end != Driver::Provider).then(|| target.far_end.to_string()),
        provider: None,
        load_error: None,
        fixtures: Vec::new(),
        explore: None,
        coverage: Vec::new(),
        duration_ms: 0,
    };
    // Resolve a bundled name once, here: under cargo that builds the plugin,
    // which every worker would otherwise do again (and at once). Named so,
    // it is ours, and so are its wire snapshots; by path it is judged as
    // anyone's provider.
    let mut target = target.clone();
    let bundled_target = !cleardown_host::locate::looks_like_path(&target.provider);
    if bundled_target {
        match cleardown_host::locate::bundled(&target.provider) {
            Ok(path) => target.provider = path.display().to_string(),
            Err(error) => {
                run.load_error = Some(error.to_string());
                return run;
            }
        }
    }
    let target = &target;
    let mut worker: Option<Worker> = None;
    let mut caps = None;
    let mut reach = coverage::Reach::default();
    for entry in &suite.entries {
        let mut result = result_for(entry);
        let mut reached = Vec::new();
        let fixture_started = Instant::now();
        if worker.is_none() {
            match Worker::spawn(target, options) {
                Ok((w, Answer::Ready(description))) => {
                    run.provider.get_or_insert_with(|| record(&description));
                    caps.get_or_insert(description.capabilities);
                    worker = Some(w);
                }
                Ok((_, Answer::LoadError(message))) if run.provider.is_none() => {
                    run.load_error = Some(message);
                    break;
                }
                // The process died before it could say: name the target.
                Err(message) if run.provider.is_none() => {
                    run.load_error = Some(format!("{}: {message}", target.provider));
                    break;
                }
                Ok((_, other)) => {
                    result.failures.push(failure(
                        report::FailureKind::Error,
                        format!("the worker did not start as expected: {other:?}"),
                        entry.fixture.rules.clone(),
                    ));
                }
                Err(message) => {
                    result.failures.push(failure(
                        report::FailureKind::Error,
                        format!("restarting the provider's process failed: {message}"),
                        entry.fixture.rules.clone(),
                    ));
                }
            }
        }
        if let Some(w) = worker.as_mut() {
            let job = Job {
                file: entry.fixture.file.clone(),
                source: entry.source.clone(),
            };
            let answer = if w.send(&job) {
                w.receive(options.timeout)
            } else {
                w.receive(Duration::from_millis(500))
            };
            match answer {
                Ok(Answer::Skipped(reason)) => {
                    result.status = report::Status::Skip;
                    result.skip_reason = Some(reason);
                }
                Ok(Answer::Replayed {
                    snapshot,
                    wire_snapshot,
                    outcome,
                }) => {
                    reached.clone_from(&outcome.reached);
                    judge(
                        suite,
                        entry,
                        bundled_target,
                        snapshot,
                        wire_snapshot,
                        *outcome,
                        options,
                        &mut result,
                    );
                }
                Ok(Answer::Error(message)) => result.failures.push(failure(
                    report::FailureKind::Error,
                    message,
                    entry.fixture.rules.clone(),
                )),
                Ok(other) => result.failures.push(failure(
                    report::FailureKind::Error,
                    format!("unexpected answer from the worker: {other:?}"),
                    entry.fixture.rules.clone(),
                )),
                Err(death) => {
                    worker = None;
                    result.failures.push(failure(
                        death.kind,
                        death.message,
                        entry.fixture.rules.clone(),
                    ));
                }
            }
        }
        if !result.failures.is_empty() {
            result.status = report::Status::Fail;
        }
        if result.status != report::Status::Skip {
            let broke: Vec<String> = result
                .failures
                .iter()
                .flat_map(|f| f.rules.iter().cloned())
                .collect();
            reach.run(
                coverage::By::Fixture,
                &reached,
                &entry.fixture.rules,
                &broke,
            );
        }
        result.duration_ms = fixture_started.elapsed().as_millis() as u64;
        run.fixtures.push(result);
        options.progress.tick(Tick::Fixture {
            target: &target.provider,
        });
    }
    if let (Some(how), Some(caps), Some(provider)) = (&options.explore, &caps, &run.provider) {
        // A directory per target: the declared name, and a digest of the
        // configuration (which may hold paths) when there is one.
        let label = if target.config.is_empty() {
            provider.name.clone()
        } else {
            let digest = target
                .config
                .bytes()
                .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                    (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
                });
            format!("{}-{:08x}", provider.name, digest as u32)
        };
        run.explore = Some(explore::explore(
            target,
            options,
            how,
            caps,
            &label,
            &mut worker,
            &mut reach,
        ));
    }
    if let Some(caps) = &caps {
        run.coverage = coverage::rules(&run, caps, &reach);
    }
    run.duration_ms = started.elapsed().as_millis() as u64;
    run
}

/// Runs the suite against every target (up to `options.jobs` at once) and
/// builds the report with the rule coverage.
pub fn run(suite: &Suite, targets: &[Target], options: &RunOptions) -> report::Report {
    let started = Instant::now();
    let next = Mutex::new(0usize);
    let runs: Mutex<Vec<(usize, report::Run)>> = Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for _ in 0..options.jobs.clamp(1, targets.len().max(1)) {
            scope.spawn(|| {
                loop {
                    let index = {
                        let mut next = next.lock().unwrap_or_else(|e| e.into_inner());
                        let index = *next;
                        *next += 1;
                        index
                    };
                    let Some(target) = targets.get(index) else {
                        break;
                    };
                    let run = run_target(suite, target, options);
                    runs.lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .push((index, run));
                }
            });
        }
    });
    let mut runs = runs.into_inner().unwrap_or_else(|e| e.into_inner());
    runs.sort_by_key(|(index, _)| *index);
    let runs: Vec<report::Run> = runs.into_iter().map(|(_, run)| run).collect();
    build_report(suite, runs, started.elapsed())
}

/// Totals and per-rule outcomes of `runs`.
pub fn build_report(suite: &Suite, runs: Vec<report::Run>, took: Duration) -> report::Report {
    let mut summary = report::Summary {
        runs: runs.len(),
        duration_ms: took.as_millis() as u64,
        ..Default::default()
    };
    // Rule → (fixtures citing it, failures, skip reasons, passed?).
    #[derive(Default)]
    struct Tally {
        fixtures: Vec<String>,
        failed_in: Vec<String>,
        skips: Vec<(String, bool)>,
        passed: bool,
    }
    let mut tally: BTreeMap<String, Tally> = BTreeMap::new();
    for entry in &suite.entries {
        for rule in &entry.fixture.rules {
            tally
                .entry(rule.clone())
                .or_default()
                .fixtures
                .push(entry.fixture.name.clone());
        }
    }
    for run in &runs {
        if run.load_error.is_some() {
            summary.load_errors += 1;
        }
        if let Some(explored) = &run.explore {
            // Judged ones: a skipped scenario proved nothing.
            summary.scenarios += explored.ran - explored.skipped;
            summary.explore_failed += explored.failures.len();
            let label = place(run);
            for found in &explored.failures {
                let place = format!("{label} explored (seed {})", found.seed);
                tally
                    .entry(found.rule.clone())
                    .or_default()
                    .failed_in
                    .push(place);
            }
        }
        let label = place(run);
        for fixture in &run.fixtures {
            if fixture
                .wire
                .as_ref()
                .is_some_and(|w| w.status == report::WireStatus::NotPinned)
            {
                summary.wire_not_pinned += 1;
            }
            match fixture.status {
                report::Status::Pass => {
                    summary.passed += 1;
                    for rule in &fixture.rules {
                        tally.entry(rule.clone()).or_default().passed = true;
                    }
                }
                report::Status::Skip => {
                    summary.skipped += 1;
                    for rule in &fixture.rules {
                        let reason = format!(
                            "{label} {}: {}",
                            fixture.name,
                            fixture.skip_reason.as_deref().unwrap_or("skipped")
                        );
                        let skips = &mut tally.entry(rule.clone()).or_default().skips;
                        // A rule's own fixtures (`u4-…` for U4) say best
                        // why it was skipped: their reasons come first.
                        if names_rule(&fixture.name, rule) {
                            let own = skips.iter().take_while(|r| r.1).count();
                            skips.insert(own, (reason, true));
                        } else {
                            skips.push((reason, false));
                        }
                    }
                }
                report::Status::Fail => {
                    summary.failed += 1;
                    for failure in &fixture.failures {
                        for rule in &failure.rules {
                            let place = format!("{label} {}", fixture.name);
                            let failed = &mut tally.entry(rule.clone()).or_default().failed_in;
                            if !failed.contains(&place) {
                                failed.push(place);
                            }
                        }
                    }
                }
            }
        }
    }
    let mut rules: Vec<report::RuleResult> = suite::rules()
        .into_iter()
        .map(|rule| {
            let t = tally.remove(&rule.id).unwrap_or_default();
            // Where each target checked it (SPEC §0): a situation its
            // declaration implies that nothing reached makes it partial.
            let on_targets: Vec<(String, &report::RuleCoverage)> = runs
                .iter()
                .filter_map(|run| {
                    let label = place(run);
                    run.coverage
                        .iter()
                        .find(|c| c.rule == rule.id)
                        .map(|c| (label, c))
                })
                .collect();
            let partial_in: Vec<String> = on_targets
                .iter()
                .filter(|(_, c)| c.status == report::RuleStatus::Partial)
                .map(|(label, c)| {
                    let unreached = c.situations_with(report::SituationStatus::Unreached);
                    format!("{label}: {}", unreached.join(", "))
                })
                .collect();
            let passed = t.passed
                || on_targets
                    .iter()
                    .any(|(_, c)| c.status == report::RuleStatus::Pass);
            let status = if t.fixtures.is_empty() && !passed {
                report::RuleStatus::Uncovered
            } else if !t.failed_in.is_empty() {
                report::RuleStatus::Fail
            } else if !partial_in.is_empty() {
                report::RuleStatus::Partial
            } else if passed {
                report::RuleStatus::Pass
            } else {
                report::RuleStatus::Skip
            };
            let mut skip_reasons: Vec<String> = Vec::new();
            if status == report::RuleStatus::Skip {
                skip_reasons = t.skips.into_iter().map(|(reason, _)| reason).collect();
                if skip_reasons.is_empty() {
                    skip_reasons = on_targets
                        .iter()
                        .filter_map(|(label, c)| {
                            c.skip_reason.as_ref().map(|r| format!("{label}: {r}"))
                        })
                        .collect();
                }
                if skip_reasons.is_empty() {
                    // Never a bare `skip`: say why nothing checked it.
                    skip_reasons.push(if runs.iter().all(|run| run.load_error.is_some()) {
                        "no target could be loaded".to_owned()
                    } else {
                        "no fixture citing it ran on any target".to_owned()
                    });
                }
            }
            report::RuleResult {
                id: rule.id,
                summary: rule.summary,
                status,
                fixtures: t.fixtures,
                failed_in: t.failed_in,
                skip_reasons,
                partial_in,
            }
        })
        .collect();
    // Rules a fixture cites that SPEC.md does not have (an author's own).
    for (id, t) in tally {
        let status = if !t.failed_in.is_empty() {
            report::RuleStatus::Fail
        } else if t.passed {
            report::RuleStatus::Pass
        } else {
            report::RuleStatus::Skip
        };
        rules.push(report::RuleResult {
            id,
            summary: "(not a rule of SPEC.md)".to_owned(),
            status,
            fixtures: t.fixtures,
            failed_in: t.failed_in,
            skip_reasons: Vec::new(),
            partial_in: Vec::new(),
        });
    }
    report::Report {
        schema: report::SCHEMA.to_owned(),
        cleardown: env!("CARGO_PKG_VERSION").to_owned(),
        contract: cleardown_host::CONTRACT_VERSION.to_string(),
        summary,
        runs,
        rules,
    }
}

/// A target as the rules' lists name it: `TARGET`, or `TARGET [CONFIG]`.
fn place(run: &report::Run) -> String {
    let far_end = run
        .far_end
        .as_ref()
        .map_or_else(String::new, |driver| format!(" far end {driver}"));
    if run.config.is_empty() {
        format!("{}{far_end}", run.target)
    } else {
        format!("{} [{}]{far_end}", run.target, run.config)
    }
}

/// Whether fixture `name` is one of `rule`'s own: its name starts with
/// rule ids, and `rule` is among them (`c1-c2-…` is C1's and C2's).
fn names_rule(name: &str, rule: &str) -> bool {
    name.split('-')
        .take_while(|part| fixture::is_rule_id(&part.to_uppercase()))
        .any(|part| part.eq_ignore_ascii_case(rule))
}

/// The configuration variants each bundled provider is run with: every
/// capability profile it offers (SPEC L3), so both paths of every MAY rule
/// run. The first is the default configuration.
pub const BUNDLED_VARIANTS: &[(&str, &[&str])] = &[
    (
        "pbx-sim",
        &[
            "",
            "reject_by_drop=off;close_drop=off;uui=0;conf_drop=off",
            "uui=16",
        ],
    ),
    (
        "analog-bridge",
        &[
            "sharing=shared",
            "sharing=exclusive",
            "sharing=new",
            "sharing=private",
            // No disconnect supervision: a far hang-up is found by its
            // tone, `tone_ms` later (SPEC L2's delayed detection).
            "sharing=shared;supervision=off",
            "sharing=private;supervision=off",
        ],
    ),
    // The memory transport: deterministic, with the far end inside the
    // plugin. The udp transport: see WIRE_VARIANTS.
    ("sip", &["transport=memory"]),
];

/// Bundled variants judged through a far-end driver on a real wire, run
/// after the provider's own variants: the sip provider's UDP transport,
/// which simulates nothing, against the SIP far end. Its transcripts are
/// the memory transport's, snapshot for snapshot.
pub const WIRE_VARIANTS: &[(&str, &str, Driver)] = &[(
    "sip",
    "transport=udp;bind={local};peer={far_end}",
    Driver::Sip,
)];

/// Every bundled provider in each of its variants: what `cleardown
/// conformance` runs without arguments.
pub fn bundled_targets() -> Vec<Target> {
    cleardown_host::locate::BUNDLED
        .iter()
        .flat_map(|name| {
            let variants = BUNDLED_VARIANTS
                .iter()
                .find(|(n, _)| n == name)
                .map_or(&[""][..], |(_, v)| v);
            let own = variants.iter().map(|config| Target {
                provider: (*name).to_owned(),
                config: (*config).to_owned(),
                far_end: Driver::Provider,
            });
            let wire = WIRE_VARIANTS.iter().filter(move |(n, _, _)| n == name).map(
                |(_, config, driver)| Target {
                    provider: (*name).to_owned(),
                    config: (*config).to_owned(),
                    far_end: *driver,
                },
            );
            own.chain(wire)
        })
        .collect()
}
