//! Running the suite: each provider target in a child process of its own
//! (the worker), so a provider that aborts, segfaults or hangs fails the
//! fixture it was running and the run goes on with a fresh child.
//!
//! The parent sends one fixture per line on the child's stdin; the child
//! answers each with one line on stdout prefixed by [`PREFIX`] (anything
//! else a provider prints is kept as its output, not parsed).

use std::{
    collections::BTreeMap,
    io::{BufRead, BufReader, Write},
    path::PathBuf,
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Mutex,
        mpsc::{self, Receiver, RecvTimeoutError},
    },
    time::{Duration, Instant},
};

use cleardown_host::{Capabilities, Host, ProviderDescription};
use cleardown_report as report;
use serde::{Deserialize, Serialize};

use crate::{
    fixture,
    replay::{self, Gate, Options, Outcome},
    snapshot::{self, Kind},
    suite::{self, Entry, Origin, Suite},
    wire::{self, Home},
};

/// Marks the worker's protocol lines on its stdout.
pub const PREFIX: &str = "@@cleardown ";

/// The hidden subcommand that makes the `cleardown` binary a worker.
pub const WORKER_COMMAND: &str = "__worker";

/// A provider to run the suite against: a bundled name or a library path,
/// and a configuration string.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// `pbx-sim` or `path/to/libprovider.so`.
    pub provider: String,
    /// The configuration string (SPEC L3).
    pub config: String,
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
}

/// A fixture sent to the worker.
#[derive(Debug, Serialize, Deserialize)]
struct Job {
    file: String,
    source: String,
}

/// The worker's answers.
#[derive(Debug, Serialize, Deserialize)]
enum Answer {
    Ready(ProviderDescription),
    LoadError(String),
    Skipped(String),
    Replayed {
        snapshot: String,
        /// The wire snapshot's name, for a fixture with `wire = true`.
        wire_snapshot: Option<String>,
        outcome: Outcome,
    },
    Error(String),
}

fn say(answer: &Answer) {
    // One line per answer; a failed write means the parent is gone.
    if let Ok(json) = serde_json::to_string(answer) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{PREFIX}{json}");
        let _ = out.flush();
    }
}

/// The worker's main loop: load the target, describe it, then replay each
/// fixture read from stdin in a fresh host. Returns the exit code.
pub fn worker(target: &Target, settle: Duration) -> u8 {
    let load = |host: &Host| host.load_named(&target.provider, &target.config);
    let host = Host::new();
    let description = match load(&host).map(|id| host.describe(id)) {
        Ok(Ok(description)) => description,
        Ok(Err(error)) => {
            say(&Answer::LoadError(error.to_string()));
            return 2;
        }
        Err(error) => {
            say(&Answer::LoadError(error.to_string()));
            return 2;
        }
    };
    let caps = description.capabilities.clone();
    let name = description.name.clone();
    say(&Answer::Ready(description));
    drop(host);
    let options = Options { settle };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match serde_json::from_str::<Job>(&line) {
            Ok(job) => replay_job(&job, &name, &caps, options, &load),
            Err(error) => Answer::Error(format!("bad job from the parent: {error}")),
        };
        say(&answer);
    }
    0
}

fn replay_job(
    job: &Job,
    provider_name: &str,
    caps: &Capabilities,
    options: Options,
    load: &dyn Fn(&Host) -> Result<cleardown_host::ProviderId, cleardown_host::LoadError>,
) -> Answer {
    let fixture = match fixture::parse(&job.file, &job.source) {
        Ok(fixture) => fixture,
        Err(error) => return Answer::Error(error.to_string()),
    };
    let binding = match replay::gate(&fixture, caps) {
        Gate::Skip(reason) => return Answer::Skipped(reason),
        Gate::Run(binding) => binding,
    };
    // A fresh host and provider instance per fixture: nothing carries over.
    let host = Host::new();
    let provider = match load(&host) {
        Ok(provider) => provider,
        Err(error) => return Answer::Error(format!("reloading the provider failed: {error}")),
    };
    let mut outcome = replay::replay(&host, provider, caps, &fixture, &binding, options);
    outcome.judge(&fixture, &replay::oracle_context(caps, &binding));
    Answer::Replayed {
        snapshot: replay::snapshot_name(&fixture, &binding),
        wire_snapshot: fixture
            .wire
            .then(|| wire::snapshot_name(&fixture, &binding, caps, provider_name)),
        outcome,
    }
}

