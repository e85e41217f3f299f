//! The report as GitHub-flavoured Markdown, for a CI job's step summary
//! (`cleardown conformance --format markdown`, or `--summary FILE` beside
//! any format): the verdict and totals, a table of targets, each failure
//! with its messages and diff folded under `<details>`, load errors, and
//! the SPEC rule table.
//!
//! Everything taken from the report is escaped for where it goes: table
//! cells cannot break their row (`|`, newlines), text cannot open HTML
//! (`<`, `&`), and a code block's fence is longer than any run of
//! backticks it holds.

use std::fmt::Write as _;

use cleardown_report::{Report, RuleStatus, Status};

use crate::render::{diffed, label, printable, rule_verdict};

/// Text safe inside a table cell or a line of prose.
fn inline(text: &str) -> String {
    printable(&text.replace('\n', " "))
        .replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('|', "\\|")
        .replace('`', "\\`")
        .replace('*', "\\*")
        .replace('_', "\\_")
}

/// `text` as a fenced code block of `language`, fenced so that no line of
/// it can close the block.
fn code_block(text: &str, language: &str) -> String {
    let mut longest = 0;
    let mut run = 0;
    for c in text.chars() {
        run = if c == '`' { run + 1 } else { 0 };
        longest = longest.max(run);
    }
    let fence = "`".repeat(longest.max(2) + 1);
    let body = printable_lines(text);
    format!("{fence}{language}\n{body}\n{fence}\n")
}

/// Each line of `text` made printable (newlines kept).
fn printable_lines(text: &str) -> String {
    text.trim_end_matches('\n')
        .lines()
        .map(printable)
        .collect::<Vec<_>>()
        .join("\n")
}

fn seconds(ms: u64) -> String {
    format!("{:.2} s", ms as f64 / 1000.0)
}

/// The Markdown summary of `report`.
pub fn markdown(report: &Report) -> String {
    let mut out = String::new();
    let s = &report.summary;
    let failing = s.failed + s.explore_failed;
    let verdict = if s.load_errors > 0 {
        format!(
            "❌ {} target(s) could not be loaded{}",
            s.load_errors,
            if failing > 0 {
                format!(", {failing} failure(s)")
            } else {
                String::new()
            }
        )
    } else if failing > 0 {
        format!("❌ {failing} failure(s)")
    } else if s.passed == 0 {
        // Never a green summary for a run that checked nothing.
        "❌ no fixture ran".to_owned()
    } else {
        "✅ passed".to_owned()
    };
    let _ = writeln!(out, "## cleardown conformance: {verdict}\n");
    let _ = writeln!(
        out,
        "{} target(s), {} fixture run(s): **{} passed**, **{} failed**, {} skipped; {} generated scenario(s), {} rule(s) broken by exploration; {}. cleardown {}, contract {}.\n",
        s.runs,
        s.passed + s.failed + s.skipped,
        s.passed,
        s.failed,
        s.skipped,
        s.scenarios,
        s.explore_failed,
        seconds(s.duration_ms),
        inline(&report.cleardown),
        inline(&report.contract),
    );

    out.push_str("| target | provider | passed | failed | skipped | explored | time |\n");
    out.push_str("|---|---|---:|---:|---:|---:|---:|\n");
    for run in &report.runs {
        let count = |status| run.fixtures.iter().filter(|f| f.status == status).count();
        let provider = match (&run.provider, &run.load_error) {
            (Some(p), _) => inline(&format!("{} {}", p.name, p.version)),
            (None, Some(_)) => "**could not be loaded**".to_owned(),
            (None, None) => String::new(),
        };
        let explored = match &run.explore {
            Some(e) if e.failures.is_empty() => format!("{} ✅", e.ran - e.skipped),
            Some(e) => format!("{} ❌ {}", e.ran - e.skipped, e.failures.len()),
            None => "–".to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {provider} | {} | {} | {} | {explored} | {} |",
            inline(&label(run)),
            count(Status::Pass),
            count(Status::Fail),
            count(Status::Skip),
            seconds(run.duration_ms)
        );
    }

    let errors: Vec<_> = report
        .runs
        .iter()
        .filter_map(|run| run.load_error.as_ref().map(|e| (run, e)))
        .collect();
    if !errors.is_empty() {
        out.push_str("\n### Load errors\n\n");
        for (run, error) in errors {
            let _ = writeln!(out, "- {}: {}", inline(&label(run)), inline(error));
        }
    }

    let mut failures = String::new();
    for run in &report.runs {
        for fixture in run.fixtures.iter().filter(|f| f.status == Status::Fail) {
            let first = fixture
                .failures
                .first()
                .map_or("failed", |f| f.message.lines().next().unwrap_or_default());
            let _ = writeln!(
                failures,
                "<details><summary><b>{}</b> · {} [{}]: {}</summary>\n",
                inline(&fixture.name),
                inline(&label(run)),
                inline(&fixture.rules.join(" ")),
                inline(first)
            );
            let _ = writeln!(failures, "Fixture: {}\n", inline(&fixture.file));
            for failure in &fixture.failures {
                failures.push_str(&code_block(&failure.message, "text"));
                if let Some(diff) = &failure.diff {
                    let what = diffed(failure.kind);
                    let _ = writeln!(failures, "\n`-` snapshot, `+` {what}:\n");
                    failures.push_str(&code_block(diff, "diff"));
                }
            }
            failures.push_str("\n</details>\n\n");
        }
        if let Some(explored) = &run.explore {
            for found in &explored.failures {
                let _ = writeln!(
                    failures,
                    "<details><summary><b>explore {}</b> · {} (seed {}): {}</summary>\n",
                    inline(&found.rule),
                    inline(&label(run)),
                    found.seed,
                    inline(found.message.lines().next().unwrap_or_default())
                );
                failures.push_str(&code_block(&found.message, "text"));
                if let Some(file) = &found.fixture {
                    let _ = writeln!(failures, "\nWritten, shrunk, as {}.", inline(file));
                }
                failures.push_str("\n</details>\n\n");
            }
        }
    }
    if !failures.is_empty() {
        out.push_str("\n### Failures\n\n");
        out.push_str(&failures);
    }

    out.push_str("\n### SPEC rules\n\n| rule | status | detail |\n|---|---|---|\n");
    for rule in &report.rules {
        let (status, detail) = rule_verdict(rule);
        let status = match rule.status {
            RuleStatus::Fail => format!("❌ {status}"),
            RuleStatus::Partial | RuleStatus::Uncovered => format!("⚠️ {status}"),
            _ => status.to_owned(),
        };
        let _ = writeln!(
            out,
            "| {} | {status} | {} |",
            inline(&rule.id),
            inline(&detail)
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cells_cannot_break_their_row_or_open_html() {
        assert_eq!(
            inline("a|b\nc <x> & `y`"),
            "a\\|b c &lt;x&gt; &amp; \\`y\\`"
        );
        assert_eq!(inline("bell\u{7}"), "bell\\u{7}");
    }

    #[test]
    fn a_code_block_outfences_what_it_holds() {
        assert_eq!(code_block("plain", "text"), "```text\nplain\n```\n");
        assert_eq!(
            code_block("has ```` four", "diff"),
            "`````diff\nhas ```` four\n`````\n"
        );
    }
}
