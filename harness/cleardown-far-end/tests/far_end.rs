//! The far-end drivers, through the dynamically loaded plugins: the
//! provider far end drives a provider's simulated far parties through the
//! contract's stimuli; the SIP far end plays them over loopback UDP against
//! the sip provider's real transport, which simulates nothing. Both report
//! the far end in the neutral form (SPEC §10).

use std::time::Duration;

use cleardown_far_end::{Driver, FarEnd, ProviderFarEnd, SipFarEnd, SipWire, check_unfilled};
use cleardown_host::{
    AddressId, App, CallState, Event, Host, LineError, Privilege, ProviderId, RemoteState,
    SignalKind, locate,
};

const SETTLE: Duration = Duration::from_secs(2);
const UDP_CONFIG: &str = "transport=udp;bind={local};peer={far_end}";

#[test]
fn s3_the_provider_far_end_offers_hangs_up_and_reports_its_parties() {
    let host = Host::new();
    let pbx = host
        .load(&locate::find("pbx-sim").expect("pbx-sim builds"), "")
        .expect("loads");
    let app = host.app("app");
    app.open_line(pbx, AddressId(0), Privilege::Owner)
        .expect("open");
    let mut far = ProviderFarEnd::new(&host, pbx);
    let call = far
        .offer(AddressId(0), "alice", &[0x04, 0x68])
        .expect("offered");
    // An offered call cannot be answered by its caller, nor alerted.
    assert_eq!(far.answer(call), Err(LineError::InvalCallState));
    far.hang_up(call, 16, &[]).expect("alice gives up");
    assert_eq!(far.hang_up(call, 16, &[]), Err(LineError::InvalCallState));
    let parties = far.parties().expect("the far end answers");
    assert_eq!(parties.len(), 1, "{parties:?}");
    assert_eq!(parties[0].name, "alice");
    assert_eq!(parties[0].state, RemoteState::Released);
    // She gave up herself: nothing was sent to her.
    assert!(
        parties[0]
            .received
            .iter()
            .all(|s| s.kind != SignalKind::Release),
        "{parties:?}"
    );
}

/// The sip provider on UDP, with the SIP far end on the other side of the
/// wire, and one app owning its line.
fn over_udp(host: &Host) -> (ProviderId, SipFarEnd<'_>, App) {
    let wire = SipWire::bind().expect("loopback UDP");
    let config = wire.fill(UDP_CONFIG).expect("names the far end");
    let sip = host
        .load(&locate::find("sip").expect("sip builds"), &config)
        .expect("loads on UDP");
    let far = SipFarEnd::new(wire, host, sip, SETTLE).expect("far end starts");
    let app = host.app("app");
    app.open_line(sip, AddressId(0), Privilege::Owner)
        .expect("open");
    (sip, far, app)
}

/// The states the app was told, in order, after the far end settled.
fn states(far: &mut SipFarEnd<'_>, app: &App) -> Vec<CallState> {
    far.settle();
    app.events()
        .into_iter()
        .filter_map(|event| match event {
            Event::CallState { status, .. } => Some(status.state()),
            Event::Reply { .. } => None,
        })
        .collect()
}