/// A running worker.
struct Worker {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<Answer>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// Keeps the last lines a child wrote to stderr, to name in a crash report.
const STDERR_LINES: usize = 12;

impl Worker {
    fn spawn(target: &Target, options: &RunOptions) -> Result<(Worker, Answer), String> {
        let mut child = Command::new(&options.worker)
            .arg(WORKER_COMMAND)
            .arg("--plugin")
            .arg(&target.provider)
            .arg("--config")
            .arg(&target.config)
            .arg("--settle-ms")
            .arg(options.settle.as_millis().to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.worker.display()))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err("the worker's pipes were not set up".to_owned());
        };
        let (send, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(json) = line.strip_prefix(PREFIX) {
                    let answer = serde_json::from_str(json).unwrap_or_else(|e| {
                        Answer::Error(format!("unreadable answer from the worker: {e}"))
                    });
                    if send.send(answer).is_err() {
                        break;
                    }
                }
            }
        });
        let kept = Arc::new(Mutex::new(Vec::new()));
        let sink = kept.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut lines = sink.lock().unwrap_or_else(|e| e.into_inner());
                lines.push(line);
                if lines.len() > STDERR_LINES {
                    lines.remove(0);
                }
            }
        });
        let mut worker = Worker {
            child,
            stdin,
            answers,
            stderr: kept,
        };
        let first = worker.receive(options.timeout);
        match first {
            Ok(answer) => Ok((worker, answer)),
            Err(death) => Err(death.message),
        }
    }

    fn send(&mut self, job: &Job) -> bool {
        serde_json::to_string(job).is_ok_and(|json| writeln!(self.stdin, "{json}").is_ok())
            && self.stdin.flush().is_ok()
    }

    fn receive(&mut self, timeout: Duration) -> Result<Answer, Death> {
        match self.answers.recv_timeout(timeout) {
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(Death {
                    kind: report::FailureKind::Timeout,
                    message: format!(
                        "timed out after {:.1} s; the provider's process was killed",
                        timeout.as_secs_f64()
                    ),
                })
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait();
                // The stderr reader may still be draining the last lines.
                std::thread::sleep(Duration::from_millis(20));
                let stderr = self.stderr.lock().map(|l| l.join("\n")).unwrap_or_default();
                let how = match status {
                    Ok(status) => describe_exit(status),
                    Err(e) => format!("vanished ({e})"),
                };
                Err(Death {
                    kind: report::FailureKind::Crash,
                    message: if stderr.is_empty() {
                        format!("the provider's process {how}")
                    } else {
                        format!("the provider's process {how}; its last output:\n{stderr}")
                    },
                })
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Death {
    kind: report::FailureKind,
    message: String,
}

fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => "SIGILL",
                6 => "SIGABRT",
                7 => "SIGBUS",
                8 => "SIGFPE",
                9 => "SIGKILL",
                11 => "SIGSEGV",
                13 => "SIGPIPE",
                15 => "SIGTERM",
                _ => "a signal",
            };
            return format!("was killed by signal {signal} ({name})");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended".to_owned(),
    }
}

fn record(description: &ProviderDescription) -> report::ProviderRecord {
    let caps = &description.capabilities;
    report::ProviderRecord {
        name: description.name.clone(),
        version: description.version.clone(),
        contract: description.contract.to_string(),
        path: description.path.as_ref().map(|p| p.display().to_string()),
        capabilities: report::Capabilities {
            uui_drop_size: caps.uui_drop_size,
            reject_by_drop: caps.reject_by_drop,
            close_drop: caps.close_drop,
            addresses: caps
                .addresses
                .iter()
                .map(|a| report::Address {
                    name: a.name.clone(),
                    conf_drop: a.conf_drop,
                    sharing: a.sharing.name().to_owned(),
                    features: a.features.names().iter().map(|n| (*n).to_owned()).collect(),
                })
                .collect(),
        },
    }
}

fn result_for(entry: &Entry) -> report::FixtureResult {
    report::FixtureResult {
        name: entry.fixture.name.clone(),
        file: entry.fixture.file.clone(),
        title: entry.fixture.title.clone(),
        rules: entry.fixture.rules.clone(),
        status: report::Status::Pass,
        snapshot: None,
        skip_reason: None,
        failures: Vec::new(),
        transcript: None,
        wire: None,
        unjudged: Vec::new(),
        duration_ms: 0,
    }
}

fn failure(kind: report::FailureKind, message: String, rules: Vec<String>) -> report::Failure {
    report::Failure {
        kind,
        message,
        rules,
        diff: None,
    }
}

