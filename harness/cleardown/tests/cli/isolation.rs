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

/// `cleardown inspect`, `replay` and `bench` load the provider in a child
/// process of their own (issue 16, item 5): a provider that dies of a
/// signal while loading or running is one line naming it and the signal,
/// exit 2, never a silent death of the command.
#[test]
fn x2_inspect_and_replay_survive_a_provider_that_dies_and_name_it() {
    let dir = scratch("isolation-in-process");
    let fixture = dir.join("dies.toml");
    std::fs::write(&fixture, DIES).expect("write");
    let faulty = cleardown_host::locate::find("faulty-provider").expect("faulty-provider builds");
    let faulty = faulty.to_str().expect("utf-8");
    for args in [
        vec!["inspect", faulty, "--config", "segfault=info"],
        vec![
            "replay",
            fixture.to_str().expect("utf-8"),
            "--plugin",
            faulty,
            "--config",
            "segfault=drop",
        ],
        vec![
            "bench",
            "--plugin",
            faulty,
            "--config",
            "segfault=info",
            "--no-plot",
        ],
    ] {
        let output = cleardown(&args);
        let err = crate::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        let last = err.trim_end().lines().last().unwrap_or_default();
        assert!(
            last.starts_with(&format!("cleardown: {faulty}: the provider crashed"))
                && last.contains("SIGSEGV"),
            "{args:?}: {err}"
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// A library corrupted in its middle (64 KiB of seeded noise in the code of
/// a copy of pbx-sim), which passes the pre-flight check: whatever loading
/// it does (it dies of SIGSEGV here), the command ends with its own
/// one-line message naming the library, exit 2, not a signal.
#[test]
fn x2_a_corrupt_library_is_one_line_not_a_crash() {
    let dir = scratch("isolation-corrupt");
    let original = cleardown_host::locate::find("pbx-sim").expect("pbx-sim builds");
    let mut bytes = std::fs::read(&original).expect("read");
    // The middle of its code: noise in debug info would change nothing.
    let text = {
        use object::{Object as _, ObjectSection as _};
        let file = object::File::parse(bytes.as_slice()).expect("an object file");
        let section = file.section_by_name(".text").expect("a .text section");
        let (offset, size) = section.file_range().expect("in the file");
        (offset + size / 2) as usize
    };
    let middle = text.min(bytes.len() - 65_536);
    let mut seed: u64 = 0x5eed_c0de;
    for byte in &mut bytes[middle..middle + 65_536] {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        *byte = seed as u8;
    }
    let corrupt = dir.join("libpbx_sim.so");
    std::fs::write(&corrupt, &bytes).expect("write");
    let path = corrupt.to_str().expect("utf-8");
    for args in [vec!["inspect", path], vec!["inspect", path, "--json"]] {
        let output = cleardown(&args);
        let err = crate::stderr(&output);
        assert_eq!(output.status.code(), Some(2), "{args:?}: {err}");
        assert_eq!(
            err.trim_end().lines().count(),
            1,
            "{args:?}: one line: {err}"
        );
        assert!(err.contains(path), "{args:?} names the library: {err}");
    }
    // conformance runs it in a worker: the load error names it too, and no
    // rule is a bare `skip` (issue 16, item 10).
    let output = cleardown(&["conformance", "--plugin", path, "--no-explore"]);
    let (err, out) = (crate::stderr(&output), stdout(&output));
    assert_eq!(output.status.code(), Some(2), "{err}");
    assert!(
        err.trim_end()
            .lines()
            .last()
            .unwrap_or_default()
            .starts_with(&format!("cleardown: {path}: ")),
        "{err}"
    );
    assert!(
        out.contains("  D1   skip      no target could be loaded"),
        "{out}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
