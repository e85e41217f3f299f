//! Drop (SPEC §2), reject by drop (§3), UUI on drop (§4), states (§1), errors (§8).

use cleardown_host::{
    CallStatus, DisconnectCode, DisconnectMode, Disconnected, LineError, Privilege, RemoteState,
    SignalKind,
};

use crate::support::{EXT_100, World, check, replies};

#[test]
fn d3_d4_d5_drop_returns_request_then_states_then_one_reply() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    let request = w.app.drop(call, &[]).expect("drop accepted");
    assert!(request.0 > 0, "D3: request id > 0");
    let events = w.app.events();
    assert_eq!(
        replies(&events),
        vec![request],
        "D3: exactly one reply for the request"
    );
    assert!(
        matches!(events.last(), Some(cleardown_host::Event::Reply { .. })),
        "D4: reply after the state events"
    );
    assert_eq!(
        crate::support::render(&events),
        ["h1 Idle Owner", "reply Ok"]
    );
    // D5: Idle at this station; the far end saw a normal release.
    assert_eq!(w.app.call_info(call).expect("Q1").status, CallStatus::Idle);
    let alice = w.party("alice");
    assert_eq!(alice.state, RemoteState::Released);
    assert_eq!(alice.received.len(), 1);
    assert_eq!(
        (alice.received[0].kind, alice.received[0].cause),
        (SignalKind::Release, 16)
    );
}

#[test]
fn d1_monitor_cannot_drop_and_nothing_changes() {
    let w = World::new("");
    let monitor = w.second_app("monitor", Privilege::Monitor);
    let call = w.connected(EXT_100, "alice");
    let watched = w.seen_by(&monitor, call);
    assert_eq!(monitor.privilege(watched), Ok(Privilege::Monitor));
    assert_eq!(monitor.drop(watched, &[]), Err(LineError::NotOwner));
    assert_eq!(
        monitor.disconnect(watched, DisconnectCode::Normal, &[]),
        Err(LineError::NotOwner)
    );
    check(&monitor, &[], &[]);
    check(&w.app, &[], &[]);
    assert_eq!(w.party("alice").state, RemoteState::Connected);
}

#[test]
fn d2_second_drop_fails_and_emits_nothing() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    w.app.drop(call, &[]).expect("first drop");
    check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
    assert_eq!(w.app.drop(call, &[]), Err(LineError::InvalCallState));
    check(&w.app, &[], &[]);
    assert_eq!(
        w.party("alice").received.len(),
        1,
        "D2: the far end is not signalled twice"
    );
}

#[test]
fn s3_d6_remote_hang_up_is_disconnected_then_drop_goes_idle_silently() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    w.host
        .remote_hang_up(w.pbx, w.call(call), 17, &[])
        .expect("hang up");
    check(&w.app, &[("c", call)], &["{c} Disconnected/Busy Owner"]);
    assert_eq!(
        w.app.call_info(call).expect("info").disconnect_mode,
        Some(DisconnectMode::Busy)
    );
    w.app.drop(call, &[]).expect("drop");
    check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
    assert!(
        w.party("alice").received.is_empty(),
        "D6: no signal to a far end that left"
    );
}

#[test]
fn d7_dropping_unanswered_outbound_cancels() {
    for alerted in [false, true] {
        let w = World::new("");
        let (_, call) = w.app.make_call(w.pbx, EXT_100, "bob").expect("make call");
        if alerted {
            w.host.remote_alert(w.pbx, w.call(call)).expect("alert");
        }
        let last = if alerted {
            "{c} Ringback Owner"
        } else {
            "{c} Proceeding Owner"
        };
        let mut expected = vec!["{c} Dialing Owner", "{c} Proceeding Owner", "reply Ok"];
        if alerted {
            expected.push(last);
        }
        check(&w.app, &[("c", call)], &expected);
        w.app.drop(call, b"\x04bye").expect("drop");
        check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
        let bob = w.party("bob");
        assert_eq!(
            bob.received[0].kind,
            SignalKind::Cancel,
            "D7: a cancel, not a hang-up"
        );
        assert_eq!(bob.received[0].uui, b"\x04bye");
    }
}

#[test]
fn r1_drop_of_offered_call_rejects_it() {
    for accept_first in [false, true] {
        let w = World::new("");
        let call = w.offered(EXT_100, "carol");
        if accept_first {
            w.app.accept(call).expect("accept");
        }
        w.app.events();
        w.app.drop(call, &[]).expect("reject by drop");
        check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
        let carol = w.party("carol");
        assert_eq!(
            (carol.received[0].kind, carol.received[0].cause),
            (SignalKind::Reject, 21)
        );
        assert_eq!(carol.state, RemoteState::Released);
    }
}