/// Writes `NAME.snap.new` into `dir` when pending files are wanted, and
/// says so in words to append to a message.
fn pending(
    dir: Option<&std::path::Path>,
    name: &str,
    kind: Kind,
    actual: &str,
    options: &RunOptions,
) -> (String, Option<String>) {
    let Some(dir) = dir.filter(|_| options.write_pending) else {
        return (String::new(), None);
    };
    match snapshot::write_pending(dir, name, kind, actual) {
        Ok(path) => (
            format!(
                "; wrote {} (review it, then rename it to .snap or run `cargo insta review`)",
                path.display()
            ),
            Some(path.display().to_string()),
        ),
        Err(e) => (format!("; could not write a .snap.new: {e}"), None),
    }
}

/// Compares the transcript with snapshot `name`; a missing or differing
/// snapshot is a failure, and for an author's fixture writes
/// `NAME.snap.new` beside where the snapshot belongs.
fn compare_transcript(
    suite: &Suite,
    entry: &Entry,
    name: &str,
    actual: &str,
    options: &RunOptions,
) -> Option<report::Failure> {
    let rules = entry.fixture.rules.clone();
    let dir = match &entry.origin {
        Origin::Dir(dir) => Some(suite::snapshot_dir(dir)),
        Origin::Bundled => None,
    };
    let pending = || pending(dir.as_deref(), name, Kind::Transcript, actual, options).0;
    match suite.snapshot(&entry.origin, name) {
        None => Some(failure(
            report::FailureKind::MissingSnapshot,
            format!(
                "no snapshot `{name}` for this fixture and profile{}",
                pending()
            ),
            rules,
        )),
        Some(expected) if !snapshot::matches(&expected, actual) => {
            let mut f = failure(
                report::FailureKind::Transcript,
                format!("the transcript differs from snapshot `{name}`{}", pending()),
                rules,
            );
            f.diff = Some(snapshot::diff(&expected, actual));
            Some(f)
        }
        Some(_) => None,
    }
}

/// Where `entry`'s wire snapshots for this target live (see [`Home`]).
fn wire_home(entry: &Entry, bundled_target: bool, options: &RunOptions) -> Home {
    match &entry.origin {
        Origin::Dir(dir) => Home::Dir(suite::snapshot_dir(dir)),
        Origin::Bundled if bundled_target => Home::Bundled,
        Origin::Bundled => options
            .wire_snapshots
            .clone()
            .map_or(Home::Nowhere, Home::Dir),
    }
}

/// Judges a wire log against the provider's wire snapshot `name` in
/// `home`: matches, differs (a failure), or not pinned (reported, and
/// written as pending where there is a directory to write to).
fn check_wire(
    home: &Home,
    name: &str,
    actual: &str,
    entry: &Entry,
    options: &RunOptions,
) -> (report::WireCheck, Option<report::Failure>) {
    let expected = match home {
        Home::Bundled => suite::bundled_snapshot(name),
        Home::Dir(dir) => snapshot::read(dir, name),
        Home::Nowhere => None,
    };
    let dir = match home {
        Home::Dir(dir) => Some(dir.as_path()),
        Home::Bundled | Home::Nowhere => None,
    };
    let check = |status, pending| report::WireCheck {
        snapshot: name.to_owned(),
        status,
        pending,
    };
    match expected {
        Some(expected) if snapshot::matches(&expected, actual) => {
            (check(report::WireStatus::Matches, None), None)
        }
        Some(expected) => {
            let (words, path) = pending(dir, name, Kind::WireLog, actual, options);
            let mut f = failure(
                report::FailureKind::WireLog,
                format!("the wire log differs from the provider's wire snapshot `{name}`{words}"),
                entry.fixture.rules.clone(),
            );
            f.diff = Some(snapshot::diff(&expected, actual));
            (check(report::WireStatus::Differs, path), Some(f))
        }
        // Every bundled provider's wire text is pinned in the binary; one
        // missing is a cleardown that should not have shipped.
        None if *home == Home::Bundled => (
            check(report::WireStatus::NotPinned, None),
            Some(failure(
                report::FailureKind::MissingSnapshot,
                format!("no bundled wire snapshot `{name}` for this bundled provider"),
                entry.fixture.rules.clone(),
            )),
        ),
        None => {
            let (_, path) = pending(dir, name, Kind::WireLog, actual, options);
            (check(report::WireStatus::NotPinned, path), None)
        }
    }
}

