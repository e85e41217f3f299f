//! Every bundled fixture through the dynamically loaded pbx-sim, in every
//! configuration variant `cleardown conformance` runs, against the
//! snapshots in `fixtures/snapshots` — the same files the binary embeds.
//! Update them with `cargo insta review` (or `INSTA_UPDATE=always`).

use std::path::PathBuf;

use cleardown_conformance::{
    replay::{self, Gate, Options},
    run::BUNDLED_VARIANTS,
    suite::Suite,
};
use cleardown_host::{Host, locate};

fn snapshot_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/snapshots")
}

#[test]
fn bundled_fixtures_match_their_snapshots_on_every_bundled_variant() {
    let suite = Suite::bundled().expect("the bundled fixtures parse");
    let mut failures = Vec::new();
    let mut ran = 0;
    for (name, variants) in BUNDLED_VARIANTS {
        let path = locate::find(name).expect("the bundled plugin builds");
        for config in *variants {
            for entry in &suite.entries {
                let host = Host::new();
                let provider = host.load(&path, config).expect("loads");
                let caps = host.describe(provider).expect("describes").capabilities;
                let Gate::Run(binding) = replay::gate(&entry.fixture, &caps) else {
                    continue;
                };
                ran += 1;
                let outcome = replay::replay(
                    &host,
                    provider,
                    &caps,
                    &entry.fixture,
                    &binding,
                    Options::default(),
                );
                let snapshot = replay::snapshot_name(&entry.fixture, &binding);
                let place = format!("{name} [{config}] {}", entry.fixture.name);
                if !outcome.leaks.is_empty() {
                    failures.push(format!("{place}: leaks (T5) {:?}", outcome.leaks));
                }
                if let Some(fault) = &outcome.fault {
                    failures.push(format!("{place}: faulted (X2) {fault}"));
                }
                if !outcome.missing_replies.is_empty() {
                    failures.push(format!(
                        "{place}: no Reply (D3) {:?}",
                        outcome.missing_replies
                    ));
                }
                let checked = std::panic::catch_unwind(|| {
                    insta::with_settings!({
                        snapshot_path => snapshot_dir(),
                        prepend_module_to_snapshot => false,
                        omit_expression => true,
                        description => entry.fixture.title.clone(),
                    }, {
                        insta::assert_snapshot!(snapshot.clone(), outcome.transcript.clone());
                    });
                });
                if checked.is_err() {
                    failures.push(format!(
                        "{place}: transcript differs from snapshot {snapshot}"
                    ));
                }
            }
        }
    }
    assert!(ran > 0, "no fixture ran against any variant");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
