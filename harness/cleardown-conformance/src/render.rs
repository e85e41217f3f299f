//! The report for people (text); JUnit XML for CI is `junit.rs`'s.

use std::fmt::Write as _;

use cleardown_report::{FailureKind, FixtureResult, Report, RuleStatus, Run, Status, WireStatus};

/// A target as people name it: `pbx-sim (config "uui=16")`, and
/// `… far end sip` when a far-end driver played the far end.
pub fn label(run: &Run) -> String {
    let far_end = run
        .far_end
        .as_ref()
        .map_or_else(String::new, |driver| format!(" far end {driver}"));
    if run.config.is_empty() {
        format!("{} (default config){far_end}", printable(&run.target))
    } else {
        format!(
            "{} (config \"{}\"){far_end}",
            printable(&run.target),
            printable(&run.config)
        )
    }
}

/// `text` safe to print on a terminal: control characters (an escape
/// sequence in a configuration string, a bell, a newline that would split
/// a one-line message) written as `\u{…}`.
pub fn printable(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        } else {
            out.push(c);
        }
    }
    out
}

fn indent(text: &str, by: &str) -> String {
    text.lines().map(|l| format!("{by}{l}\n")).collect()
}

/// The text report: per target, one line per fixture (failures with their
/// messages and diffs), then one line per SPEC rule, then the totals.
pub fn text(report: &Report) -> String {
    let mut out = String::new();
    for run in &report.runs {
        let _ = write!(out, "{}", label(run));
        if let Some(p) = &run.provider {
            let _ = write!(out, ": {} {}, contract {}", p.name, p.version, p.contract);
        }
        out.push('\n');
        if let Some(error) = &run.load_error {
            let _ = writeln!(out, "  LOAD ERROR  {}", printable(error));
            continue;
        }
        for fixture in &run.fixtures {
            let rules = fixture.rules.join(" ");
            match fixture.status {
                Status::Pass => {
                    let _ = writeln!(
                        out,
                        "  PASS  {} [{rules}]{}",
                        fixture.name,
                        not_pinned(fixture)
                    );
                }
                Status::Skip => {
                    let _ = writeln!(
                        out,
                        "  SKIP  {} [{rules}]: {}",
                        fixture.name,
                        fixture.skip_reason.as_deref().unwrap_or("")
                    );
                }
                Status::Fail => {
                    let _ = writeln!(
                        out,
                        "  FAIL  {} [{rules}]  ({})",
                        fixture.name, fixture.file
                    );
                    for failure in &fixture.failures {
                        out.push_str(&indent(&failure.message, "        "));
                        if let Some(diff) = &failure.diff {
                            let what = diffed(failure.kind);
                            let _ = writeln!(out, "        --- snapshot\n        +++ {what}");
                            out.push_str(&indent(diff, "        "));
                        }
                    }
                }
            }
        }
        if let Some(explored) = &run.explore {
            out.push_str(&exploration(explored));
        }
    }
    out.push_str("\nSPEC rules\n");
    for rule in &report.rules {
        let (status, detail) = rule_verdict(rule);
        let _ = writeln!(out, "  {:<4} {status:<9} {detail}", rule.id);
    }
    let s = &report.summary;
    let partial = report
        .rules
        .iter()
        .filter(|r| r.status == RuleStatus::Partial)
        .count();
    let _ = writeln!(
        out,
        "\n{} target(s): {} passed, {} failed, {} skipped{}{}{}{} in {:.2} s",
        s.runs,
        s.passed,
        s.failed,
        s.skipped,
        if s.scenarios > 0 {
            format!(
                "; {} generated scenario(s), {} rule(s) broken",
                s.scenarios, s.explore_failed
            )
        } else {
            String::new()
        },
        if s.load_errors > 0 {
            format!(", {} could not be loaded", s.load_errors)
        } else {
            String::new()
        },
        if s.wire_not_pinned > 0 {
            format!(
                "; {} wire log(s) not pinned (the provider's own wire text: see --wire-snapshots)",
                s.wire_not_pinned
            )
        } else {
            String::new()
        },
        match partial {
            0 => String::new(),
            n => format!(
                "; {n} rule(s) PARTIAL: a situation the declaration implies was not reached"
            ),
        },
        s.duration_ms as f64 / 1000.0
    );
    out
}

