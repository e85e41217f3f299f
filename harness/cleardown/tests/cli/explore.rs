//! Exploration as a provider author's CI meets it: on by default, every
//! bundled variant holds every rule under it, each mutant is caught by it
//! on its rule under the default seed and three others, and what it finds
//! ends as a fixture that `cleardown replay` reproduces byte for byte.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
    sync::OnceLock,
};

use cleardown_report::{Exploration, Report, RuleStatus};

use crate::{
    cleardown,
    conformance::{every_rule_passes_or_skips_on_every_target, report_of},
    scratch, stderr, stdout,
};

fn mutant_paths() -> (PathBuf, PathBuf) {
    let mutant = cleardown_host::locate::find("mutant-provider").expect("mutant-provider builds");
    let pbx = cleardown_host::locate::find("pbx-sim").expect("pbx-sim builds");
    (mutant, pbx)
}

/// The release build of `cleardown` and of the libraries a mutant run
/// loads, by package name: what an author's CI runs (the README's main
/// command is `--release`), four times faster than the debug build for the
/// 140 000 scenarios of the mutant test. The install test and CI build the
/// same release artifacts, so this costs one compilation per CI run.
struct Release {
    cleardown: PathBuf,
    libraries: Vec<(&'static str, PathBuf)>,
}

impl Release {
    fn get() -> &'static Release {
        static RELEASE: OnceLock<Release> = OnceLock::new();
        RELEASE.get_or_init(|| {
            // Built as the README's main command, the plugins' locator and
            // a provider author build them, one package set at a time, so
            // that features unify as there and nothing is compiled twice.
            let build = |packages: &[&str]| -> Vec<serde_json::Value> {
                let mut command = Command::new(env!("CARGO"));
                command
                    .args(["build", "--release", "--quiet", "--message-format=json"])
                    .current_dir(env!("CARGO_MANIFEST_DIR"));
                for p in packages {
                    command.args(["-p", p]);
                }
                let output = command.output().expect("cargo runs");
                assert!(output.status.success(), "{}", stderr(&output));
                stdout(&output)
                    .lines()
                    .filter_map(|line| serde_json::from_str(line).ok())
                    .filter(|m: &serde_json::Value| m["reason"] == "compiler-artifact")
                    .collect()
            };
            let cleardown = build(&["cleardown"])
                .iter()
                .find_map(|m| m["executable"].as_str().map(PathBuf::from))
                .expect("the cleardown executable");
            let mut artifacts = build(cleardown_host::locate::BUNDLED);
            artifacts.extend(build(&["mutant-provider"]));
            let libraries = ["mutant-provider", "pbx-sim", "analog-bridge"]
                .iter()
                .map(|p| {
                    let file = cleardown_host::locate::library_file_name(p);
                    let found = artifacts
                        .iter()
                        .filter_map(|m| m["filenames"].as_array())
                        .flatten()
                        .filter_map(|f| f.as_str())
                        .find(|f| Path::new(f).file_name().is_some_and(|n| n == file.as_str()))
                        .unwrap_or_else(|| panic!("cargo built no {file}"));
                    (*p, PathBuf::from(found))
                })
                .collect();
            Release {
                cleardown,
                libraries,
            }
        })
    }

    fn library(&self, package: &str) -> &Path {
        self.libraries
            .iter()
            .find(|(p, _)| *p == package)
            .map(|(_, path)| path.as_path())
            .expect("built")
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new(&self.cleardown)
            .args(args)
            .output()
            .expect("cleardown runs")
    }
}

fn path(p: &Path) -> &str {
    p.to_str().expect("a UTF-8 path")
}

