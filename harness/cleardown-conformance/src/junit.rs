//! The report as JUnit XML for CI, written with quick-junit (the writer
//! cargo-nextest uses), so the counts are the test cases' own and cannot
//! disagree with them.
//!
//! The XML is what both schemas CI systems check it against accept: the
//! Jenkins xUnit plugin's `junit-10.xsd` and Maven Surefire's report XSD
//! (`tests/xsd/`, and a test that validates against them):
//!
//! - one `<testsuite>` per target, one `<testcase>` per fixture, one per
//!   exploration (or per rule it found broken), and a `load` case with an
//!   `<error>` for a target that did not load;
//! - `classname` names the provider as it declared itself, with its
//!   configuration and far-end driver, never its library path, so it is
//!   the same on every runner; it has no `.`, at which Jenkins splits a
//!   class name into a package and a class;
//! - what the schemas have no attribute for (the fixture's file and SPEC
//!   rules) is in the case's `<system-out>`; the path of the library and
//!   the per-rule coverage are the suite's `<properties>`;
//! - text XML 1.0 cannot carry (control characters, U+FFFE, U+FFFF) is
//!   written as a visible `\u{…}` escape, never dropped.

use std::time::Duration;

use cleardown_report::{Exploration, FixtureResult, Report, Run, Status};
use quick_junit::{NonSuccessKind, Property, TestCase, TestCaseStatus, TestSuite};

use crate::render::coverage_value;

/// `text` with every character XML 1.0 cannot carry (its `Char`
/// production) written as `\u{…}`, so the file stays well formed and the
/// value is still there to read.
pub fn xml_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        let allowed = matches!(c, '\t' | '\n' | '\r')
            || (' '..='\u{D7FF}').contains(&c)
            || ('\u{E000}'..='\u{FFFD}').contains(&c)
            || c >= '\u{10000}';
        if allowed {
            out.push(c);
        } else {
            out.push_str(&format!("\\u{{{:x}}}", c as u32));
        }
    }
    out
}

/// The class name of a target's cases: its declared name (or, when it did
/// not load, its library's file name without directories), its
/// configuration and far-end driver; `.` becomes `_` so CI does not split
/// it into a package.
pub fn class_name(run: &Run) -> String {
    let provider = match &run.provider {
        Some(provider) => provider.name.clone(),
        None => std::path::Path::new(&run.target)
            .file_name()
            .map_or_else(|| run.target.clone(), |n| n.to_string_lossy().into_owned()),
    };
    let mut name = provider;
    if !run.config.is_empty() {
        name.push_str(&format!(" [{}]", run.config));
    }
    if let Some(driver) = &run.far_end {
        name.push_str(&format!(" far end {driver}"));
    }
    xml_text(&name.replace('.', "_"))
}

fn seconds(ms: u64) -> Duration {
    Duration::from_millis(ms)
}

fn fixture_case(class: &str, fixture: &FixtureResult) -> TestCase {
    let status = match fixture.status {
        Status::Pass => TestCaseStatus::success(),
        Status::Skip => {
            let mut status = TestCaseStatus::skipped();
            status.set_message(xml_text(
                fixture.skip_reason.as_deref().unwrap_or("skipped"),
            ));
            status
        }
        Status::Fail => {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            let first = fixture.failures.first();
            status.set_message(xml_text(
                first
                    .map(|f| f.message.lines().next().unwrap_or_default())
                    .unwrap_or("failed"),
            ));
            status
                .set_type(first.map_or_else(|| "Failure".to_owned(), |f| format!("{:?}", f.kind)));
            let mut body = String::new();
            for failure in &fixture.failures {
                body.push_str(&failure.message);
                body.push('\n');
                if let Some(diff) = &failure.diff {
                    body.push_str(diff);
                }
            }
            status.set_description(xml_text(&body));
            status
        }
    };
    let mut case = TestCase::new(xml_text(&fixture.name), status);
    case.set_classname(class)
        .set_time(seconds(fixture.duration_ms))
        .set_system_out(xml_text(&format!(
            "fixture: {}\nrules: {}\n",
            fixture.file,
            fixture.rules.join(" ")
        )));
    case
}