/// SPEC R1, §10, U5: a call offered over the wire with UUI is the
/// provider's call; rejecting it by a drop reaches the far party as a 603
/// with Q.850 cause 21, read from the wire, with the wire text naming both
/// ends by role (the ports change from run to run).
#[test]
fn r1_the_sip_far_end_offers_over_udp_and_reads_the_rejection_off_the_wire() {
    let host = Host::new();
    let (sip, mut far, app) = over_udp(&host);
    // The sip provider simulates nothing over UDP: only the wire serves.
    assert_eq!(
        host.remote_offer(sip, AddressId(0), "alice", &[]),
        Err(LineError::OperationUnavail)
    );
    assert_eq!(host.far_end(sip), Err(LineError::OperationUnavail));

    let call = far
        .offer(AddressId(0), "alice", &[0x04, 0x68])
        .expect("offered over the wire");
    assert_eq!(states(&mut far, &app), [CallState::Offering]);
    let handle = app.handle_of(sip, call).expect("the app holds the call");
    assert_eq!(
        app.call_info(handle).expect("info").uui_received,
        [0x04, 0x68]
    );
    // The caller cannot answer or alert its own call.
    assert_eq!(far.answer(call), Err(LineError::InvalCallState));
    assert_eq!(far.alert(call), Err(LineError::InvalCallState));

    app.drop(handle, &[0x04, 0x6e]).expect("reject by drop");
    assert_eq!(states(&mut far, &app), [CallState::Idle]);
    let parties = far.parties().expect("the SIP far end always answers");
    assert_eq!(parties.len(), 1, "{parties:?}");
    let alice = &parties[0];
    assert_eq!(
        (alice.name.as_str(), alice.state),
        ("alice", RemoteState::Released)
    );
    let signal = &alice.received[0];
    assert_eq!(
        (signal.kind, signal.cause, signal.uui.as_slice()),
        (SignalKind::Reject, 21, &[0x04, 0x6e][..])
    );
    assert!(
        signal.wire.starts_with("SIP/2.0 603 Decline\n"),
        "{}",
        signal.wire
    );
    assert!(
        signal.wire.contains("far.invalid") && !signal.wire.contains("127.0.0.1"),
        "{}",
        signal.wire
    );
    // It is over: a hang-up now is refused as a simulated far end would.
    assert_eq!(far.hang_up(call, 16, &[]), Err(LineError::InvalCallState));
    assert!(far.notes().is_empty(), "{:?}", far.notes());
}

/// SPEC S3, §10, U5: a call the app places is bound to the INVITE that
/// arrives for it; the far party rings, answers and hangs up over the wire
/// with a Q.850 cause and UUI, and the call goes Disconnected with what it
/// carried.
#[test]
fn s3_the_sip_far_end_answers_a_placed_call_and_hangs_up_over_udp() {
    let host = Host::new();
    let (sip, mut far, app) = over_udp(&host);
    let (_, handle) = app.make_call(sip, AddressId(0), "bob").expect("dialled");
    let (_, call) = host.call_of(handle).expect("a call");
    // Before the app says which call it placed, no dialog is bound to it.
    assert_eq!(far.alert(call), Err(LineError::InvalCallState));
    far.placed(call, "bob");
    far.alert(call).expect("bob rings");
    assert_eq!(far.alert(call), Err(LineError::InvalCallState));
    far.answer(call).expect("bob answers");
    assert_eq!(
        states(&mut far, &app).last(),
        Some(&CallState::Connected),
        "answered"
    );
    assert_eq!(
        far.parties().expect("view")[0].state,
        RemoteState::Connected
    );
    assert_eq!(far.parties().expect("view")[0].connected_to, ["line-1"]);
    far.hang_up(call, 17, &[0x04, 0x62])
        .expect("bob hangs up, busy");
    assert_eq!(states(&mut far, &app), [CallState::Disconnected]);
    let info = app.call_info(handle).expect("info");
    assert_eq!(info.uui_received, [0x04, 0x62]);
    assert_eq!(
        info.disconnect_mode,
        Some(cleardown_host::DisconnectMode::from_q850(17))
    );
    // A call the provider never had is no call at all.
    assert_eq!(
        far.hang_up(cleardown_host::CallId(999), 16, &[]),
        Err(LineError::InvalPointer)
    );
}

/// How a configuration names the wire: both placeholders filled, a
/// configuration without `{far_end}` refused with how to write it, and a
/// placeholder with no wire driver to fill it refused too.
#[test]
fn l3_the_provider_configuration_names_the_wire_by_placeholders() {
    let wire = SipWire::bind().expect("loopback UDP");
    let filled = wire.fill(UDP_CONFIG).expect("fills");
    assert_eq!(
        filled,
        format!(
            "transport=udp;bind={};peer={}",
            wire.provider_addr(),
            wire.local_addr()
        )
    );
    assert!(wire.provider_addr().ip().is_loopback());
    assert_ne!(wire.provider_addr(), wire.local_addr());
    let refused = wire
        .fill("transport=udp;bind=127.0.0.1:5070;peer=127.0.0.1:5080")
        .expect_err("no far end named");
    assert!(refused.contains("{far_end}"), "{refused}");
    assert_eq!(check_unfilled("transport=memory"), Ok(()));
    let unfilled = check_unfilled(UDP_CONFIG).expect_err("nobody fills it");
    assert!(unfilled.contains("--far-end sip"), "{unfilled}");
    assert_eq!("sip".parse::<Driver>(), Ok(Driver::Sip));
    assert!("isdn".parse::<Driver>().is_err());
}
