//! The machine-readable report of `cleardown conformance --format json`.
//!
//! This crate is the schema and nothing else, so CI tooling can depend on it
//! without pulling in the host. The schema is versioned by [`SCHEMA`]:
//! within one version fields are only ever added, never renamed, removed or
//! retyped, and readers should ignore fields they do not know.
//!
//! ```json
//! {
//!   "schema": "cleardown-conformance/2",
//!   "cleardown": "0.1.0",
//!   "contract": "1.2",
//!   "summary": { "runs": 2, "passed": 80, "failed": 0, "skipped": 12, "load_errors": 0, "duration_ms": 950 },
//!   "runs": [ { "target": "pbx-sim", "config": "", "provider": { … }, "load_error": null,
//!               "fixtures": [ { "name": "c1-…", "status": "pass", "rules": ["C1"], … } ],
//!               "coverage": [ { "rule": "C1", "status": "pass", "situations": [ … ] } ] } ],
//!   "rules": [ { "id": "C1", "summary": "…", "status": "pass", "fixtures": ["c1-…"], "failed_in": [], "partial_in": [] } ]
//! }
//! ```

use serde::{Deserialize, Serialize};

/// The schema identifier written in every report.
///
/// Version 2 (contract 1.2): a rule's `status` is `pass` only where every
/// situation the declaration implies was reached and passed, and may be
/// `partial`; version 1 said `pass` where any fixture citing it passed.
/// A field changed meaning, so the version changed; every other field of
/// version 1 is as it was. Added with it: `runs[].coverage`, and
/// `rules[].partial_in`.
pub const SCHEMA: &str = "cleardown-conformance/2";

/// A whole conformance run: every provider target, every fixture, every rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// The version of the `cleardown` command that wrote the report.
    pub cleardown: String,
    /// The contract version the host speaks, `major.minor`.
    pub contract: String,
    /// Totals over every run.
    pub summary: Summary,
    /// One run per provider target (a library and a configuration string).
    pub runs: Vec<Run>,
    /// Every SPEC rule, with the fixtures that cover it and its outcome.
    pub rules: Vec<RuleResult>,
}

/// Totals.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Provider targets run.
    pub runs: usize,
    /// Fixture runs that passed.
    pub passed: usize,
    /// Fixture runs that failed.
    pub failed: usize,
    /// Fixture runs skipped because a capability is not declared.
    pub skipped: usize,
    /// Targets that could not be loaded at all.
    pub load_errors: usize,
    /// Fixture runs whose wire log the provider has not pinned yet (see
    /// [`WireCheck`]); not failures. Added in schema 1 after its first
    /// release, so absent (0) in older reports.
    #[serde(default)]
    pub wire_not_pinned: usize,
    /// Wall-clock time of the whole run.
    pub duration_ms: u64,
    /// Generated scenarios run, over every target (`--explore`). Added in
    /// schema 1 after its first release, so absent (0) in older reports.
    #[serde(default)]
    pub scenarios: usize,
    /// Rules broken by generated scenarios, counted once per target and
    /// rule. Added in schema 1 after its first release.
    #[serde(default)]
    pub explore_failed: usize,
}

/// One provider target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// The bundled provider name or library path, as given.
    pub target: String,
    /// The configuration string it was opened with.
    pub config: String,
    /// The far-end driver that played the far end (`sip`), when it was
    /// not the provider's own simulation. Added within schema 2.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub far_end: Option<String>,
    /// What the provider declared; `None` if it could not be loaded.
    pub provider: Option<ProviderRecord>,
    /// Why it could not be loaded, if it could not.
    pub load_error: Option<String>,
    /// Every fixture, in suite order.
    pub fixtures: Vec<FixtureResult>,
    /// What exploring generated scenarios found, if the run explored.
    /// Added in schema 1 after its first release.
    #[serde(default)]
    pub explore: Option<Exploration>,
    /// Every SPEC rule on this target: the situations its declaration
    /// implies, and where each was reached (schema 2).
    #[serde(default)]
    pub coverage: Vec<RuleCoverage>,
    /// Wall-clock time of this target's run.
    pub duration_ms: u64,
}

/// One SPEC rule on one target (SPEC §0 "situation").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleCoverage {
    /// `C1`, …
    pub rule: String,
    /// `pass` when every situation was reached and passed; `partial` when
    /// some were not reached; `fail`; `skip` when the declaration implies
    /// none (see `skip_reason`); `uncovered` when nothing checks it.
    pub status: RuleStatus,
    /// The situations the declaration implies, in order.
    pub situations: Vec<SituationCoverage>,
    /// For `skip`: the capability it needs, or why its fixtures skipped.
    pub skip_reason: Option<String>,
}

impl RuleCoverage {
    /// The names of its situations with `status`, in order.
    pub fn situations_with(&self, status: SituationStatus) -> Vec<&str> {
        self.situations
            .iter()
            .filter(|s| s.status == status)
            .map(|s| s.situation.as_str())
            .collect()
    }
}

