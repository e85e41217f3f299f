//! The mutation proof: deliberately broken variants of pbx-sim (the
//! `mutant-provider` decorator) each fail the suite on the rule they break,
//! while the unbroken control passes. A suite a broken provider can pass
//! proves nothing.

use cleardown_report::{FailureKind, Run, Status};

use crate::{cleardown, conformance::report_of, stdout};

/// What a mutant must cause: a failure of `kind` counted against `rule`, in
/// a fixture whose name starts with `fixture` (the fixture written for that
/// rule, so the suite fails the mutant where it should, not by accident).
struct Expect {
    kind: FailureKind,
    rule: &'static str,
    fixture: &'static str,
}

fn caught(run: &Run, expect: &Expect) -> bool {
    run.fixtures
        .iter()
        .filter(|f| f.status == Status::Fail && f.name.starts_with(expect.fixture))
        .flat_map(|f| f.failures.iter())
        .any(|f| f.kind == expect.kind && f.rules.iter().any(|r| r == expect.rule))
}

#[test]
fn each_mutant_fails_on_the_rule_it_breaks_and_the_control_passes() {
    let mutant = cleardown_host::locate::find("mutant-provider").expect("mutant-provider builds");
    let pbx = cleardown_host::locate::find("pbx-sim").expect("pbx-sim builds");
    let inner = pbx.to_str().expect("utf-8");
    let expect = |kind, rule, fixture| {
        Some(Expect {
            kind,
            rule,
            fixture,
        })
    };
    use FailureKind::{Fault, Leak, NoReply, Transcript};
    let cases = [
        ("none", None),
        ("skip_child_event", expect(Transcript, "C1", "c1-")),
        ("skip_child_event", expect(Transcript, "D4", "c1-")),
        ("truncate_uui;uui=16", expect(Transcript, "U2", "u2-")),
        ("reject_undeclared", expect(Transcript, "R2", "r2-")),
        ("no_reply", expect(NoReply, "D3", "d3-")),
        ("idle_on_hang_up", expect(Transcript, "S3", "s3-")),
        ("leak_handle", expect(Leak, "T5", "d5-")),
        ("panic_mid_drop", expect(Fault, "X2", "d5-")),
    ];
    let configs: Vec<String> = cases
        .iter()
        .map(|(m, _)| format!("mutant={m};inner={inner}"))
        .collect();
    let mut args = vec![
        "conformance".to_owned(),
        "--plugin".to_owned(),
        mutant.to_str().expect("utf-8").to_owned(),
        "--format".to_owned(),
        "json".to_owned(),
        // The hand-written fixtures' proof; exploration's is explore.rs.
        "--no-explore".to_owned(),
        // Replies come synchronously from pbx-sim; a short wait keeps the
        // no_reply mutant quick without weakening the check.
        "--settle-ms".to_owned(),
        "100".to_owned(),
    ];
    for config in &configs {
        args.push("--config".to_owned());
        args.push(config.clone());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let output = cleardown(&args);
    assert_eq!(output.status.code(), Some(1), "{}", stdout(&output));
    let report = report_of(&output);
    assert_eq!(report.runs.len(), cases.len());
    for ((name, expected), run) in cases.iter().zip(&report.runs) {
        assert!(run.load_error.is_none(), "{name}: {:?}", run.load_error);
        match expected {
            None => assert!(
                run.fixtures.iter().all(|f| f.status != Status::Fail),
                "the control fails: {:?}",
                run.fixtures
                    .iter()
                    .filter(|f| f.status == Status::Fail)
                    .map(|f| &f.name)
                    .collect::<Vec<_>>()
            ),
            Some(expect) => assert!(
                caught(run, expect),
                "mutant {name} should fail {} with a {:?} failure in {}*",
                expect.rule,
                expect.kind,
                expect.fixture
            ),
        }
    }
}
