//! A provider from outside this workspace: `harness/tests/ext-provider`, the
//! crate `ext-isdn`, written against the public SDK only, with a
//! `[workspace]` of its own so cargo builds it as a provider author's crate.
//! It must build, load (SPEC L1), declare what it does (L2) in each of its
//! configurations (L3), and pass the bundled conformance suite: the guard
//! that the SDK's documentation is enough to write a correct provider.

use std::{
    path::{Path, PathBuf},
    process::Command,
    sync::OnceLock,
};

use cleardown_host::{AddressId, Event, Host, Privilege, SignalKind};
use cleardown_report::Status;

use crate::{cleardown, conformance::report_of, stderr, stdout};

/// The configurations ext-isdn is proven in: its defaults (UUI up to 32
/// bytes, reject by drop, close_drop), a smaller UUI, and every optional
/// capability off, so both paths of R1/R2, U3/U4 and B5 run.
const CONFIGS: [&str; 3] = ["", "uui=16", "uui=0;reject_by_drop=off;close_drop=off"];

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The ext-isdn library, built once per test process by the cargo running
/// these tests, as its author would build it, into `target/ext-provider` so
/// it neither litters its own directory nor rebuilds from scratch each time.
fn ext_isdn() -> &'static Path {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT.get_or_init(build_ext_isdn)
}

fn build_ext_isdn() -> PathBuf {
    let root = workspace_root();
    let crate_dir = root.join("harness/tests/ext-provider");
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| root.join("target"), PathBuf::from)
        .join("ext-provider");
    let output = Command::new(env!("CARGO"))
        .args([
            "build",
            "--locked",
            "--message-format=json-render-diagnostics",
        ])
        .arg("--manifest-path")
        .arg(crate_dir.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&target)
        .current_dir(&crate_dir)
        .output()
        .expect("cargo runs");
    assert!(
        output.status.success(),
        "building ext-isdn failed:\n{}",
        stderr(&output)
    );
    // The cdylib cargo reports, never a guess at its path.
    stdout(&output)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| {
            message["reason"] == "compiler-artifact"
                && message["target"]["name"] == "ext_isdn"
                && message["target"]["kind"]
                    .as_array()
                    .is_some_and(|kinds| kinds.iter().any(|k| k == "cdylib"))
        })
        .filter_map(|message| message["filenames"].as_array().cloned())
        .flatten()
        .filter_map(|file| file.as_str().map(PathBuf::from))
        .find(|file| {
            file.to_string_lossy()
                .ends_with(std::env::consts::DLL_SUFFIX)
        })
        .unwrap_or_else(|| {
            panic!(
                "cargo reported no cdylib for ext-isdn:\n{}",
                stdout(&output)
            )
        })
}

fn path_arg(path: &Path) -> &str {
    path.to_str().expect("a UTF-8 path")
}