#[test]
fn r2_without_reject_by_drop_offered_call_stays_offering() {
    let w = World::new("reject_by_drop=off");
    assert!(
        !w.host
            .describe(w.pbx)
            .expect("describe")
            .capabilities
            .reject_by_drop
    );
    let call = w.offered(EXT_100, "carol");
    check(&w.app, &[("c", call)], &["{c} Offering Owner"]);
    assert_eq!(w.app.drop(call, &[]), Err(LineError::OperationUnavail));
    assert_eq!(
        w.app.disconnect(call, DisconnectCode::Rejected, &[]),
        Err(LineError::OperationUnavail)
    );
    check(&w.app, &[], &[]);
    assert_eq!(
        w.app.call_info(call).expect("info").status,
        CallStatus::Offering
    );
    assert!(w.party("carol").received.is_empty());
}

#[test]
fn r3_tapi3_disconnect_codes() {
    let w = World::new("");
    // Rejected is only valid while offered.
    let up = w.connected(EXT_100, "alice");
    assert_eq!(
        w.app.disconnect(up, DisconnectCode::Rejected, &[]),
        Err(LineError::InvalCallState)
    );
    assert_eq!(
        w.app.disconnect(up, DisconnectCode::Busy, &[]),
        Err(LineError::InvalCallState)
    );
    check(&w.app, &[], &[]);
    // Normal on a connected call is a plain drop.
    assert!(matches!(
        w.app.disconnect(up, DisconnectCode::Normal, &[]),
        Ok(Disconnected::Requested(_))
    ));
    check(&w.app, &[("c", up)], &["{c} Idle Owner", "reply Ok"]);
    // Disconnect of an Idle call is not an error (S_FALSE).
    assert_eq!(
        w.app.disconnect(up, DisconnectCode::Normal, &[]),
        Ok(Disconnected::AlreadyIdle)
    );
    check(&w.app, &[], &[]);
    // In Offering: Rejected → 21, Busy → 17, NoAnswer → 19.
    for (code, from, cause) in [
        (DisconnectCode::Rejected, "r", 21),
        (DisconnectCode::Busy, "b", 17),
        (DisconnectCode::NoAnswer, "n", 19),
    ] {
        let call = w.offered(EXT_100, from);
        w.app.events();
        assert!(matches!(
            w.app.disconnect(call, code, &[]),
            Ok(Disconnected::Requested(_))
        ));
        check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
        let party = w.party(from);
        assert_eq!(
            (party.received[0].kind, party.received[0].cause),
            (SignalKind::Reject, cause),
            "{code}"
        );
    }
}

#[test]
fn u2_oversize_uui_fails_and_changes_nothing() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    assert_eq!(
        w.app.drop(call, &[0x04; 129]),
        Err(LineError::UserUserInfoTooBig)
    );
    check(&w.app, &[], &[]);
    assert_eq!(w.party("alice").state, RemoteState::Connected);
    let small = World::new("uui=4");
    assert_eq!(
        small
            .host
            .describe(small.pbx)
            .expect("d")
            .capabilities
            .uui_drop_size,
        4,
        "U1"
    );
    let call = small.connected(EXT_100, "alice");
    assert_eq!(
        small.app.drop(call, &[1, 2, 3, 4, 5]),
        Err(LineError::UserUserInfoTooBig)
    );
    check(&small.app, &[], &[]);
    small
        .app
        .drop(call, &[1, 2, 3, 4])
        .expect("exactly the limit is fine");
}

#[test]
fn u3_uui_reaches_the_far_end_byte_for_byte() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    let uui: Vec<u8> = (0..128u32).map(|i| (i * 7 + 4) as u8).collect();
    w.app.drop(call, &uui).expect("drop with 128 bytes of UUI");
    let alice = w.party("alice");
    assert_eq!(
        alice.received[0].uui, uui,
        "U3: byte for byte, discriminator first"
    );
    assert_eq!(w.app.call_info(call).expect("info").uui_sent, uui);
}

