//! The report for people (text) and for CI (JUnit XML).

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
        format!("{} (default config){far_end}", run.target)
    } else {
        format!("{} (config \"{}\"){far_end}", run.target, run.config)
    }
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
            let _ = writeln!(out, "  LOAD ERROR  {error}");
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
                            let what = match failure.kind {
                                FailureKind::WireLog => "wire log",
                                _ => "transcript",
                            };
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

/// Escapes text for an XML attribute or element.
pub fn xml_escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            // XML 1.0 cannot carry most control characters at all.
            c if (c as u32) < 0x20 && !matches!(c, '\n' | '\r' | '\t') => {
                let _ = write!(out, "\\u{{{:x}}}", c as u32);
            }
            c => out.push(c),
        }
    }
    out
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

/// JUnit XML: one `<testsuite>` per target, one `<testcase>` per fixture
/// (`classname` the target, `name` the fixture), `<failure>` with the
/// messages and diff, `<skipped>` with the reason, and the SPEC rules as a
/// `rules` property.
pub fn junit(report: &Report) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let s = &report.summary;
    // Each target's exploration is a test case when it held every rule,
    // and one failing test case per rule it found broken.
    let explored = |run: &cleardown_report::Run| match &run.explore {
        Some(e) if e.ran > 0 => (e.failures.len().max(1), e.failures.len()),
        _ => (0, 0),
    };
    let (explore_cases, explore_failed) = report
        .runs
        .iter()
        .map(explored)
        .fold((0, 0), |(a, b), (c, d)| (a + c, b + d));
    let _ = writeln!(
        out,
        "<testsuites name=\"cleardown conformance\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{}\" time=\"{:.3}\">",
        s.passed + s.failed + s.skipped + explore_cases,
        s.failed + explore_failed,
        s.skipped,
        s.load_errors,
        s.duration_ms as f64 / 1000.0
    );
    for run in &report.runs {
        let name = xml_escape(&label(run));
        let count = |status| run.fixtures.iter().filter(|f| f.status == status).count();
        let _ = writeln!(
            out,
            "  <testsuite name=\"{name}\" tests=\"{}\" failures=\"{}\" skipped=\"{}\" errors=\"{}\" time=\"{:.3}\">",
            run.fixtures.len() + explored(run).0,
            count(Status::Fail) + explored(run).1,
            count(Status::Skip),
            usize::from(run.load_error.is_some()),
            run.duration_ms as f64 / 1000.0
        );
        // Where each rule was checked on this target: `coverage.RULE`.
        if !run.coverage.is_empty() {
            out.push_str("    <properties>\n");
            for rule in &run.coverage {
                let _ = writeln!(
                    out,
                    "      <property name=\"coverage.{}\" value=\"{}\"/>",
                    xml_escape(&rule.rule),
                    xml_escape(&coverage_value(rule))
                );
            }
            out.push_str("    </properties>\n");
        }
        if let Some(error) = &run.load_error {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{name}\" name=\"load\"><error message=\"{}\"/></testcase>",
                xml_escape(error)
            );
        }
        for fixture in &run.fixtures {
            let _ = writeln!(
                out,
                "    <testcase classname=\"{name}\" name=\"{}\" file=\"{}\" time=\"{:.3}\">",
                xml_escape(&fixture.name),
                xml_escape(&fixture.file),
                fixture.duration_ms as f64 / 1000.0
            );
            let _ = writeln!(
                out,
                "      <properties><property name=\"rules\" value=\"{}\"/></properties>",
                xml_escape(&fixture.rules.join(" "))
            );
            match fixture.status {
                Status::Pass => {}
                Status::Skip => {
                    let _ = writeln!(
                        out,
                        "      <skipped message=\"{}\"/>",
                        xml_escape(fixture.skip_reason.as_deref().unwrap_or(""))
                    );
                }
                Status::Fail => {
                    let first = fixture
                        .failures
                        .first()
                        .map(|f| f.message.lines().next().unwrap_or_default())
                        .unwrap_or_default();
                    let mut body = String::new();
                    for failure in &fixture.failures {
                        body.push_str(&failure.message);
                        body.push('\n');
                        if let Some(diff) = &failure.diff {
                            body.push_str(diff);
                        }
                    }
                    let kind = fixture
                        .failures
                        .first()
                        .map(|f| format!("{:?}", f.kind))
                        .unwrap_or_default();
                    let _ = writeln!(
                        out,
                        "      <failure message=\"{}\" type=\"{}\">{}</failure>",
                        xml_escape(first),
                        xml_escape(&kind),
                        xml_escape(&body)
                    );
                }
            }
            out.push_str("    </testcase>\n");
        }
        if let Some(e) = run.explore.as_ref().filter(|e| e.ran > e.skipped) {
            if e.failures.is_empty() {
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"{name}\" name=\"explore (seed {}, {} scenarios)\" time=\"{:.3}\"/>",
                    e.seed,
                    e.ran - e.skipped,
                    e.duration_ms as f64 / 1000.0
                );
            }
            for found in &e.failures {
                let _ = writeln!(
                    out,
                    "    <testcase classname=\"{name}\" name=\"explore {} (seed {})\" time=\"0.000\">\n      <properties><property name=\"rules\" value=\"{}\"/></properties>\n      <failure message=\"{}\" type=\"Rule\">{}{}</failure>\n    </testcase>",
                    xml_escape(&found.rule),
                    found.seed,
                    xml_escape(&found.rule),
                    xml_escape(found.message.lines().next().unwrap_or_default()),
                    xml_escape(&found.message),
                    found
                        .fixture
                        .as_ref()
                        .map_or_else(String::new, |f| xml_escape(&format!("\nwritten as {f}")))
                );
            }
        }
        out.push_str("  </testsuite>\n");
    }
    out.push_str("</testsuites>\n");
    out
}