/// The exploration's lines under a target.
fn exploration(explored: &cleardown_report::Exploration) -> String {
    let mut out = String::new();
    if let Some(why) = &explored.not_generated {
        let _ = writeln!(out, "  EXPLORE  none generated: {why}");
        return out;
    }
    if explored.skipped > 0 {
        let _ = writeln!(
            out,
            "  EXPLORE  {} of {} generated scenario(s) skipped: {}",
            explored.skipped,
            explored.ran,
            explored.skip_reason.as_deref().unwrap_or("no reason given")
        );
    }
    if explored.failures.is_empty() && explored.skipped < explored.ran {
        let _ = writeln!(
            out,
            "  EXPLORE  {} generated scenario(s) (seed {}), every rule held",
            explored.ran - explored.skipped,
            explored.seed
        );
        return out;
    }
    for found in &explored.failures {
        let _ = writeln!(
            out,
            "  EXPLORE FAIL  {} broken by {} of {} generated scenario(s) (seed {}); shrunk from {} to {} steps (scenario seed {})",
            found.rule,
            found.count,
            explored.ran,
            explored.seed,
            found.generated_steps,
            found.steps,
            found.seed
        );
        out.push_str(&indent(&found.message, "        "));
        match (&found.fixture, &found.write_error) {
            (Some(path), _) => {
                let _ = writeln!(
                    out,
                    "        written as {path}: `cleardown replay {path} --plugin …` shows it"
                );
            }
            (None, Some(error)) => {
                let _ = writeln!(out, "        could not be written: {error}");
            }
            (None, None) => {}
        }
    }
    out
}

/// What a failure's diff compares with the snapshot.
pub fn diffed(kind: FailureKind) -> &'static str {
    match kind {
        FailureKind::WireLog => "wire log",
        _ => "transcript",
    }
}

/// A SPEC rule's outcome in a word (upper case where it needs looking at)
/// and what it rests on.
pub fn rule_verdict(rule: &cleardown_report::RuleResult) -> (&'static str, String) {
    let status = match rule.status {
        RuleStatus::Pass => "pass",
        RuleStatus::Partial => "PARTIAL",
        RuleStatus::Fail => "FAIL",
        RuleStatus::Skip => "skip",
        RuleStatus::Uncovered => "UNCOVERED",
    };
    let detail = match rule.status {
        RuleStatus::Fail => format!("failed in {}", rule.failed_in.join("; ")),
        RuleStatus::Skip => rule.skip_reasons.first().cloned().unwrap_or_default(),
        RuleStatus::Uncovered => "no fixture covers it".to_owned(),
        RuleStatus::Pass => format!(
            "{} fixture(s); every situation its declaration implies reached",
            rule.fixtures.len()
        ),
        RuleStatus::Partial => format!("not reached in {}", rule.partial_in.join("; ")),
    };
    (status, detail)
}

/// `  (wire log not pinned: …)` for a passing fixture whose provider has
/// no wire snapshot yet, naming where the pending one went.
fn not_pinned(fixture: &FixtureResult) -> String {
    match &fixture.wire {
        Some(wire) if wire.status == WireStatus::NotPinned => match &wire.pending {
            Some(path) => format!("  (wire log not pinned; wrote {path})"),
            None => format!("  (wire log not pinned: no `{}`)", wire.snapshot),
        },
        _ => String::new(),
    }
}

/// One rule's coverage on a target in a word and its detail: `pass`,
/// `partial: not reached: held, consultation`, `skip: needs …`.
pub fn coverage_value(rule: &cleardown_report::RuleCoverage) -> String {
    let unreached = rule.situations_with(cleardown_report::SituationStatus::Unreached);
    let failed = rule.situations_with(cleardown_report::SituationStatus::Fail);
    match rule.status {
        RuleStatus::Pass => "pass".to_owned(),
        RuleStatus::Partial => format!("partial: not reached: {}", unreached.join(", ")),
        RuleStatus::Fail if failed.is_empty() => "fail".to_owned(),
        RuleStatus::Fail => format!("fail: in {}", failed.join(", ")),
        RuleStatus::Skip => format!("skip: {}", rule.skip_reason.as_deref().unwrap_or("skipped")),
        RuleStatus::Uncovered => "uncovered".to_owned(),
    }
}
