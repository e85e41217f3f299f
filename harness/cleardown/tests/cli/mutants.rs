//! The mutation proof: deliberately broken variants of pbx-sim (the
//! `mutant-provider` decorator) each fail the suite on the rule they break,
//! while the unbroken control passes. A suite a broken provider can pass
//! proves nothing.

use std::collections::BTreeSet;

use cleardown_report::Run;

use crate::{cleardown, conformance::report_of, stdout};

/// Every rule some failure of `run` counts against.
fn failed_rules(run: &Run) -> BTreeSet<String> {
    run.fixtures
        .iter()
        .flat_map(|f| f.failures.iter())
        .flat_map(|f| f.rules.iter().cloned())
        .collect()
}

#[test]
fn each_mutant_fails_on_the_rule_it_breaks_and_the_control_passes() {
    let mutant = cleardown_host::locate::find("mutant-provider").expect("mutant-provider builds");
    let pbx = cleardown_host::locate::find("pbx-sim").expect("pbx-sim builds");
    let inner = pbx.to_str().expect("utf-8");
    // (mutant and its extra configuration, the rule it must fail)
    let cases = [
        ("none", None),
        ("skip_child_event", Some("C1")),
        ("skip_child_event", Some("D4")),
        ("truncate_uui;uui=16", Some("U2")),
        ("reject_undeclared", Some("R2")),
        ("no_reply", Some("D3")),
        ("idle_on_hang_up", Some("S3")),
        ("leak_handle", Some("T5")),
        ("panic_mid_drop", Some("X2")),
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
    for ((name, rule), run) in cases.iter().zip(&report.runs) {
        assert!(run.load_error.is_none(), "{name}: {:?}", run.load_error);
        let failed = failed_rules(run);
        match rule {
            None => assert!(failed.is_empty(), "the control fails {failed:?}"),
            Some(rule) => assert!(
                failed.contains(*rule),
                "mutant {name} should fail {rule}; it fails {failed:?}"
            ),
        }
    }
}