fn exploration_cases(class: &str, explored: &Exploration) -> Vec<TestCase> {
    if explored.ran <= explored.skipped {
        return Vec::new();
    }
    if explored.failures.is_empty() {
        let mut case = TestCase::new(
            format!(
                "explore (seed {}, {} scenarios)",
                explored.seed,
                explored.ran - explored.skipped
            ),
            TestCaseStatus::success(),
        );
        case.set_classname(class)
            .set_time(seconds(explored.duration_ms));
        return vec![case];
    }
    explored
        .failures
        .iter()
        .map(|found| {
            let mut status = TestCaseStatus::non_success(NonSuccessKind::Failure);
            status
                .set_message(xml_text(found.message.lines().next().unwrap_or_default()))
                .set_type("Rule")
                .set_description(xml_text(&match &found.fixture {
                    Some(file) => format!("{}\nwritten as {file}", found.message),
                    None => found.message.clone(),
                }));
            let mut case = TestCase::new(
                xml_text(&format!("explore {} (seed {})", found.rule, found.seed)),
                status,
            );
            case.set_classname(class)
                .set_time(Duration::ZERO)
                .set_system_out(xml_text(&format!("rules: {}\n", found.rule)));
            case
        })
        .collect()
}

fn suite(run: &Run) -> TestSuite {
    let class = class_name(run);
    let mut suite = TestSuite::new(class.clone());
    suite.set_time(seconds(run.duration_ms));
    suite.add_property(Property::new("target", xml_text(&run.target)));
    for rule in &run.coverage {
        suite.add_property(Property::new(
            xml_text(&format!("coverage.{}", rule.rule)),
            xml_text(&coverage_value(rule)),
        ));
    }
    if let Some(error) = &run.load_error {
        let mut status = TestCaseStatus::non_success(NonSuccessKind::Error);
        status
            .set_message(xml_text(error.lines().next().unwrap_or_default()))
            .set_type("LoadError")
            .set_description(xml_text(error));
        let mut case = TestCase::new("load", status);
        case.set_classname(class.as_str())
            .set_time(seconds(run.duration_ms));
        suite.add_test_case(case);
    }
    for fixture in &run.fixtures {
        suite.add_test_case(fixture_case(&class, fixture));
    }
    if let Some(explored) = &run.explore {
        suite.add_test_cases(exploration_cases(&class, explored));
    }
    suite
}

/// The JUnit XML of `report`.
pub fn junit(report: &Report) -> String {
    let mut junit = quick_junit::Report::new("cleardown conformance");
    junit.set_time(seconds(report.summary.duration_ms));
    junit.add_test_suites(report.runs.iter().map(suite));
    let xml = junit
        .to_string()
        .expect("quick-junit writes to a String without I/O errors");
    without_root_skipped(&xml)
}

/// `xml` without the `skipped` attribute quick-junit writes on the root
/// `<testsuites>`: junit-10.xsd does not allow it there (each
/// `<testsuite>` keeps its own). Attribute values are escaped, so the first
/// ` skipped="` after `<testsuites ` is that attribute.
fn without_root_skipped(xml: &str) -> String {
    let Some(root) = xml.find("<testsuites ") else {
        return xml.to_owned();
    };
    let end = root + xml[root..].find('>').unwrap_or(xml.len() - root);
    let Some(at) = xml[root..end].find(" skipped=\"").map(|i| root + i) else {
        return xml.to_owned();
    };
    let value_end = xml[at + 10..].find('"').map_or(end, |i| at + 10 + i + 1);
    format!("{}{}", &xml[..at], &xml[value_end..])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_xml_cannot_carry_is_escaped_not_dropped() {
        assert_eq!(xml_text("a\u{FFFF}b"), "a\\u{ffff}b");
        assert_eq!(xml_text("bell\u{7}"), "bell\\u{7}");
        assert_eq!(xml_text("tab\tnew\nline"), "tab\tnew\nline");
        assert_eq!(xml_text("ünï 😀 \u{FFFD}"), "ünï 😀 \u{FFFD}");
    }

    #[test]
    fn the_root_loses_only_its_skipped() {
        let xml = "<?xml?>\n<testsuites name=\"x skipped=&quot;\" tests=\"3\" skipped=\"1\" failures=\"0\">\n<testsuite name=\"a\" skipped=\"1\">";
        assert_eq!(
            without_root_skipped(xml),
            "<?xml?>\n<testsuites name=\"x skipped=&quot;\" tests=\"3\" failures=\"0\">\n<testsuite name=\"a\" skipped=\"1\">"
        );
    }
}