/// One situation a rule applies to on one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SituationCoverage {
    /// `conference parent`, `UUI of exactly the size`, `any run`, …
    pub situation: String,
    /// What happened there.
    pub status: SituationStatus,
    /// A bundled or own fixture reached it.
    pub fixtures: bool,
    /// A generated scenario reached it.
    pub exploration: bool,
}

/// What happened in one situation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SituationStatus {
    /// Reached, and the rule held every time.
    Pass,
    /// Reached, and the rule broke there.
    Fail,
    /// Nothing reached it.
    Unreached,
}

/// Generated scenarios against one target, judged by the oracle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exploration {
    /// The run's seed: scenario `i`'s own seed derives from it.
    pub seed: u64,
    /// How many scenarios were asked for.
    pub scenarios: usize,
    /// How many ran.
    pub ran: usize,
    /// Why none could be generated, if none could.
    pub not_generated: Option<String>,
    /// How many of those that ran were skipped, and the first reason (the
    /// far end could not serve their far-end steps). Added within schema 2.
    #[serde(default)]
    pub skipped: usize,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_reason: Option<String>,
    /// One per rule broken: the first scenario that broke it, shrunk.
    pub failures: Vec<ExploredFailure>,
    /// Wall-clock time of the exploration.
    pub duration_ms: u64,
}

/// A rule a generated scenario broke.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExploredFailure {
    /// The SPEC rule.
    pub rule: String,
    /// The failing scenario's own seed.
    pub seed: u64,
    /// What the oracle said, for the shrunk scenario.
    pub message: String,
    /// Steps of the scenario as generated.
    pub generated_steps: usize,
    /// Steps after shrinking.
    pub steps: usize,
    /// How many scenarios of the run broke this rule.
    pub count: usize,
    /// The fixture file written for it (`--explore-out`), to replay and
    /// keep as a regression fixture.
    pub fixture: Option<String>,
    /// Why it could not be written, if it could not.
    pub write_error: Option<String>,
}

/// A provider's declaration (SPEC L2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProviderRecord {
    /// Its declared name.
    pub name: String,
    /// Its declared version.
    pub version: String,
    /// The contract version it was built against.
    pub contract: String,
    /// The library file, if loaded from one.
    pub path: Option<String>,
    /// Its capabilities.
    pub capabilities: Capabilities,
}

/// Declared capabilities (SPEC L2), as plain data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Capabilities {
    /// SPEC U1.
    pub uui_drop_size: u32,
    /// SPEC R1.
    pub reject_by_drop: bool,
    /// SPEC B5.
    pub close_drop: bool,
    /// Per address, in address order.
    pub addresses: Vec<Address>,
    /// SPEC L2, S3: the far end's release causes reach the provider.
    /// Added in schema 1 with contract 1.2, so absent (false) in older reports.
    #[serde(default)]
    pub far_causes: bool,
    /// SPEC L2, U5: the largest UUI kept from the far end, in bytes. Added
    /// in schema 1 with contract 1.2, so absent (0) in older reports.
    #[serde(default)]
    pub uui_received_size: u32,
    /// SPEC L2, S3: 0 when a far hang-up is signalled at once, else the
    /// milliseconds within which it is found. Added in schema 1 with
    /// contract 1.2, so absent (0) in older reports.
    #[serde(default)]
    pub hang_up_delay_ms: u32,
}

/// One address's capabilities.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Address {
    /// The provider's name for it.
    pub name: String,
    /// SPEC C1/C2.
    pub conf_drop: bool,
    /// SPEC §6: `Private`, `BridgedExclusive`, `BridgedNew`, `BridgedShared` or `Monitored`.
    pub sharing: String,
    /// The operations its calls support (`hold`, `setup_conference`, …);
    /// added in schema 1 after its first release, so absent in older reports.
    #[serde(default)]
    pub features: Vec<String>,
}

/// The outcome of one fixture against one target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Everything matched.
    Pass,
    /// At least one [`Failure`].
    Fail,
    /// Not run: a capability it needs is not declared (or one whose absence
    /// it checks is); see `skip_reason`.
    Skip,
}

/// One fixture against one target.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FixtureResult {
    /// The fixture's name (its file stem).
    pub name: String,
    /// Its file (bundled fixtures: `fixtures/NAME.toml`).
    pub file: String,
    /// What it shows.
    pub title: String,
    /// The SPEC rules it covers.
    pub rules: Vec<String>,
    /// Pass, fail or skip.
    pub status: Status,
    /// The snapshot it was compared with (`NAME` or `NAME@PROFILE`).
    pub snapshot: Option<String>,
    /// Why it was skipped.
    pub skip_reason: Option<String>,
    /// Why it failed; empty unless `status` is `fail`.
    pub failures: Vec<Failure>,
    /// The transcript it produced, if it ran to the end.
    pub transcript: Option<String>,
    /// For a fixture with `wire = true`: how the provider's wire text
    /// compared with its pinned wire snapshot. Added in schema 1 after its
    /// first release, so absent in older reports.
    #[serde(default)]
    pub wire: Option<WireCheck>,
    /// Situations this fixture met that the oracle does not model, so
    /// judged there only by the snapshot and the rules that hold
    /// everywhere. Added in schema 1 after its first release.
    #[serde(default)]
    pub unjudged: Vec<String>,
    /// Wall-clock time.
    pub duration_ms: u64,
}