/// Judges a replayed fixture: transcript against snapshot, then the checks
/// that hold for every fixture (D3 replies, T5 leaks, X2 faults).
#[allow(clippy::too_many_arguments)]
fn judge(
    suite: &Suite,
    entry: &Entry,
    bundled_target: bool,
    snapshot_name: String,
    wire_snapshot: Option<String>,
    outcome: Outcome,
    options: &RunOptions,
    result: &mut report::FixtureResult,
) {
    result.failures.extend(compare_transcript(
        suite,
        entry,
        &snapshot_name,
        &outcome.transcript,
        options,
    ));
    if let (Some(wire), Some(name)) = (&outcome.wire, &wire_snapshot) {
        let home = wire_home(entry, bundled_target, options);
        let (check, failed) = check_wire(&home, name, wire, entry, options);
        result.wire = Some(check);
        result.failures.extend(failed);
    }
    result.unjudged = outcome.unjudged.clone();
    // Verdicts on the run as a whole (D3, T5, X2) are the harness's own
    // failures below already.
    for verdict in outcome.verdicts.iter().filter(|v| v.step.is_some()) {
        let line = verdict
            .step
            .and_then(|i| entry.fixture.steps.get(i))
            .map(|(line, _)| format!("{}:{line}: ", entry.fixture.file))
            .unwrap_or_default();
        result.failures.push(failure(
            report::FailureKind::Rule,
            format!("{line}{} broken: {}", verdict.rule, verdict.message),
            vec![verdict.rule.clone()],
        ));
    }
    if !outcome.missing_replies.is_empty() {
        result.failures.push(failure(
            report::FailureKind::NoReply,
            format!(
                "no Reply to {} (every request gets exactly one, D3)",
                outcome.missing_replies.join(", ")
            ),
            vec!["D3".to_owned()],
        ));
    }
    if !outcome.leaks.is_empty() {
        result.failures.push(failure(
            report::FailureKind::Leak,
            format!(
                "handles left Idle and not deallocated (T5): {}",
                outcome.leaks.join("; ")
            ),
            vec!["T5".to_owned()],
        ));
    }
    if let Some(fault) = &outcome.fault {
        result.failures.push(failure(
            report::FailureKind::Fault,
            format!("the host faulted the provider (X2): {fault}"),
            vec!["X2".to_owned()],
        ));
    }
    result.snapshot = Some(snapshot_name);
    result.transcript = Some(outcome.transcript);
}

/// Runs every fixture of `suite` against `target` in child processes.
pub fn run_target(suite: &Suite, target: &Target, options: &RunOptions) -> report::Run {
    let started = Instant::now();
    let mut run = report::Run {
        target: target.provider.clone(),
        config: target.config.clone(),
        provider: None,
        load_error: None,
        fixtures: Vec::new(),
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
    for entry in &suite.entries {
        let mut result = result_for(entry);
        let fixture_started = Instant::now();
        if worker.is_none() {
            match Worker::spawn(target, options) {
                Ok((w, Answer::Ready(description))) => {
                    run.provider.get_or_insert_with(|| record(&description));
                    worker = Some(w);
                }
                Ok((_, Answer::LoadError(message))) | Err(message) if run.provider.is_none() => {
                    run.load_error = Some(message);
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
                    judge(
                        suite,
                        entry,
                        bundled_target,
                        snapshot,
                        wire_snapshot,
                        outcome,
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
        result.duration_ms = fixture_started.elapsed().as_millis() as u64;
        run.fixtures.push(result);
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
        let label = if run.config.is_empty() {
            run.target.clone()
        } else {
            format!("{} [{}]", run.target, run.config)
        };
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
            let status = if t.fixtures.is_empty() {
                report::RuleStatus::Uncovered
            } else if !t.failed_in.is_empty() {
                report::RuleStatus::Fail
            } else if t.passed {
                report::RuleStatus::Pass
            } else {
                report::RuleStatus::Skip
            };
            report::RuleResult {
                id: rule.id,
                summary: rule.summary,
                status,
                fixtures: t.fixtures,
                failed_in: t.failed_in,
                skip_reasons: if status == report::RuleStatus::Skip {
                    t.skips.into_iter().map(|(reason, _)| reason).collect()
                } else {
                    Vec::new()
                },
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
        ],
    ),
    // The memory transport: deterministic, with the far end inside the
    // plugin. The udp transport meets real peers (the SIPp interop tests).
    ("sip", &["transport=memory"]),
];

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
            variants.iter().map(|config| Target {
                provider: (*name).to_owned(),
                config: (*config).to_owned(),
            })
        })
        .collect()
}
