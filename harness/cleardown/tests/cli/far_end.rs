//! `--far-end`: a provider that simulates no far end (the sip provider on
//! UDP) is judged through the SIP far end on its wire, by `conformance` and
//! by `replay`; without a driver that can serve them, its far-end fixtures
//! are skipped naming why, never failed (issue 14).

use crate::{check_refused, cleardown, conformance::report_of, stderr, stdout};
use cleardown_report::Status;

const WIRE: &str = "transport=udp;bind={local};peer={far_end}";
/// A bundled fixture with a wire log: the app cancels its unanswered call.
const D7: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../../fixtures/d7-drop-unanswered-outbound-cancels.toml"
);
/// A UDP configuration the provider can open, whose peer nobody plays.
const NOBODY: &str = "transport=udp;bind=127.0.0.1:0;peer=127.0.0.1:9";

/// SPEC S3, §10: the far hang-up fixtures, through the SIP far end, pass
/// against the bundled snapshots; through the provider's own (absent) far
/// end each is skipped naming the step it could not serve, and a run where
/// every fixture skipped is no green run (exit 2).
#[test]
fn s3_a_provider_without_a_simulated_far_end_is_judged_on_its_wire() {
    let judged = cleardown(&[
        "conformance",
        "--plugin",
        "sip",
        "--config",
        WIRE,
        "--far-end",
        "sip",
        "--filter",
        "s3-far-hang-up",
        "--no-explore",
        "--format",
        "json",
    ]);
    assert_eq!(judged.status.code(), Some(0), "{}", stderr(&judged));
    let report = report_of(&judged);
    let run = &report.runs[0];
    assert_eq!(run.far_end.as_deref(), Some("sip"));
    let passed: Vec<&str> = run
        .fixtures
        .iter()
        .filter(|f| f.status == Status::Pass)
        .map(|f| f.name.as_str())
        .collect();
    assert!(
        passed.contains(&"s3-far-hang-up-cause-selects-disconnect-mode"),
        "{passed:?}"
    );

    let unserved = cleardown(&[
        "conformance",
        "--plugin",
        "sip",
        "--config",
        NOBODY,
        "--filter",
        "s3-far-hang-up",
        "--no-explore",
    ]);
    assert_eq!(unserved.status.code(), Some(2), "{}", stdout(&unserved));
    let text = stdout(&unserved);
    assert!(
        text.contains(
            "  SKIP  s3-far-hang-up-cause-selects-disconnect-mode [S3 D6 D3 D4 D5 Q1]: the far \
             end (--far-end provider) cannot serve `far_answer` (OperationUnavail): the provider \
             simulates no far end; run it with a far-end driver for its network (--far-end sip)"
        ),
        "{text}"
    );
    assert!(!text.contains("FAIL"), "{text}");
}

/// A placeholder nobody fills in, or a wire driver with no placeholder to
/// fill, is a one-line usage error, before anything runs.
#[test]
fn l3_far_end_placeholders_and_drivers_must_agree() {
    check_refused(
        &[
            "conformance",
            "--plugin",
            "sip",
            "--config",
            WIRE,
            "--no-explore",
        ],
        "names `{local}`, which only a far-end driver on a wire fills in; add --far-end sip",
    );
    check_refused(
        &[
            "conformance",
            "--plugin",
            "sip",
            "--config",
            NOBODY,
            "--far-end",
            "sip",
            "--no-explore",
        ],
        "--far-end sip needs the provider's configuration to name its peer as `{far_end}`",
    );
    check_refused(
        &["conformance", "--plugin", "sip", "--far-end", "isdn"],
        "unknown far end `isdn`; expected provider or sip",
    );
    check_refused(
        &["replay", D7, "--plugin", "sip", "--config", WIRE],
        "add --far-end sip",
    );
}

/// `replay --far-end sip` shows the same transcript the memory transport
/// pins, and the same wire log (SPEC D7, §10: the CANCEL).
#[test]
fn d7_replay_through_the_sip_far_end_matches_the_pinned_snapshots() {
    let fixture = D7;
    let output = cleardown(&[
        "replay",
        fixture,
        "--plugin",
        "sip",
        "--config",
        WIRE,
        "--far-end",
        "sip",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let err = stderr(&output);
    assert!(err.contains("transcript matches snapshot"), "{err}");
    assert!(err.contains("wire log matches snapshot"), "{err}");
    let memory = cleardown(&["replay", fixture, "--plugin", "sip"]);
    assert_eq!(stdout(&memory), stdout(&output));
}

/// A SIP provider that is not ours is judged the same way: the sip library
/// by path is anyone's provider (its wire text not pinned, never failed),
/// and the SIP far end judges every transcript against the bundled
/// snapshots (SPEC D7, R1, U3 over the wire).
#[test]
fn d7_a_sip_provider_by_path_is_judged_through_the_sip_far_end() {
    let library = cleardown_host::locate::find("sip").expect("sip builds");
    let output = cleardown(&[
        "conformance",
        "--plugin",
        library.to_str().expect("utf-8 path"),
        "--config",
        WIRE,
        "--far-end",
        "sip",
        "--filter",
        "-",
        "--no-explore",
        "--no-pending",
        "--format",
        "json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let report = report_of(&output);
    let run = &report.runs[0];
    for name in ["d7-", "r1-", "u3-max-uui"] {
        let fixture = run
            .fixtures
            .iter()
            .find(|f| f.name.starts_with(name))
            .expect("bundled fixture");
        assert_eq!(
            fixture.status,
            Status::Pass,
            "{name}: {:?}",
            fixture.failures
        );
    }
    assert!(report.summary.wire_not_pinned > 0, "{:?}", report.summary);
}