/// SPEC L1, L2, L3: the bundled suite over the outside provider, once per
/// configuration: it loads, declares what the configuration selects, runs
/// fixtures in every run (the positive and negative path of each
/// capability) and fails none of them.
#[test]
fn l1_l2_l3_an_outside_provider_passes_the_bundled_suite() {
    let mut args = vec!["conformance", "--plugin", path_arg(ext_isdn())];
    for config in CONFIGS {
        args.extend(["--config", config]);
    }
    args.extend(["--format", "json"]);
    let output = cleardown(&args);
    let report = report_of(&output);
    assert_eq!(report.runs.len(), CONFIGS.len());
    assert_eq!(report.summary.load_errors, 0, "{:?}", report.runs);
    let mut failures = Vec::new();
    for (run, config) in report.runs.iter().zip(CONFIGS) {
        assert_eq!(run.config, config);
        let provider = run.provider.as_ref().expect("loaded");
        assert_eq!(provider.name, "ext-isdn");
        let passed = run
            .fixtures
            .iter()
            .filter(|f| f.status == Status::Pass)
            .count();
        assert!(passed > 0, "config {config:?}: no fixture passed");
        for fixture in run.fixtures.iter().filter(|f| f.status == Status::Fail) {
            for failure in &fixture.failures {
                failures.push(format!(
                    "config {config:?}: {} ({:?}): {}{}",
                    fixture.name,
                    failure.kind,
                    failure.message,
                    failure
                        .diff
                        .as_deref()
                        .map_or_else(String::new, |d| format!("\n{d}"))
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failure(s):\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    // Both paths of each capability ran, each in the configuration that
    // selects it (SPEC L2: the negative path of what is not declared).
    let status = |run: usize, prefix: &str| {
        report.runs[run]
            .fixtures
            .iter()
            .find(|f| f.name.starts_with(prefix))
            .map(|f| f.status)
    };
    for prefix in ["r1-", "u3-max-uui", "b5-close-line-with-active-call"] {
        assert_eq!(status(0, prefix), Some(Status::Pass), "{prefix} by default");
    }
    for prefix in ["r2-", "u4-", "b5-close-line-with-active-call"] {
        assert_eq!(
            status(2, prefix),
            Some(Status::Pass),
            "{prefix} with all off"
        );
    }
    // What it does not declare is skipped, not failed.
    assert_eq!(status(0, "c1-conference-drop-cascades"), Some(Status::Skip));
}

/// SPEC L2, L3: `inspect` shows what each configuration declares, the call
/// features by name.
#[test]
fn l2_l3_inspect_shows_the_outside_provider_declaration() {
    let output = cleardown(&[
        "inspect",
        path_arg(ext_isdn()),
        "--config",
        "uui=16;reject_by_drop=off",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["name"], "ext-isdn");
    let caps = &json["capabilities"];
    assert_eq!(caps["uui_drop_size"], 16);
    assert_eq!(caps["reject_by_drop"], false);
    assert_eq!(caps["close_drop"], true);
    let names: Vec<&str> = caps["addresses"]
        .as_array()
        .expect("addresses")
        .iter()
        .filter_map(|a| a["name"].as_str())
        .collect();
    assert_eq!(names, ["msn-1", "msn-2"]);
    assert_eq!(
        caps["addresses"][0]["features"],
        serde_json::json!(["accept", "answer", "drop", "hold", "unhold"])
    );
    // Contract 1.2: what it hears of the far end, as its README-written
    // declaration says.
    assert_eq!(caps["far_causes"], true);
    assert_eq!(caps["uui_received_size"], 128);
    assert_eq!(caps["hang_up_delay_ms"], 0);
    let default = cleardown(&["inspect", path_arg(ext_isdn())]);
    for line in [
        "uui_drop_size:     32",
        "far_causes:        yes",
        "uui_received_size: 128",
    ] {
        assert!(
            stdout(&default).contains(line),
            "{line}: {}",
            stdout(&default)
        );
    }
    let refused = cleardown(&["inspect", path_arg(ext_isdn()), "--config", "uui=129"]);
    assert_eq!(refused.status.code(), Some(2));
    assert!(
        stderr(&refused).contains("expected a byte count from 0 to 128"),
        "{}",
        stderr(&refused)
    );
}

/// SPEC U3, §10: what the far end receives carries the drop's UUI byte for
/// byte, and the wire text is ext-isdn's own Q.931 rendering, the UUI in
/// hex: a DISCONNECT for a connected call, a RELEASE COMPLETE for a
/// rejected offer.
#[test]
fn u3_the_far_end_gets_the_uui_in_ext_isdns_own_wire_text() {
    let host = Host::new();
    let provider = host.load(ext_isdn(), "uui=16").expect("loads");
    let app = host.app("app");
    app.open_line(provider, AddressId(0), Privilege::Owner)
        .expect("opens msn-1");
    let (_, call) = app
        .make_call(provider, AddressId(0), "alice")
        .expect("calls");
    let (_, id) = host.call_of(call).expect("a provider call");
    host.remote_answer(provider, id).expect("alice answers");
    app.drop(call, &[0x04, 0x68, 0x69]).expect("drops");
    let offered = host
        .remote_offer(provider, AddressId(0), "bob", &[])
        .expect("bob calls");
    let offered = app.handle_of(provider, offered).expect("a handle");
    app.drop(offered, &[0x04, 0xab]).expect("rejects");
    let replies = app
        .events()
        .iter()
        .filter(|e| matches!(e, Event::Reply { result: Ok(()), .. }))
        .count();
    assert_eq!(replies, 3, "make_call and both drops complete");
    let far = host.far_end(provider).expect("far-end view");
    let signal = |name: &str| {
        let party = far.iter().find(|p| p.name == name).expect("party");
        assert_eq!(party.received.len(), 1, "{party:?}");
        party.received[0].clone()
    };
    let alice = signal("alice");
    assert_eq!((alice.kind, alice.cause), (SignalKind::Release, 16));
    assert_eq!(alice.uui, [0x04, 0x68, 0x69]);
    assert_eq!(
        alice.wire,
        "DISCONNECT crv=0x01 cause #16 normal call clearing uu[3]=046869"
    );
    let bob = signal("bob");
    assert_eq!((bob.kind, bob.cause), (SignalKind::Reject, 21));
    assert_eq!(
        bob.wire,
        "RELEASE COMPLETE crv=0x02 cause #21 call rejected uu[2]=04ab"
    );
    for handle in [call, offered] {
        app.deallocate(handle).expect("frees");
    }
    assert!(host.leaks().is_empty(), "T5: {:?}", host.leaks());
}

/// Runs the bundled `u3-max-uui` fixture on ext-isdn in both UUI sizes,
/// its wire snapshots kept in `dir`, and returns the exit code and report.
fn run_u3_with_wire_snapshots(dir: &Path) -> (Option<i32>, cleardown_report::Report) {
    let output = cleardown(&[
        "conformance",
        "--plugin",
        path_arg(ext_isdn()),
        "--config",
        "",
        "--config",
        "uui=16",
        "--filter",
        "u3-max-uui",
        "--wire-snapshots",
        path_arg(dir),
        "--format",
        "json",
    ]);
    (output.status.code(), report_of(&output))
}

fn wire_checks(report: &cleardown_report::Report) -> Vec<cleardown_report::WireCheck> {
    report
        .runs
        .iter()
        .flat_map(|run| &run.fixtures)
        .filter_map(|f| f.wire.clone())
        .collect()
}

/// SPEC U3, §10: a provider's exact wire text is its own snapshot. Not
/// pinned at first (reported, not failed, and written as `.snap.new`, one
/// per UUI size since the bytes differ); once renamed to `.snap` it is
/// compared, and a change of the wire text fails the fixture.
#[test]
fn u3_an_outside_providers_wire_text_is_pinned_in_its_own_directory() {
    let dir = crate::scratch("ext-wire");
    let _ = std::fs::remove_dir_all(&dir);
    let (code, report) = run_u3_with_wire_snapshots(&dir);
    assert_eq!(code, Some(0), "not pinned is not a failure: {report:?}");
    let checks = wire_checks(&report);
    let names: Vec<&str> = checks.iter().map(|c| c.snapshot.as_str()).collect();
    assert_eq!(
        names,
        [
            "u3-max-uui-reaches-far-end-byte-for-byte@uui_drop_size=32.wire-ext-isdn",
            "u3-max-uui-reaches-far-end-byte-for-byte@uui_drop_size=16.wire-ext-isdn",
        ]
    );
    assert_eq!(report.summary.wire_not_pinned, 2);
    for check in &checks {
        assert_eq!(check.status, cleardown_report::WireStatus::NotPinned);
        let pending = PathBuf::from(check.pending.as_deref().expect("written for review"));
        let text = std::fs::read_to_string(&pending).expect("the .snap.new");
        assert!(text.contains("expression: wire log"), "{text}");
        assert!(
            text.contains("DISCONNECT crv="),
            "ext-isdn's own text: {text}"
        );
        std::fs::rename(&pending, pending.with_extension("")).expect("pin it");
    }
    let (code, report) = run_u3_with_wire_snapshots(&dir);
    assert_eq!(code, Some(0), "{report:?}");
    assert!(
        wire_checks(&report)
            .iter()
            .all(|c| c.status == cleardown_report::WireStatus::Matches && c.pending.is_none()),
        "{:?}",
        wire_checks(&report)
    );
    assert_eq!(report.summary.wire_not_pinned, 0);
    // A wire text that changes (here: the pinned one, as if the provider
    // had started sending cause 31) fails, with a diff and a pending file.
    let pinned = dir.join(format!("{}.snap", checks[1].snapshot));
    let text = std::fs::read_to_string(&pinned).expect("pinned");
    std::fs::write(&pinned, text.replace("cause #16", "cause #31")).expect("tamper");
    let (code, report) = run_u3_with_wire_snapshots(&dir);
    assert_eq!(code, Some(1), "{report:?}");
    let failed: Vec<&cleardown_report::Failure> = report.runs[1].fixtures[0]
        .failures
        .iter()
        .filter(|f| f.kind == cleardown_report::FailureKind::WireLog)
        .collect();
    assert_eq!(failed.len(), 1, "{:?}", report.runs[1].fixtures[0].failures);
    assert!(
        failed[0]
            .diff
            .as_deref()
            .is_some_and(|d| d.contains("cause #31")),
        "{failed:?}"
    );
    assert_eq!(report.runs[0].fixtures[0].status, Status::Pass);
    // The text report names what differs: the wire log, not a transcript.
    let text = cleardown(&[
        "conformance",
        "--plugin",
        path_arg(ext_isdn()),
        "--config",
        "uui=16",
        "--filter",
        "u3-max-uui",
        "--wire-snapshots",
        path_arg(&dir),
        "--no-pending",
    ]);
    assert_eq!(text.status.code(), Some(1));
    let text = stdout(&text);
    assert!(
        text.contains("the wire log differs from the provider's wire snapshot"),
        "{text}"
    );
    assert!(
        text.contains("--- snapshot\n        +++ wire log\n"),
        "{text}"
    );
}

/// SPEC U3: `replay --wire` prints the wire log after the transcript and
/// compares it with the provider's wire snapshot, as `conformance` does.
#[test]
fn u3_replay_shows_and_checks_an_outside_providers_wire_log() {
    let dir = crate::scratch("ext-replay-wire");
    let fixture = workspace_root().join("fixtures/u3-uui-on-rejection-byte-for-byte.toml");
    let replay = || {
        cleardown(&[
            "replay",
            path_arg(&fixture),
            "--plugin",
            path_arg(ext_isdn()),
            "--wire",
            "--wire-snapshots",
            path_arg(&dir),
        ])
    };
    let name = "u3-uui-on-rejection-byte-for-byte@uui_drop_size=32.wire-ext-isdn";
    let _ = std::fs::remove_file(dir.join(format!("{name}.snap")));
    let output = replay();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let (transcript, wire) = stdout(&output)
        .split_once("--- wire log\n")
        .map(|(t, w)| (t.to_owned(), w.to_owned()))
        .expect("the wire log follows the transcript");
    assert!(transcript.contains("far_end"), "{transcript}");
    assert!(wire.contains("RELEASE COMPLETE crv="), "{wire}");
    assert!(
        stderr(&output).contains(&format!("wire log not pinned: no snapshot {name}")),
        "{}",
        stderr(&output)
    );
    std::fs::write(
        dir.join(format!("{name}.snap")),
        format!("---\nsource: test\nexpression: wire log\n---\n{wire}"),
    )
    .expect("pin");
    let output = replay();
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(stderr(&output).contains(&format!("wire log matches snapshot {name}")));
    std::fs::write(
        dir.join(format!("{name}.snap")),
        format!(
            "---\nsource: test\nexpression: wire log\n---\n{}",
            wire.replace("#21", "#17")
        ),
    )
    .expect("tamper");
    let output = replay();
    assert_eq!(output.status.code(), Some(1), "{}", stderr(&output));
    assert!(
        stderr(&output).contains(&format!("wire log differs from snapshot {name}")),
        "{}",
        stderr(&output)
    );
}
