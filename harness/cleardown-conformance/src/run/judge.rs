//! Judging a replayed fixture: its transcript against the snapshot, its
//! wire log against the provider's wire snapshot, the oracle's verdicts,
//! and the checks that hold for every fixture (D3, T5, X2).

use std::path::Path;

use cleardown_host::ProviderDescription;
use cleardown_report as report;

use super::RunOptions;
use crate::{
    replay::Outcome,
    snapshot::{self, Kind},
    suite::{self, Entry, Origin, Suite},
    wire::Home,
};

pub(crate) fn record(description: &ProviderDescription) -> report::ProviderRecord {
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
            far_causes: caps.far_causes,
            uui_received_size: caps.uui_received_size,
            hang_up_delay_ms: caps.hang_up_delay_ms,
        },
    }
}

pub(crate) fn result_for(entry: &Entry) -> report::FixtureResult {
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

pub(crate) fn failure(
    kind: report::FailureKind,
    message: String,
    rules: Vec<String>,
) -> report::Failure {
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
    dir: Option<&Path>,
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
pub(crate) fn judge(
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