#[test]
fn u4_zero_uui_size_accepts_only_empty() {
    let w = World::new("uui=0");
    let call = w.connected(EXT_100, "alice");
    assert_eq!(w.app.drop(call, &[4]), Err(LineError::UserUserInfoTooBig));
    check(&w.app, &[], &[]);
    w.app.drop(call, &[]).expect("empty UUI is accepted");
    check(&w.app, &[("c", call)], &["{c} Idle Owner", "reply Ok"]);
}

#[test]
fn u5_received_uui_readable_after_disconnect_and_after_idle() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    w.host
        .remote_hang_up(w.pbx, w.call(call), 16, b"\x04see you")
        .expect("hang up with UUI");
    assert_eq!(
        w.app.call_info(call).expect("info").uui_received,
        b"\x04see you"
    );
    w.app.drop(call, &[]).expect("drop");
    let info = w.app.call_info(call).expect("info after Idle");
    assert_eq!(info.status, CallStatus::Idle);
    assert_eq!(info.uui_received, b"\x04see you");
}

#[test]
fn s1_idle_is_final() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    w.app.drop(call, &[]).expect("drop");
    w.app.events();
    assert_eq!(w.app.answer(call), Err(LineError::InvalCallState));
    assert_eq!(w.app.hold(call), Err(LineError::InvalCallState));
    assert_eq!(
        w.host.remote_hang_up(w.pbx, w.call(call), 16, &[]),
        Err(LineError::InvalCallState)
    );
    check(&w.app, &[], &[]);
    assert_eq!(
        w.app.call_info(call).expect("info").status,
        CallStatus::Idle
    );
}

#[test]
fn s2_x1_a_refused_request_changes_nothing() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    assert_eq!(w.app.answer(call), Err(LineError::InvalCallState));
    assert_eq!(w.app.unhold(call), Err(LineError::InvalCallState));
    check(&w.app, &[], &[]);
    assert_eq!(
        w.app.call_info(call).expect("info").status,
        CallStatus::connected()
    );
    assert_eq!(w.party("alice").state, RemoteState::Connected);
}

#[test]
fn d10_events_arrive_in_provider_order_across_calls() {
    let w = World::new("");
    let a = w.connected(EXT_100, "a");
    let b = w.connected(EXT_100, "b");
    w.app.hold(a).expect("hold a");
    w.host
        .remote_hang_up(w.pbx, w.call(b), 16, &[])
        .expect("b hangs up");
    w.app.unhold(a).expect("unhold a");
    check(
        &w.app,
        &[("a", a), ("b", b)],
        &[
            "{a} OnHold Owner",
            "reply Ok",
            "{b} Disconnected/Normal Owner",
            "{a} Connected/Active Owner",
            "reply Ok",
        ],
    );
}

#[test]
fn host_is_thread_safe_apps_on_many_threads() {
    let w = World::new("");
    let threads: Vec<_> = (0..4)
        .map(|n| {
            let app = w.second_app(&format!("worker-{n}"), Privilege::Owner);
            let pbx = w.pbx;
            let host = w.host.clone();
            std::thread::spawn(move || {
                let mut mine = Vec::new();
                for i in 0..50 {
                    let (_, call) = app
                        .make_call(pbx, EXT_100, &format!("t{n}-{i}"))
                        .expect("make call");
                    host.remote_answer(pbx, host.call_of(call).expect("live").1)
                        .expect("answer");
                    let request = app.drop(call, &[]).expect("drop");
                    let events = app.events();
                    assert!(
                        replies(&events).contains(&request),
                        "every request of this app gets its reply"
                    );
                    app.deallocate(call).expect("deallocate");
                    mine.push(call);
                }
                // Other workers' calls reach this app as Monitor handles it
                // never frees; its own calls must all be gone.
                app.leaks()
                    .into_iter()
                    .filter(|h| mine.contains(h))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    for thread in threads {
        assert_eq!(thread.join().expect("no panic"), Vec::new());
    }
}

#[test]
fn stimuli_pbx_sim_has_no_timers_and_no_bridged_stations() {
    let w = World::new("");
    let call = w.connected(EXT_100, "alice");
    // Deterministic: time passing changes nothing in a world without timers.
    w.host.advance_time(w.pbx, 60_000).expect("time passes");
    check(&w.app, &[], &[]);
    assert_eq!(
        w.app.call_info(call).expect("info").status,
        CallStatus::connected()
    );
    // Private extensions have no stations to take off-hook (SPEC §6 is for bridged lines).
    assert_eq!(
        w.host.station_hook(w.pbx, EXT_100, true),
        Err(LineError::OperationUnavail)
    );
    check(&w.app, &[], &[]);
}
