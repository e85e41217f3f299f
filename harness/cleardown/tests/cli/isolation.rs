//! A provider that aborts, segfaults or hangs fails the fixture it was
//! running, named so, and the run goes on in a fresh process (SPEC X2).

use cleardown_report::{FailureKind, Status};

use crate::{cleardown, conformance::report_of, scratch, stdout};

const DIES: &str = r#"title = "The provider dies or hangs in drop"
rules = ["X2"]
steps = [
  { do = "open", line = "main" },
  { do = "far_offer", call = "in", line = "main", from = "bob" },
  { do = "answer", call = "in" },
  { do = "drop", call = "in" },
  { do = "deallocate", call = "*" },
]
"#;

const LIVES: &str = r#"title = "A later fixture still runs"
rules = ["X2"]
steps = [
  { do = "open", line = "main" },
  { do = "leaks" },
]
"#;

const LIVES_SNAPSHOT: &str =
    "---\nsource: test\n---\napp: open main as Owner\n  -> ok\nleaks\n  -> none\n";

/// Runs the two fixtures against faulty-provider in `config` and checks the
/// first fails with `kind` (message containing `words`), the second passes.
fn check(config: &str, extra: &[&str], kind: FailureKind, words: &str) {
    let dir = scratch(&format!("isolation-{}", config.replace('=', "-")));
    std::fs::write(dir.join("a-dies.toml"), DIES).expect("write");
    std::fs::write(dir.join("b-lives.toml"), LIVES).expect("write");
    std::fs::create_dir_all(dir.join("snapshots")).expect("mkdir");
    std::fs::write(dir.join("snapshots/b-lives.snap"), LIVES_SNAPSHOT).expect("write");
    let faulty = cleardown_host::locate::find("faulty-provider").expect("faulty-provider builds");
    let mut args = vec![
        "conformance",
        "--plugin",
        faulty.to_str().expect("utf-8"),
        "--config",
        config,
        "--fixtures",
        dir.to_str().expect("utf-8"),
        "--no-bundled",
        "--no-pending",
        // What is checked is the fixtures' isolation; exploring a provider
        // that crashes on purpose would only restart it hundreds of times.
        "--no-explore",
        "--format",
        "json",
    ];
    args.extend_from_slice(extra);
    let output = cleardown(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = report_of(&output);
    let fixtures = &report.runs[0].fixtures;
    assert_eq!(fixtures[0].status, Status::Fail);
    let failure = fixtures[0]
        .failures
        .iter()
        .find(|f| f.kind == kind)
        .unwrap_or_else(|| panic!("no {kind:?} failure in {:?}", fixtures[0].failures));
    assert!(failure.message.contains(words), "{}", failure.message);
    assert_eq!(failure.rules, ["X2"]);
    assert_eq!(
        fixtures[1].status,
        Status::Pass,
        "the run goes on in a fresh process: {:?}",
        fixtures[1].failures
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[test]
fn x2_an_aborting_provider_fails_its_fixture_with_the_signal_named() {
    check(
        "abort=drop",
        &[],
        FailureKind::Crash,
        "killed by signal 6 (SIGABRT)",
    );
}

#[test]
fn x2_a_segfaulting_provider_fails_its_fixture_with_the_signal_named() {
    check(
        "segfault=drop",
        &[],
        FailureKind::Crash,
        "killed by signal 11 (SIGSEGV)",
    );
}

#[test]
fn x2_a_hanging_provider_is_killed_after_the_timeout() {
    check(
        "hang=drop",
        &["--timeout", "1"],
        FailureKind::Timeout,
        "timed out after 1.0 s",
    );
}

#[test]
fn x2_a_panicking_provider_is_faulted_by_the_host() {
    check(
        "panic=drop",
        &[],
        FailureKind::Fault,
        "the host faulted the provider (X2)",
    );
}