/// The explorations of a run of `mutants` (configurations of the mutant
/// decorator, over pbx-sim unless one names `sharing=`: a bridged station
/// mutant, over analog-bridge) under `seed`, one per mutant, with one
/// fixture so that the run is about exploration.
fn explore_mutants(
    mutants: &[&str],
    seed: Option<&str>,
    out: &Path,
    shrink: &str,
) -> (Report, Vec<Exploration>) {
    let release = Release::get();
    let (mutant, pbx, bridge) = (
        release.library("mutant-provider"),
        release.library("pbx-sim"),
        release.library("analog-bridge"),
    );
    let mut args: Vec<String> = [
        "conformance",
        "--plugin",
        path(mutant),
        "--filter",
        "d1-monitor-cannot-drop",
        // Replies come synchronously from pbx-sim and analog-bridge, so
        // they are queued before the drop returns: a short wait keeps the
        // no_reply mutant's scenarios quick (each waits it out once)
        // without weakening the check.
        "--settle-ms",
        "5",
        "--format",
        "json",
        "--explore-out",
        path(out),
        // Enough to shrink the rule each mutant is for to a few steps; the
        // default budget is for an author's one failure, not twenty.
        "--shrink-budget",
        shrink,
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    if let Some(seed) = seed {
        args.extend(["--seed".to_owned(), seed.to_owned()]);
    }
    for m in mutants {
        let inner = if m.contains("sharing=") { bridge } else { pbx };
        args.extend([
            "--config".to_owned(),
            format!("mutant={m};inner={}", path(inner)),
        ]);
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = release.run(&args);
    let report = report_of(&output);
    let explorations = report
        .runs
        .iter()
        .map(|r| r.explore.clone().expect("explored by default"))
        .collect();
    (report, explorations)
}

/// The mutants the explorer must catch, with the rule each breaks. A
/// mutant only a hand-written fixture catches does not count: these are
/// judged on generated scenarios alone. The first seven are the suite's
/// original mutation proof; the rest break one rule where two situations
/// meet (harness/mutant-provider's "situational" mutants). A mutant
/// configured with `uui=N` is run with that drop size: its bug is at the
/// size's edge. The last two declare a far-end capability (contract 1.2)
/// their provider does not have, and must fail on the rule it is for.
const MUTANTS: &[(&str, &str)] = &[
    ("skip_child_event", "C1"),
    ("truncate_uui;uui=16", "U2"),
    ("reject_undeclared", "R2"),
    ("no_reply", "D3"),
    ("idle_on_hang_up", "S3"),
    ("leak_handle", "T5"),
    ("panic_mid_drop", "X2"),
    // A conference party's hang-up mode: S3 as C6 applies it to parties.
    ("hang_up_mode_in_conference", "C6"),
    ("consult_hang_up_keeps_primary_pending", "D8"),
    ("oversize_uui_on_disconnected", "U2"),
    ("oversize_uui_on_conference", "U2"),
    ("close_left_party_releases", "D6"),
    ("close_parent_keeps_parties", "C1"),
    ("no_answer_on_hold_rejects", "R3"),
    ("busy_on_accepted_rejects_21", "R3"),
    ("no_answer_conference_rejects_19", "R3"),
    ("direct_conference_unowned", "P1"),
    ("nested_cascade_drops_uui", "U3"),
    ("nested_party_drop_unnests", "C3"),
    ("close_collapse_leaves_party_conferenced", "C4"),
    ("small_size_refuses_exact_uui;uui=2", "U3"),
    ("small_size_reject_takes_one_more;uui=2", "U2"),
    ("ringback_cancel_cuts_max_uui", "U3"),
    ("timer_clears_disconnected", "S3"),
    ("stale_ring_timer", "S1"),
    ("accepted_reject_with_uui_cause_16", "R1"),
    ("conference_consult_ringback_releases", "D7"),
    ("nested_cascade_releases_twice", "C5"),
    ("long_cascade_uui_reordered", "U3"),
    ("collapse_hang_up_loses_uui", "U5"),
    // pbx-sim keeps 128 bytes of the far end's UUI whatever its drop size
    // (uui_received_size); the mutant cuts it to the drop size.
    ("far_uui_cut_to_drop_size;uui=16", "U5"),
    // Bridged stations, over analog-bridge (SPEC §6).
    ("step_out_goes_idle;sharing=shared", "B1"),
    ("inactive_drop_releases_far;sharing=shared", "B3"),
    ("last_station_keeps_inactive;sharing=shared", "B2"),
    ("new_station_drop_idles_other;sharing=new", "B4"),
    ("bridged_hang_up_misses_inactive;sharing=shared", "S3"),
    // Declarations that lie (SPEC L2), over analog-bridge.
    ("declares_far_causes;sharing=private", "S3"),
    (
        "declares_hang_up_at_once;sharing=shared;supervision=off",
        "S3",
    ),
];

#[test]
fn each_mutant_is_caught_by_exploration_on_its_rule_under_four_seeds() {
    let out = scratch("explore-mutants");
    let names: Vec<&str> = MUTANTS.iter().map(|(m, _)| *m).collect();
    for seed in [None, Some("1"), Some("2"), Some("0xfeed")] {
        // Shrinking is shown below; here, what is found is what counts.
        let (report, explorations) = explore_mutants(&names, seed, &out, "0");
        assert_eq!(report.exit_code(), 1, "seed {seed:?}");
        for ((mutant, rule), explored) in MUTANTS.iter().zip(&explorations) {
            assert!(explored.ran > 0, "{mutant}: nothing generated");
            let found = explored.failures.iter().find(|f| f.rule == *rule);
            let Some(found) = found else {
                panic!(
                    "seed {seed:?}: mutant {mutant} was not caught on {rule} by exploration; it broke {:?}",
                    explored
                        .failures
                        .iter()
                        .map(|f| &f.rule)
                        .collect::<Vec<_>>()
                );
            };
            assert!(
                found.steps <= found.generated_steps,
                "{mutant}: shrinking grew it"
            );
            assert!(found.fixture.is_some(), "{mutant}: {:?}", found.write_error);
        }
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn the_control_and_every_bundled_variant_hold_every_rule_under_exploration() {
    let out = scratch("explore-control");
    let (report, explorations) =
        explore_mutants(&["none", "none;sharing=shared"], None, &out, "40");
    assert_eq!(report.exit_code(), 0, "{:?}", explorations);
    for explored in &explorations {
        assert!(explored.failures.is_empty());
        assert_eq!(explored.ran, explored.scenarios);
    }
    let output = cleardown(&["conformance", "--format", "json"]);
    let report = report_of(&output);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(report.summary.scenarios > 0);
    assert_eq!(report.summary.explore_failed, 0);
    for run in &report.runs {
        let explored = run.explore.as_ref().expect("explored by default");
        assert!(
            explored.failures.is_empty(),
            "{} {}: {:?}",
            run.target,
            run.config,
            explored.failures
        );
        // Every variant, bridged stations too, gets its scenarios.
        assert_eq!(explored.not_generated, None, "{}", run.config);
        assert_eq!(explored.ran, explored.scenarios, "{}", run.config);
    }
    every_rule_passes_or_skips_on_every_target(&report);
    assert!(
        report
            .rules
            .iter()
            .all(|r| matches!(r.status, RuleStatus::Pass | RuleStatus::Skip)),
        "{:?}",
        report
            .rules
            .iter()
            .filter(|r| r.status != RuleStatus::Pass)
            .collect::<Vec<_>>()
    );
    // And no situation of SPEC.md is out of reach of every bundled variant:
    // each is reached, by a fixture or a generated scenario, on one at least.
    for rule in cleardown_conformance::suite::rules() {
        for situation in cleardown_conformance::oracle::coverage::situations(&rule.id) {
            let reached = report.runs.iter().any(|run| {
                run.coverage.iter().any(|c| {
                    c.rule == rule.id
                        && c.situations.iter().any(|s| {
                            s.situation == situation.name()
                                && s.status == cleardown_report::SituationStatus::Pass
                        })
                })
            });
            assert!(
                reached,
                "SPEC {}: no bundled variant reaches `{situation}`",
                rule.id
            );
        }
    }
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn a_found_failure_is_a_fixture_that_replay_reproduces_byte_for_byte() {
    let out = scratch("explore-replay");
    let _ = std::fs::remove_dir_all(&out);
    let (_, explorations) = explore_mutants(&["truncate_uui;uui=16"], None, &out, "40");
    let found = explorations[0]
        .failures
        .iter()
        .find(|f| f.rule == "U2")
        .expect("U2 found");
    let fixture = found.fixture.clone().expect("written");
    let text = std::fs::read_to_string(&fixture).expect("the fixture");
    assert!(text.contains("rules = [\"U2\"]"), "{text}");
    let (mutant, pbx) = mutant_paths();
    let config = format!("mutant=truncate_uui;uui=16;inner={}", path(&pbx));
    let replay = |plugin: &str, config: &str| {
        cleardown(&["replay", &fixture, "--plugin", plugin, "--config", config])
    };
    let first = replay(path(&mutant), &config);
    let second = replay(path(&mutant), &config);
    assert_eq!(first.status.code(), Some(1), "{}", stderr(&first));
    assert!(
        stderr(&first).contains("SPEC U2 broken"),
        "{}",
        stderr(&first)
    );
    assert_eq!(stdout(&first), stdout(&second), "replay is byte for byte");
    assert_eq!(stderr(&first), stderr(&second));
    // The unbroken provider passes it: the fixture is a regression test.
    let fixed = replay("pbx-sim", "uui=16");
    assert_eq!(fixed.status.code(), Some(0), "{}", stderr(&fixed));
    // Exploring again writes the same fixture.
    let again = std::fs::read_to_string(&fixture).expect("still there");
    let (_, explorations) = explore_mutants(&["truncate_uui;uui=16"], None, &out, "40");
    let rewritten = explorations[0]
        .failures
        .iter()
        .find(|f| f.rule == "U2")
        .expect("again");
    assert_eq!(rewritten.fixture.as_deref(), Some(fixture.as_str()));
    assert_eq!(std::fs::read_to_string(&fixture).expect("read"), again);
    let _ = std::fs::remove_dir_all(out);
}

#[test]
fn explore_flags_say_what_they_do() {
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "pbx-sim",
        "--filter",
        "d1-monitor",
        "--seed",
        "random",
        "--scenarios",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let seed: u64 = stderr(&output)
        .split("--seed ")
        .nth(1)
        .and_then(|s| s.split_whitespace().next())
        .and_then(|s| s.parse().ok())
        .expect("the drawn seed is printed");
    let report = report_of(&output);
    let explored = report.runs[0].explore.as_ref().expect("explored");
    assert_eq!((explored.seed, explored.ran), (seed, 3));
    let off = cleardown(&[
        "conformance",
        "--plugin",
        "pbx-sim",
        "--filter",
        "d1-monitor",
        "--no-explore",
        "--format",
        "json",
    ]);
    assert!(report_of(&off).runs[0].explore.is_none());
    for (args, words) in [
        (&["--scenarios", "0"][..], "--scenarios"),
        (&["--seed", "soon"][..], "is not a seed"),
        (
            &["--no-explore", "--scenarios", "5"][..],
            "cannot be used with",
        ),
    ] {
        let mut all = vec!["conformance", "--plugin", "pbx-sim"];
        all.extend(args);
        let output = cleardown(&all);
        assert_eq!(output.status.code(), Some(2), "{all:?}");
        assert!(
            stderr(&output).contains(words),
            "{all:?}: {}",
            stderr(&output)
        );
    }
}

/// JUnit lists each rule exploration found broken as a failing test case
/// named for the rule (so CI shows it), and an exploration that held as a
/// passing one; the totals count them.
#[test]
fn junit_lists_explored_failures_under_their_rule() {
    let out = scratch("explore-junit");
    let file = out.join("report.xml");
    let (mutant, pbx) = mutant_paths();
    let output = cleardown(&[
        "conformance",
        "--plugin",
        path(&mutant),
        "--config",
        &format!("mutant=reject_undeclared;inner={}", path(&pbx)),
        "--config",
        &format!("mutant=none;inner={}", path(&pbx)),
        "--filter",
        "d1-monitor-cannot-drop",
        "--scenarios",
        "100",
        "--shrink-budget",
        "10",
        "--explore-out",
        path(&out),
        "--junit",
        path(&file),
    ]);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let xml = std::fs::read_to_string(&file).expect("written");
    assert!(xml.contains("name=\"explore R2 (seed "), "{xml}");
    assert!(xml.contains("<failure message=\"step "), "{xml}");
    assert!(
        xml.contains("name=\"explore (seed "),
        "the control's: {xml}"
    );
    let cases = xml.matches("<testcase ").count();
    let declared: usize = xml
        .split("<testsuites ")
        .nth(1)
        .and_then(|t| t.split("tests=\"").nth(1))
        .and_then(|t| t.split('"').next())
        .and_then(|n| n.parse().ok())
        .expect("a tests count");
    assert_eq!(declared, cases, "{xml}");
    let _ = std::fs::remove_dir_all(out);
}
