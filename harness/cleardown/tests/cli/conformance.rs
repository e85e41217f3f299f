//! `cleardown conformance` and `cleardown replay` as a provider author uses
//! them: the bundled run, the JSON report and JUnit file, their own
//! fixtures with pending snapshots.

use cleardown_report::{FailureKind, Report, RuleStatus, SCHEMA, Status};

use crate::{cleardown, scratch, stderr, stdout};

/// SPEC §0: on every target of `report`, every rule was checked in every
/// situation its declaration implies, or does not apply there.
pub(crate) fn every_rule_passes_or_skips_on_every_target(report: &Report) {
    for run in &report.runs {
        for rule in &run.coverage {
            assert!(
                matches!(rule.status, RuleStatus::Pass | RuleStatus::Skip),
                "{} [{}] {}: {:?} {:?}",
                run.target,
                run.config,
                rule.rule,
                rule.status,
                rule.situations
            );
        }
    }
}

pub(crate) fn report_of(output: &std::process::Output) -> Report {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "the JSON report parses: {e}\nstdout: {}\nstderr: {}",
            stdout(output),
            stderr(output)
        )
    })
}

#[test]
fn l2_conformance_without_arguments_passes_every_bundled_variant() {
    let output = cleardown(&["conformance", "--format", "json"]);
    let report = report_of(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    assert_eq!(report.schema, SCHEMA);
    assert_eq!(report.summary.failed, 0);
    assert_eq!(report.summary.load_errors, 0);
    let targets: Vec<(&str, &str)> = report
        .runs
        .iter()
        .map(|r| (r.target.as_str(), r.config.as_str()))
        .collect();
    let far_ends: Vec<Option<&str>> = report.runs.iter().map(|r| r.far_end.as_deref()).collect();
    assert_eq!(far_ends.iter().filter(|f| f.is_some()).count(), 1);
    assert_eq!(far_ends.last(), Some(&Some("sip")));
    assert_eq!(
        targets,
        [
            ("pbx-sim", ""),
            (
                "pbx-sim",
                "reject_by_drop=off;close_drop=off;uui=0;conf_drop=off"
            ),
            ("pbx-sim", "uui=16"),
            ("analog-bridge", "sharing=shared"),
            ("analog-bridge", "sharing=exclusive"),
            ("analog-bridge", "sharing=new"),
            ("analog-bridge", "sharing=private"),
            ("analog-bridge", "sharing=shared;supervision=off"),
            ("analog-bridge", "sharing=private;supervision=off"),
            ("sip", "transport=memory"),
            ("sip", "transport=udp;bind={local};peer={far_end}"),
        ]
    );
    for run in &report.runs {
        assert!(run.provider.is_some(), "{} loaded", run.target);
        assert!(run.fixtures.len() >= 40, "{} fixtures", run.fixtures.len());
        for fixture in &run.fixtures {
            match fixture.status {
                Status::Pass => assert!(fixture.transcript.is_some()),
                Status::Skip => assert!(fixture.skip_reason.is_some()),
                Status::Fail => panic!("{} failed: {:?}", fixture.name, fixture.failures),
            }
        }
    }
    let status = |run: usize, name: &str| {
        report.runs[run]
            .fixtures
            .iter()
            .find(|f| f.name.starts_with(name))
            .map(|f| f.status)
    };
    // The negative paths run too: a variant skips what needs a capability
    // it lacks and runs what checks that absence (SPEC L2).
    assert_eq!(status(1, "c1-conference-drop-cascades"), Some(Status::Skip));
    assert_eq!(status(1, "r2-"), Some(Status::Pass));
    // analog-bridge: each sharing mode runs its bridged-line rules (B1-B4),
    // and the negative paths of an analog line (R2, U4, B5 without close_drop).
    for (run, fixtures) in [
        (3, &["b1-", "b2-", "b3-"][..]),
        (4, &["b4-bridged-exclusive"][..]),
        (5, &["b4-bridged-new"][..]),
    ] {
        for name in fixtures {
            assert_eq!(status(run, name), Some(Status::Pass), "{run} {name}");
        }
    }
    for run in 3..9 {
        for name in ["r2-", "u4-", "b5-close-line-with-active-call"] {
            assert_eq!(status(run, name), Some(Status::Pass), "{run} {name}");
        }
    }
    // sip (memory transport): the SIP mapping of SPEC §10 gives the same
    // transcripts as pbx-sim: drop (BYE), cancel (CANCEL), reject (603).
    for name in [
        "d3-",
        "d7-",
        "r1-",
        "r3-disconnect-codes-on-offered",
        "u3-max-uui",
        "u5-far-hang-up",
        "s3-",
        "t3-sole-owner-deallocates-connected-call",
    ] {
        assert_eq!(status(9, name), Some(Status::Pass), "sip {name}");
    }
    // Without supervision the card finds a hang-up by its tone (SPEC L2):
    // the hang-up fixtures run there too, against their own snapshots.
    for run in 7..9 {
        for name in [
            "s3-far-hang-up-shows-disconnected-until-drop",
            "d6-",
            "t3-sole-owner-deallocates-disconnected-call",
        ] {
            assert_eq!(status(run, name), Some(Status::Pass), "{run} {name}");
        }
    }
    // sip over UDP, judged through the SIP far end, simulates nothing: it
    // passes exactly the fixtures its memory transport passes, with the
    // same transcripts (so the same snapshots) and the same wire logs
    // (issue 14).
    let (memory, udp) = (&report.runs[9], &report.runs[10]);
    assert_eq!(memory.fixtures.len(), udp.fixtures.len());
    for (m, u) in memory.fixtures.iter().zip(&udp.fixtures) {
        assert_eq!((&m.name, m.status), (&u.name, u.status), "{}", m.name);
        assert_eq!(m.transcript, u.transcript, "{}", m.name);
        assert_eq!(m.wire, u.wire, "{}", m.name);
    }
    assert!(
        udp.fixtures
            .iter()
            .filter(|f| f.status == Status::Pass)
            .count()
            >= 35
    );
    let explored = udp.explore.as_ref().expect("explored over the wire");
    assert_eq!(
        (explored.skipped, explored.ran, explored.failures.len()),
        (0, explored.scenarios, 0)
    );
    for rule in &report.rules {
        assert_eq!(rule.status, RuleStatus::Pass, "{}", rule.id);
    }
}

#[test]
fn text_report_names_fixtures_rules_and_totals() {
    let output = cleardown(&["conformance", "--filter", "c1-conference-drop"]);
    assert_eq!(output.status.code(), Some(0), "{}", stdout(&output));
    let text = stdout(&output);
    assert!(text.contains("pbx-sim (default config): pbx-sim"), "{text}");
    assert!(
        text.contains("  PASS  c1-conference-drop-cascades [C1"),
        "{text}"
    );
    assert!(
        text.contains("  SKIP  c1-conference-drop-cascades [C1"),
        "{text}"
    );
    assert!(
        text.contains("needs `uui_drop_size >= 4`; the provider declares uui_drop_size 0"),
        "{text}"
    );
    assert!(text.contains("SPEC rules"), "{text}");
    assert!(text.contains("  C1   pass"), "{text}");
    // No fixture of this run cites D1, but exploration checks it in every
    // situation the declarations imply.
    assert!(
        text.contains("  D1   pass      0 fixture(s); every situation"),
        "{text}"
    );
    assert!(
        text.contains("11 target(s): 2 passed, 0 failed, 9 skipped"),
        "{text}"
    );
}

#[test]
fn junit_file_has_a_case_per_fixture_and_the_skip_reason() {
    let dir = scratch("junit");
    let file = dir.join("report.xml");
    let output = cleardown(&[
        "conformance",
        "--filter",
        "c1-conference-drop",
        "--no-explore",
        "--junit",
        file.to_str().expect("utf-8 path"),
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let xml = std::fs::read_to_string(&file).expect("junit written");
    assert!(xml.starts_with("<?xml version=\"1.0\""), "{xml}");
    assert!(
        xml.contains("<testsuites name=\"cleardown conformance\" tests=\"11\" failures=\"0\""),
        "{xml}"
    );
    assert_eq!(xml.matches("<testsuite ").count(), 11, "{xml}");
    assert_eq!(xml.matches("<skipped ").count(), 9, "{xml}");
    assert_eq!(xml.matches("<testcase ").count(), 11, "{xml}");
    assert!(
        xml.contains("<skipped message=\"needs `uui_drop_size &gt;= 4`; the provider declares uui_drop_size 0\"/>"),
        "{xml}"
    );
    assert!(xml.contains("rules: C1 D4 D5 U3\n</system-out>"), "{xml}");
    let _ = std::fs::remove_dir_all(dir);
}

const OWN_FIXTURE: &str = r#"title = "An author's own fixture: a plain drop"
rules = ["D5"]
steps = [
  { do = "open", line = "main" },
  { do = "make_call", call = "a", line = "main", to = "alice" },
  { do = "far_answer", call = "a" },
  { do = "drop", call = "a" },
  { do = "deallocate", call = "*" },
]
"#;

#[test]
fn own_fixtures_get_a_pending_snapshot_then_pass() {
    let dir = scratch("own");
    std::fs::write(dir.join("my-drop.toml"), OWN_FIXTURE).expect("write fixture");
    let run = |dir: &std::path::Path| {
        cleardown(&[
            "conformance",
            "--plugin",
            "pbx-sim",
            "--fixtures",
            dir.to_str().expect("utf-8"),
            "--no-bundled",
            "--format",
            "json",
        ])
    };
    let first = run(&dir);
    assert_eq!(first.status.code(), Some(1), "{}", stdout(&first));
    let report = report_of(&first);
    let failure = &report.runs[0].fixtures[0].failures[0];
    assert_eq!(failure.kind, FailureKind::MissingSnapshot);
    assert!(
        failure.message.contains("no snapshot `my-drop`"),
        "{}",
        failure.message
    );
    let pending = dir.join("snapshots/my-drop.snap.new");
    let written = std::fs::read_to_string(&pending).expect(".snap.new written");
    assert!(written.starts_with("---\n"), "insta's format: {written}");
    assert!(
        written.contains("app: drop a\n  -> r2\n  app: a Idle Owner\n  app: reply r2 Ok"),
        "{written}"
    );
    // The author reviews it and accepts it.
    std::fs::rename(&pending, dir.join("snapshots/my-drop.snap")).expect("accept");
    let second = run(&dir);
    assert_eq!(second.status.code(), Some(0), "{}", stdout(&second));
    // A changed expectation fails with a diff.
    let snap = dir.join("snapshots/my-drop.snap");
    let text = std::fs::read_to_string(&snap).expect("read");
    std::fs::write(
        &snap,
        text.replace("app: a Idle Owner", "app: a Disconnected/Normal Owner"),
    )
    .expect("write");
    let third = run(&dir);
    assert_eq!(third.status.code(), Some(1));
    let report = report_of(&third);
    let failure = &report.runs[0].fixtures[0].failures[0];
    assert_eq!(failure.kind, FailureKind::Transcript);
    let diff = failure.diff.as_deref().expect("a diff");
    assert!(
        diff.contains("-   app: a Disconnected/Normal Owner"),
        "{diff}"
    );
    assert!(diff.contains("+   app: a Idle Owner"), "{diff}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn replay_prints_the_transcript_and_compares_with_a_snapshot_beside_it() {
    let dir = scratch("replay");
    let file = dir.join("my-drop.toml");
    std::fs::write(&file, OWN_FIXTURE).expect("write fixture");
    let output = cleardown(&[
        "replay",
        file.to_str().expect("utf-8"),
        "--plugin",
        "pbx-sim",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let transcript = stdout(&output);
    assert!(
        transcript.starts_with("app: open main as Owner\n  -> ok\n"),
        "{transcript}"
    );
    assert!(
        stderr(&output).contains("no snapshot my-drop"),
        "{}",
        stderr(&output)
    );
    let bad = dir.join("bad.toml");
    std::fs::write(&bad, OWN_FIXTURE.replace("\"drop\"", "\"dorp\"")).expect("write");
    let output = cleardown(&[
        "replay",
        bad.to_str().expect("utf-8"),
        "--plugin",
        "pbx-sim",
    ]);
    assert_eq!(output.status.code(), Some(2));
    let err = stderr(&output);
    assert!(err.contains("bad.toml:7:3: unknown step `dorp`"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn load_errors_exit_2() {
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "/no/such/libprovider.so",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    let report = report_of(&output);
    assert!(
        report.runs[0]
            .load_error
            .as_deref()
            .is_some_and(|e| e.contains("/no/such/libprovider.so"))
    );
    assert!(stderr(&output).contains("/no/such/libprovider.so"));
    let output = cleardown(&["conformance", "--plugin", "pbx-sim", "--config", "bogus=1"]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    assert!(
        stderr(&output).contains("unknown key `bogus`"),
        "{}",
        stderr(&output)
    );
    let output = cleardown(&["conformance", "--filter", "no-such-fixture"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(stderr(&output).contains("no fixture name contains"));
}

/// An installed `cleardown` carries the suite: with no checkout, no cargo
/// and a working directory of its own, the bundled run passes.
#[test]
fn an_installed_cleardown_runs_the_suite_without_a_checkout() {
    let dir = scratch("installed-suite");
    let exe = dir.join("cleardown");
    std::fs::copy(env!("CARGO_BIN_EXE_cleardown"), &exe).expect("copy binary");
    for name in cleardown_host::locate::BUNDLED {
        crate::plugin_in(&dir, name);
    }
    let output = std::process::Command::new(&exe)
        .args(["conformance", "--format", "json"])
        .current_dir(&dir)
        .env_remove("CARGO")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove(cleardown_host::locate::PLUGIN_DIR_VAR)
        .output()
        .expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report_of(&output);
    assert!(report.summary.passed >= 100, "{:?}", report.summary);
    let path = report.runs[0]
        .provider
        .as_ref()
        .and_then(|p| p.path.clone())
        .expect("a library path");
    assert!(path.starts_with(dir.to_str().expect("utf-8")), "{path}");
    let _ = std::fs::remove_dir_all(dir);
}

/// A run that checks nothing must never be green: a `--fixtures` directory
/// with no fixture in it (empty, other files only, fixtures one level
/// down), with or without `--no-bundled`, is exit 2 naming why, and so is
/// a target on which every fixture was skipped.
#[test]
fn a_run_of_no_fixture_is_an_error_naming_why() {
    let dir = scratch("no-fixtures");
    let empty = dir.join("empty");
    let others = dir.join("others");
    let nested = dir.join("nested");
    for d in [&empty, &others, &nested.join("inner")] {
        std::fs::create_dir_all(d).expect("mkdir");
    }
    std::fs::write(others.join("README.md"), "notes").expect("write");
    std::fs::write(others.join("drop.tml"), OWN_FIXTURE).expect("write");
    std::fs::write(nested.join("inner/my-drop.toml"), OWN_FIXTURE).expect("write");
    for (d, words) in [
        (&empty, "the directory is empty"),
        (&others, "holds no `*.toml` file, only README.md, drop.tml"),
        (&nested, "`inner` holds fixtures (pass it as --fixtures)"),
    ] {
        for bundled in [true, false] {
            let mut args = vec![
                "conformance",
                "--plugin",
                "pbx-sim",
                "--fixtures",
                d.to_str().expect("utf-8"),
            ];
            if !bundled {
                args.push("--no-bundled");
            }
            let output = cleardown(&args);
            assert_eq!(
                output.status.code(),
                Some(2),
                "{args:?}: {}",
                stdout(&output)
            );
            let err = stderr(&output);
            assert!(err.contains("no fixture to run"), "{args:?}: {err}");
            assert!(err.contains(words), "{args:?}: {err}");
            assert!(
                stdout(&output).is_empty(),
                "nothing ran: {}",
                stdout(&output)
            );
        }
    }
    // Every fixture selected is skipped by its gates on this provider.
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "analog-bridge",
        "--filter",
        "c1-conference-drop-cascades",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains(
            "analog-bridge (default config): ran no fixture: all 1 skipped by their gates"
        ),
        "{err}"
    );
    // Without --filter, one target of several that runs nothing is enough:
    // an author's own fixture that only pbx-sim can run, on analog-bridge.
    let own = dir.join("own");
    std::fs::create_dir_all(&own).expect("mkdir");
    std::fs::write(
        own.join("my-conference.toml"),
        OWN_FIXTURE.replace(
            "steps = [",
            "lines = { main = [\"conference\"] }\nsteps = [",
        ),
    )
    .expect("write");
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "pbx-sim",
        "--plugin",
        "analog-bridge",
        "--fixtures",
        own.to_str().expect("utf-8"),
        "--no-bundled",
        "--no-pending",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stdout(&output));
    let err = stderr(&output);
    assert!(
        err.contains("analog-bridge (default config): ran no fixture: all 1 skipped"),
        "{err}"
    );
    assert!(!err.contains("pbx-sim (default config): ran no"), "{err}");
    let _ = std::fs::remove_dir_all(dir);
}

/// SPEC L2: a skip names the capability it needs. A line no address can be
/// bound to names the condition none meets, or the lines holding the only
/// address that does; a rule skipped everywhere gives its own fixture's
/// reason first (U4's is `uui_drop_size == 0`, not d9's conference).
#[test]
fn l2_skip_reasons_name_the_unmet_condition_and_the_rules_own_gate() {
    let output = cleardown(&["conformance", "--plugin", "sip", "--format", "json"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report_of(&output);
    let reason = |name: &str| {
        report.runs[0]
            .fixtures
            .iter()
            .find(|f| f.name == name)
            .and_then(|f| f.skip_reason.clone())
            .unwrap_or_else(|| panic!("{name} skipped"))
    };
    assert_eq!(
        reason("c3-drop-one-child-others-stay-conferenced"),
        "needs an address with conference for line `main`; none of the provider's 1 address(es) (`line-1`) has it"
    );
    assert_eq!(
        reason("d4-state-events-reach-exactly-the-apps-holding-the-call"),
        "needs a free address with sharing == Private for line `other`; the provider's only such address(es), `line-1`, are bound to line(s) `main` of this fixture"
    );
    let u4 = report
        .rules
        .iter()
        .find(|r| r.id == "U4")
        .expect("U4 in the table");
    assert_eq!(u4.status, RuleStatus::Skip);
    // U4's own fixtures (`u4-…`: the drop's, the disconnect's) come first.
    let (fixture, why) = u4.skip_reasons[0]
        .split_once(": ")
        .expect("fixture: reason");
    assert!(fixture.starts_with("sip u4-"), "{u4:?}");
    assert_eq!(
        why,
        "needs `uui_drop_size == 0`; the provider declares uui_drop_size 128"
    );
    assert!(u4.skip_reasons.len() >= 2, "d9 cites U4 too: {u4:?}");
}

/// SPEC §0 "situation": a rule passes only where every situation the
/// declaration implies was reached. Run with one conference fixture and no
/// exploration, D5 (a drop leaves the call Idle) was checked on a conference
/// parent alone: partial, naming what was not reached, in text, JSON and
/// JUnit; C1 (whose one situation that is) passes.
#[test]
fn a_rule_checked_in_some_of_its_situations_is_partial_naming_the_rest() {
    let dir = scratch("coverage-partial");
    let junit = dir.join("report.xml");
    let args = |format: &str| {
        vec![
            "conformance".to_owned(),
            "--plugin".to_owned(),
            "pbx-sim".to_owned(),
            "--filter".to_owned(),
            "c1-conference-drop-cascades".to_owned(),
            "--no-explore".to_owned(),
            "--format".to_owned(),
            format.to_owned(),
            "--junit".to_owned(),
            junit.display().to_string(),
        ]
    };
    let run = |format: &str| {
        let owned = args(format);
        let borrowed: Vec<&str> = owned.iter().map(String::as_str).collect();
        cleardown(&borrowed)
    };
    let output = run("json");
    // Partial is not a failure of the provider: the suite did not look.
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report_of(&output);
    assert_eq!(report.schema, "cleardown-conformance/2");
    let rule = |id: &str| report.rules.iter().find(|r| r.id == id).expect("a rule");
    assert_eq!(rule("C1").status, RuleStatus::Pass);
    let d5 = rule("D5");
    assert_eq!(d5.status, RuleStatus::Partial);
    assert_eq!(
        d5.partial_in,
        ["pbx-sim: connected, offered, outbound unanswered, held, conference party"]
    );
    let coverage = report.runs[0]
        .coverage
        .iter()
        .find(|c| c.rule == "D5")
        .expect("D5 on the target");
    let parent = coverage
        .situations
        .iter()
        .find(|s| s.situation == "conference parent")
        .expect("listed");
    assert_eq!(
        (parent.status, parent.fixtures, parent.exploration),
        (cleardown_report::SituationStatus::Pass, true, false)
    );
    // A rule the declaration does not imply is skipped naming why.
    let r2 = report.runs[0]
        .coverage
        .iter()
        .find(|c| c.rule == "R2")
        .expect("R2");
    assert_eq!(r2.status, RuleStatus::Skip);
    assert_eq!(
        r2.skip_reason.as_deref(),
        Some("needs the absence of reject_by_drop")
    );
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(
        xml.contains("<property name=\"coverage.D5\" value=\"partial: not reached: connected, offered, outbound unanswered, held, conference party\"/>"),
        "{xml}"
    );
    assert!(
        xml.contains("<property name=\"coverage.C1\" value=\"pass\"/>"),
        "{xml}"
    );
    let text = stdout(&run("text"));
    assert!(
        text.contains("  D5   PARTIAL   not reached in pbx-sim: connected, offered"),
        "{text}"
    );
    assert!(text.contains("2 rule(s) PARTIAL"), "{text}");
    // The bundled fixtures alone reach every situation every bundled
    // variant's declaration implies: exploration adds scenarios, not
    // coverage the suite would otherwise lack.
    let fixtures_only = cleardown(&["conformance", "--no-explore", "--format", "json"]);
    every_rule_passes_or_skips_on_every_target(&report_of(&fixtures_only));
    let _ = std::fs::remove_dir_all(&dir);
}

/// The keys of every object in `value`, by path (`runs[].provider`): an
/// array's elements share one path, so an example's one element stands for
/// all.
fn key_paths(value: &serde_json::Value, path: &str, out: &mut std::collections::BTreeSet<String>) {
    match value {
        serde_json::Value::Object(map) => {
            for (key, inner) in map {
                let here = format!("{path}.{key}");
                out.insert(here.clone());
                key_paths(inner, &here, out);
            }
        }
        serde_json::Value::Array(items) => {
            for item in items {
                key_paths(item, &format!("{path}[]"), out);
            }
        }
        _ => {}
    }
}

/// Issue 16 (3): the README's JSON report example is what the binary
/// writes: the same schema, cleardown and contract versions, and the same
/// fields wherever the example shows an object (and none the binary lacks).
#[test]
fn the_readme_json_example_matches_a_real_report() {
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README");
    let section = readme
        .split("#### `--format json`")
        .nth(1)
        .expect("the README documents --format json");
    let example = section
        .split("```json\n")
        .nth(1)
        .and_then(|block| block.split("\n```").next())
        .expect("a ```json block in that section");
    let documented: serde_json::Value = serde_json::from_str(example)
        .unwrap_or_else(|e| panic!("the README's JSON example parses: {e}\n{example}"));
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "pbx-sim",
        "--filter",
        "c1-conference-drop-cascades",
        "--scenarios",
        "5",
        "--format",
        "json",
    ]);
    let real: serde_json::Value = serde_json::from_slice(&output.stdout).expect("JSON");
    for key in ["schema", "cleardown", "contract"] {
        assert_eq!(documented[key], real[key], "README's `{key}`");
    }
    let (mut shown, mut written) = (Default::default(), Default::default());
    key_paths(&documented, "", &mut shown);
    key_paths(&real, "", &mut written);
    let invented: Vec<_> = shown.difference(&written).collect();
    assert!(
        invented.is_empty(),
        "README shows fields the binary does not write: {invented:?}"
    );
    // Where the example shows an object, it shows all of its fields.
    let parents: std::collections::BTreeSet<String> = shown
        .iter()
        .filter_map(|p| p.rsplit_once('.').map(|(parent, _)| parent.to_owned()))
        .collect();
    let left_out: Vec<_> = written
        .iter()
        .filter(|p| {
            p.rsplit_once('.')
                .is_some_and(|(parent, _)| parents.contains(parent))
                && !shown.contains(*p)
        })
        .collect();
    assert!(
        left_out.is_empty(),
        "README's example leaves out: {left_out:?}"
    );
}

/// Issue 16 (12): the Markdown summary a CI job appends to its step
/// summary: the verdict, totals and targets, each failure folded with its
/// diff, the rule table; `--summary FILE` appends the same text.
#[test]
fn markdown_summary_has_verdict_failures_folded_and_the_rules() {
    let dir = scratch("markdown");
    let summary = dir.join("summary.md");
    std::fs::write(&summary, "# earlier steps\n").expect("write");
    let mutant = cleardown_host::locate::find("mutant-provider").expect("builds");
    let pbx = cleardown_host::locate::find("pbx-sim").expect("builds");
    let config = format!("mutant=idle_on_hang_up;inner={}", pbx.display());
    let output = cleardown(&[
        "conformance",
        "--plugin",
        mutant.to_str().expect("utf-8"),
        "--config",
        &config,
        "--filter",
        "s3-far-hang-up-cause",
        "--no-explore",
        "--format",
        "markdown",
        "--summary",
        summary.to_str().expect("utf-8"),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    let markdown = stdout(&output);
    assert!(
        markdown.starts_with("## cleardown conformance: ❌ 1 failure(s)\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("**0 passed**, **1 failed**"),
        "{markdown}"
    );
    assert!(
        markdown.contains("<details><summary><b>s3-far-hang-up-cause-selects-disconnect-mode</b>"),
        "{markdown}"
    );
    assert!(markdown.contains("```diff\n"), "{markdown}");
    assert!(
        markdown.contains("-   app: a Disconnected/Normal Owner"),
        "{markdown}"
    );
    assert!(markdown.contains("</details>"), "{markdown}");
    assert!(
        markdown.contains("| rule | status | detail |\n|---|---|---|\n"),
        "{markdown}"
    );
    assert!(
        markdown.contains("| S3 | ❌ FAIL | failed in "),
        "{markdown}"
    );
    let written = std::fs::read_to_string(&summary).expect("summary written");
    assert_eq!(
        written,
        format!("# earlier steps\n{markdown}"),
        "appended, the same text"
    );

    // A run that ran nothing is never a green summary.
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "analog-bridge",
        "--filter",
        "r1-drop-offered-call-rejects",
        "--no-explore",
        "--format",
        "markdown",
    ]);
    assert!(
        stdout(&output).starts_with("## cleardown conformance: ❌ no fixture ran"),
        "{}",
        stdout(&output)
    );
    let _ = std::fs::remove_dir_all(dir);
}
