//! Bridged and shared lines (SPEC §6) through the dynamically loaded
//! analog-bridge: what the conformance fixtures cannot reach, because it
//! depends on a configuration no capability describes (disconnect
//! supervision), or on the host's own bookkeeping.

use cleardown_host::{AddressId, Host, Privilege, ProviderId, RemoteState};

use crate::support::{check, plugin};

const STATION_1: AddressId = AddressId(0);

fn analog(config: &str) -> (Host, ProviderId, cleardown_host::App) {
    let host = Host::new();
    let card = host
        .load(&plugin("analog-bridge"), config)
        .expect("analog-bridge loads");
    let app = host.app("app");
    app.open_line(card, STATION_1, Privilege::Owner)
        .expect("open station-1");
    (host, card, app)
}

/// An answered inbound call at station 1, events drained.
fn answered(
    host: &Host,
    card: ProviderId,
    app: &cleardown_host::App,
    from: &str,
) -> cleardown_host::CallHandle {
    let call = host
        .remote_offer(card, STATION_1, from, &[])
        .expect("offer");
    let handle = app.handle_of(card, call).expect("app got a handle");
    host.station_hook(card, STATION_1, true).expect("pick up");
    app.events();
    handle
}

#[test]
fn s3_without_supervision_the_hang_up_is_heard_only_after_the_tone_delay() {
    let (host, card, app) = analog("supervision=off;tone_ms=4000");
    let call = answered(&host, card, &app, "alice");
    host.remote_hang_up(card, host.call_of(call).expect("live").1, 16, &[])
        .expect("alice hangs up");
    check(&app, &[], &[]);
    host.advance_time(card, 3_999).expect("time passes");
    check(&app, &[], &[]);
    host.advance_time(card, 1).expect("time passes");
    // Tone detection cannot tell why the far end left: Unknown, not Normal.
    check(&app, &[("a", call)], &["{a} Disconnected/Unknown Owner"]);
    app.drop(call, &[]).expect("drop");
    check(&app, &[("a", call)], &["{a} Idle Owner", "reply Ok"]);
    let alice = &host.far_end(card).expect("far end")[0];
    assert_eq!(alice.state, RemoteState::Released);
    assert!(alice.received.is_empty(), "D6: nothing sent after it left");
    app.deallocate(call).expect("deallocate");
}

#[test]
fn s3_with_supervision_the_hang_up_is_heard_at_once() {
    let (host, card, app) = analog("supervision=on");
    let call = answered(&host, card, &app, "alice");
    host.remote_hang_up(card, host.call_of(call).expect("live").1, 16, &[])
        .expect("alice hangs up");
    check(&app, &[("a", call)], &["{a} Disconnected/Normal Owner"]);
    app.drop(call, &[]).expect("drop");
    app.deallocate(call).expect("deallocate");
}

/// On a shared line every station has an appearance of every call, also
/// the stations no app has open. When such a call clears, the host closes
/// the appearances nobody holds, so neither it nor the provider keeps
/// them: a thousand calls leave nothing behind.
#[test]
fn b2_appearances_nobody_holds_are_closed_when_they_go_idle() {
    let (host, card, app) = analog("sharing=shared;stations=3");
    for n in 0..1_000 {
        let call = answered(&host, card, &app, &format!("caller-{n}"));
        assert_eq!(host.tracked_calls(card), 3, "three appearances while up");
        app.drop(call, &[]).expect("drop");
        app.events();
        assert_eq!(host.tracked_calls(card), 1, "only the app's Idle handle");
        app.deallocate(call).expect("deallocate");
    }
    assert_eq!(host.tracked_calls(card), 0);
    assert!(host.leaks().is_empty());
}
