//! Generated scenarios are fixtures: each parses and checks, for every
//! kind of declaration, and the same seed gives the same script.

use cleardown_contract::{AddressCaps, CallFeatures, Capabilities, Sharing};
use cleardown_explore::{generate, rng::scenario_seed};

fn caps(uui: u32, reject: bool, features: CallFeatures, conf_drop: bool) -> Capabilities {
    Capabilities {
        uui_drop_size: uui,
        reject_by_drop: reject,
        close_drop: true,
        addresses: vec![AddressCaps {
            name: "line".to_owned(),
            conf_drop,
            sharing: Sharing::Private,
            features,
        }],
        far_causes: uui > 0,
        // The far end's UUI may exceed the drop size (contract 1.2).
        uui_received_size: if uui == 0 { 0 } else { 128 },
        hang_up_delay_ms: 0,
    }
}

#[test]
fn every_generated_scenario_is_a_valid_fixture() {
    let all = CallFeatures(u32::MAX);
    let plain =
        CallFeatures(CallFeatures::ACCEPT.0 | CallFeatures::ANSWER.0 | CallFeatures::DROP.0);
    for caps in [
        caps(128, true, all, true),
        caps(0, false, plain, false),
        caps(1, true, plain, false),
        caps(3, false, all, false),
    ] {
        for index in 0..500 {
            let scenario = generate(&caps, scenario_seed(7, index)).expect("a private line");
            let source = scenario.source("generated");
            if let Err(error) = cleardown_fixture::parse("generated.toml", &source) {
                panic!("{error}\n{source}");
            }
        }
    }
}

#[test]
fn a_seed_fixes_the_scenario() {
    let caps = caps(16, true, CallFeatures(u32::MAX), true);
    let a = generate(&caps, 42).expect("generated");
    let b = generate(&caps, 42).expect("generated");
    assert_eq!(a, b);
    let c = generate(&caps, 43).expect("generated");
    assert_ne!(a.steps, c.steps);
}

/// SPEC §6: the situations of B1-B3 need a call's appearances at two
/// stations, so a bridged provider's scripts run on two or three of its
/// stations, each bound with the same conditions; a `Monitored` address
/// alone gets none (it only watches).
#[test]
fn bridged_stations_get_scripts_over_several_stations() {
    let plain =
        CallFeatures(CallFeatures::ACCEPT.0 | CallFeatures::ANSWER.0 | CallFeatures::DROP.0);
    for sharing in [
        Sharing::BridgedShared,
        Sharing::BridgedExclusive,
        Sharing::BridgedNew,
    ] {
        let mut caps = caps(0, false, plain, false);
        caps.addresses[0].sharing = sharing;
        let mut second = caps.addresses[0].clone();
        second.name = "line-2".to_owned();
        caps.addresses.push(second.clone());
        second.name = "line-3".to_owned();
        caps.addresses.push(second);
        let mut widths = std::collections::BTreeSet::new();
        for index in 0..300 {
            let scenario = generate(&caps, scenario_seed(3, index)).expect("stations");
            let source = scenario.source("generated");
            if let Err(error) = cleardown_fixture::parse("generated.toml", &source) {
                panic!("{error}\n{source}");
            }
            widths.insert(scenario.lines.len());
            let condition = format!("sharing == {sharing:?}");
            assert!(
                scenario.lines.iter().all(|(_, c)| c.contains(&condition)),
                "{source}"
            );
        }
        assert_eq!(widths.into_iter().collect::<Vec<_>>(), [2, 3]);
    }
    let mut caps = caps(0, false, plain, false);
    caps.addresses[0].sharing = Sharing::Monitored;
    assert!(generate(&caps, 1).is_none());
}
