//! SPEC L2: fixtures are gated on what the provider declares, the far-end
//! capabilities of contract 1.2 among them, and a skip names the capability
//! and the declared value.

use cleardown_conformance::{
    fixture::parse,
    replay::{self, Gate},
};
use cleardown_host::{AddressCaps, CallFeatures, Capabilities, Sharing};

/// A declaration with the far-end capabilities given.
fn declaring(far_causes: bool, uui_received_size: u32, hang_up_delay_ms: u32) -> Capabilities {
    Capabilities {
        uui_drop_size: 16,
        reject_by_drop: true,
        close_drop: true,
        addresses: vec![AddressCaps {
            name: "line".to_owned(),
            conf_drop: false,
            sharing: Sharing::Private,
            features: CallFeatures::ALL,
        }],
        far_causes,
        uui_received_size,
        hang_up_delay_ms,
    }
}

/// Gates `requires` (and `profile`) against `caps`: the profile it runs
/// under, or `Err` with the skip reason.
fn check(requires: &str, profile: &str, caps: &Capabilities, expect: Result<&str, &str>) {
    let source = format!(
        "title = \"t\"\nrules = [\"L2\"]\nrequires = [{requires}]\nprofile = [{profile}]\nsteps = [{{ do = \"leaks\" }}]\n"
    );
    let fixture = parse("gated.toml", &source).unwrap_or_else(|e| panic!("{e}"));
    let got = match replay::gate(&fixture, caps) {
        Gate::Run(binding) => Ok(binding.profile),
        Gate::Skip(reason) => Err(reason),
    };
    match (expect, &got) {
        (Ok(profile), Ok(got)) => assert_eq!(got, profile, "{requires}"),
        (Err(words), Err(reason)) => assert!(reason.contains(words), "{requires}: {reason}"),
        _ => panic!("{requires} against {caps:?}: expected {expect:?}, got {got:?}"),
    }
}

#[test]
fn l2_far_causes_gate_runs_only_where_causes_are_declared() {
    let digital = declaring(true, 128, 0);
    let analog = declaring(false, 0, 0);
    check("\"far_causes\"", "", &digital, Ok(""));
    check(
        "\"far_causes\"",
        "",
        &analog,
        Err("needs `far_causes`, which the provider does not declare"),
    );
    check("\"!far_causes\"", "", &analog, Ok(""));
    check(
        "\"!far_causes\"",
        "",
        &digital,
        Err("checks the absence of `far_causes`"),
    );
}

#[test]
fn l2_received_size_is_gated_apart_from_the_drop_size() {
    // A drop size of 16 and 128 bytes kept from the far end.
    let caps = declaring(true, 128, 0);
    check("\"uui_received_size >= 100\"", "", &caps, Ok(""));
    check(
        "\"uui_drop_size >= 100\"",
        "",
        &caps,
        Err("needs `uui_drop_size >= 100`; the provider declares uui_drop_size 16"),
    );
    check(
        "\"uui_received_size > 128\"",
        "",
        &caps,
        Err("needs `uui_received_size > 128`; the provider declares uui_received_size 128"),
    );
}

#[test]
fn l2_hang_up_delay_gates_and_profiles() {
    let at_once = declaring(true, 0, 0);
    let tone = declaring(false, 0, 4000);
    check("\"hang_up_delay_ms == 0\"", "", &at_once, Ok(""));
    check(
        "\"hang_up_delay_ms > 0\"",
        "",
        &at_once,
        Err("needs `hang_up_delay_ms > 0`; the provider declares hang_up_delay_ms 0"),
    );
    // The snapshot depends on how a hang-up is found, not on how long it
    // takes; the value itself can still select one.
    check(
        "",
        "\"hang_up_detection\"",
        &at_once,
        Ok("hang_up_detection=at_once"),
    );
    check(
        "",
        "\"hang_up_detection\", \"far_causes\"",
        &tone,
        Ok("hang_up_detection=delayed,far_causes=off"),
    );
    check(
        "",
        "\"hang_up_delay_ms\", \"uui_received_size\"",
        &tone,
        Ok("hang_up_delay_ms=4000,uui_received_size=0"),
    );
}

#[test]
fn l2_unknown_far_end_capabilities_are_refused_naming_the_known_ones() {
    for (text, words) in [
        ("\"far_cause\"", "unknown capability `far_cause`"),
        (
            "\"uui_receive_size >= 4\"",
            "unknown capability `uui_receive_size` in `uui_receive_size >= 4`; expected a flag `reject_by_drop`, `close_drop` or `far_causes`",
        ),
        (
            "\"hang_up_delay_ms > soon\"",
            "`soon` in `hang_up_delay_ms > soon` is not a number of milliseconds",
        ),
    ] {
        let source = format!(
            "title = \"t\"\nrules = [\"L2\"]\nrequires = [{text}]\nsteps = [{{ do = \"leaks\" }}]\n"
        );
        let error = parse("bad.toml", &source).expect_err(text);
        assert_eq!(error.line, 3, "{error}");
        assert!(error.message.contains(words), "{error}");
    }
    let source = "title = \"t\"\nrules = [\"L2\"]\nprofile = [\"hang_up_mode\"]\nsteps = [{ do = \"leaks\" }]\n";
    let error = parse("bad.toml", source).expect_err("unknown profile key");
    assert!(
        error.message.contains("hang_up_detection"),
        "names the keys: {error}"
    );
}
