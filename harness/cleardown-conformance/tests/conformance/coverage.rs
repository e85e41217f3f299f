//! Every rule of SPEC.md is cited by at least one bundled fixture.

use cleardown_conformance::suite::{self, Suite};

#[test]
fn every_spec_rule_has_a_fixture() {
    let suite = Suite::bundled().expect("the bundled fixtures parse");
    let rules = suite::rules();
    assert!(rules.len() > 40, "SPEC.md has its rules: {}", rules.len());
    let uncovered: Vec<&str> = rules
        .iter()
        .filter(|rule| {
            !suite
                .entries
                .iter()
                .any(|e| e.fixture.rules.contains(&rule.id))
        })
        .map(|rule| rule.id.as_str())
        .collect();
    assert!(
        uncovered.is_empty(),
        "rules without a fixture: {uncovered:?}"
    );
}

#[test]
fn fixtures_cite_only_rules_of_spec_md() {
    let suite = Suite::bundled().expect("the bundled fixtures parse");
    let rules: Vec<String> = suite::rules().into_iter().map(|r| r.id).collect();
    for entry in &suite.entries {
        for rule in &entry.fixture.rules {
            assert!(
                rules.contains(rule),
                "{} cites {rule}, which SPEC.md does not define",
                entry.fixture.file
            );
        }
    }
}

/// The repository's SPEC.md is a copy of the shared contract; where the
/// shared copy is checked out beside the repository, the two must agree.
#[test]
fn embedded_spec_is_the_shared_contract() {
    let shared = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/SPEC.md");
    match std::fs::read_to_string(&shared) {
        Ok(text) => assert_eq!(
            suite::rules_of(&text),
            suite::rules(),
            "SPEC.md differs from {}; copy it again",
            shared.display()
        ),
        Err(_) => eprintln!(
            "no shared SPEC.md at {}; nothing to compare",
            shared.display()
        ),
    }
}
