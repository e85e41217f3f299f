//! The oracle rejects every mutant of harness/mutant-provider on the rule
//! it breaks, judging the bundled fixtures' histories alone (no snapshot),
//! and accepts the unmutated control.

use cleardown_conformance::{
    replay::{self, Gate, Options},
    suite::Suite,
};
use cleardown_host::{Host, locate};

/// The rules the oracle names over every bundled fixture the provider at
/// `path` opened with `config` runs.
fn rules_named(path: &std::path::Path, config: &str) -> Vec<String> {
    let suite = Suite::bundled().expect("the bundled fixtures parse");
    let mut rules = Vec::new();
    for entry in &suite.entries {
        let host = Host::new();
        let provider = host.load(path, config).expect("the mutant loads");
        let caps = host.describe(provider).expect("describes").capabilities;
        let Gate::Run(binding) = replay::gate(&entry.fixture, &caps) else {
            continue;
        };
        let options = Options {
            settle: std::time::Duration::from_millis(100),
        };
        let mut outcome = replay::replay(&host, provider, &caps, &entry.fixture, &binding, options);
        outcome.judge(&entry.fixture, &replay::oracle_context(&caps, &binding));
        rules.extend(outcome.verdicts.into_iter().map(|v| v.rule));
    }
    rules.sort();
    rules.dedup();
    rules
}

#[test]
fn the_oracle_names_each_mutants_rule_and_accepts_the_control() {
    let mutant = locate::find("mutant-provider").expect("mutant-provider builds");
    let pbx = locate::find("pbx-sim").expect("pbx-sim builds");
    let inner = pbx.display();
    for (name, rule) in [
        ("none", None),
        ("skip_child_event", Some("C1")),
        ("truncate_uui;uui=16", Some("U2")),
        ("reject_undeclared", Some("R2")),
        ("no_reply", Some("D3")),
        ("idle_on_hang_up", Some("S3")),
        ("leak_handle", Some("T5")),
        ("panic_mid_drop", Some("X2")),
    ] {
        let rules = rules_named(&mutant, &format!("mutant={name};inner={inner}"));
        match rule {
            None => assert!(rules.is_empty(), "the control breaks {rules:?}"),
            Some(rule) => assert!(
                rules.iter().any(|r| r == rule),
                "mutant {name}: the oracle names {rules:?}, not {rule}"
            ),
        }
    }
}