/// The exact wire text of a fixture (what the far end received, as the
/// provider put it on the wire) against the provider's own wire snapshot.
/// What SPEC §10 pins about the far end (signal, cause, UUI bytes) is in
/// the provider-neutral transcript; the wire text is each provider's own,
/// so it is judged only once the provider's author has pinned it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WireCheck {
    /// The wire snapshot's name (`FIXTURE[@PROFILE].wire-PROVIDER`).
    pub snapshot: String,
    /// Matches, differs, or not pinned yet.
    pub status: WireStatus,
    /// Where the wire log was written for review (`NAME.snap.new`), if it was.
    pub pending: Option<String>,
}

/// How a wire log compared with its snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WireStatus {
    /// Equal to the pinned snapshot.
    Matches,
    /// Different from the pinned snapshot: a `wire_log` failure.
    Differs,
    /// No snapshot pinned for this provider: reported, not a failure.
    NotPinned,
}

/// What kind of failure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FailureKind {
    /// The transcript differs from the snapshot; `diff` shows how.
    Transcript,
    /// No snapshot exists for this fixture and profile.
    MissingSnapshot,
    /// The wire log differs from the provider's pinned wire snapshot;
    /// `diff` shows how. Added in schema 1 after its first release.
    WireLog,
    /// The oracle (SPEC as code) found the run breaking the rule in
    /// `rules` at a step, as the message says. Added in schema 1 after its
    /// first release.
    Rule,
    /// A request never got its Reply (SPEC D3).
    NoReply,
    /// Handles were left Idle and undeallocated (SPEC T5).
    Leak,
    /// The host faulted the provider: a panic or garbage (SPEC X2).
    Fault,
    /// The provider's process died (abort, segfault…); the signal is named.
    Crash,
    /// The fixture ran past the per-fixture timeout.
    Timeout,
    /// The harness could not run the fixture (e.g. reloading the provider failed).
    Error,
}

/// One reason a fixture failed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Failure {
    /// What kind.
    pub kind: FailureKind,
    /// One line a person can act on.
    pub message: String,
    /// The SPEC rules this failure counts against.
    pub rules: Vec<String>,
    /// For `transcript` and `wire_log`: a unified diff, `-` snapshot, `+` actual.
    pub diff: Option<String>,
}

/// A SPEC rule's outcome over the whole run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RuleStatus {
    /// Every situation the declaration implies was reached, on every
    /// target it applies to, and none failed.
    Pass,
    /// Nothing failed, but some situation was not reached: see
    /// `partial_in` (schema 2).
    Partial,
    /// Some failure counts against it.
    Fail,
    /// Every fixture covering it was skipped.
    Skip,
    /// No fixture covers it.
    Uncovered,
}

/// One SPEC rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleResult {
    /// `D3`, `C1`, …
    pub id: String,
    /// The rule's text, shortened to its first sentence.
    pub summary: String,
    /// Its outcome.
    pub status: RuleStatus,
    /// The fixtures that cite it.
    pub fixtures: Vec<String>,
    /// `TARGET [CONFIG] FIXTURE` for every failure that counts against it.
    pub failed_in: Vec<String>,
    /// Why it was skipped, when every fixture covering it was.
    pub skip_reasons: Vec<String>,
    /// For `partial`: `TARGET [CONFIG]: situation, …` for every target
    /// where a situation the declaration implies was not reached.
    #[serde(default)]
    pub partial_in: Vec<String>,
}

impl Report {
    /// The exit code `cleardown conformance` gives this report: 0 when
    /// everything passed, 1 when any fixture failed, 2 when a target could
    /// not be loaded.
    pub fn exit_code(&self) -> u8 {
        if self.summary.load_errors > 0 {
            2
        } else if self.summary.failed > 0 || self.summary.explore_failed > 0 {
            1
        } else {
            0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_names_are_the_documented_ones() {
        let names: Vec<String> = [Status::Pass, Status::Fail, Status::Skip]
            .iter()
            .map(|s| serde_json::to_string(s).expect("serializes"))
            .collect();
        assert_eq!(names, ["\"pass\"", "\"fail\"", "\"skip\""]);
        assert_eq!(
            serde_json::to_string(&FailureKind::MissingSnapshot).expect("serializes"),
            "\"missing_snapshot\""
        );
    }
}
