//! Related calls: conferences (SPEC §5), consultation calls (D8), closing a
//! line (B5).

use cleardown_host::{CallStatus, LineError, Privilege, Relation, RemoteState, SignalKind};

use crate::support::{EXT_100, EXT_200, World, cascade_transcript, check, render};

#[test]
fn c1_conf_drop_cascades_with_a_state_event_per_call() {
    let w = World::new("");
    let (parent, kids) = w.conference(EXT_100, &["a", "b", "c"]);
    assert!(w.host.describe(w.pbx).expect("d").capabilities.addresses[0].conf_drop);
    w.app.drop(parent, b"\x04conf over").expect("drop parent");
    assert_eq!(render(&w.app.events()), cascade_transcript(parent, &kids));
    for name in ["a", "b", "c"] {
        let party = w.party(name);
        assert_eq!(party.state, RemoteState::Released, "{name}");
        assert_eq!(
            (party.received[0].kind, party.received[0].cause),
            (SignalKind::Release, 16)
        );
    }
}

#[test]
fn c1_d4_every_app_gets_every_affected_calls_event() {
    let w = World::new("");
    let monitor = w.second_app("monitor", Privilege::Monitor);
    let (parent, _) = w.conference(EXT_100, &["a", "b"]);
    monitor.events();
    w.app.drop(parent, &[]).expect("drop parent");
    let seen = render(&monitor.events());
    assert_eq!(
        seen.len(),
        3,
        "D4: the monitor sees both parties and the parent go Idle: {seen:?}"
    );
    assert!(
        seen.iter().all(|line| line.ends_with("Idle Monitor")),
        "{seen:?}"
    );
}

#[test]
fn c2_without_conf_drop_parties_stay_connected_to_each_other() {
    let w = World::new("");
    let (parent, kids) = w.conference(EXT_200, &["a", "b", "c"]);
    assert!(!w.host.describe(w.pbx).expect("d").capabilities.addresses[1].conf_drop);
    w.app.drop(parent, &[]).expect("drop parent");
    assert_eq!(render(&w.app.events()), cascade_transcript(parent, &kids));
    for (name, others) in [("a", ["b", "c"]), ("b", ["a", "c"]), ("c", ["a", "b"])] {
        let party = w.party(name);
        assert_eq!(
            party.state,
            RemoteState::Connected,
            "C2: {name} keeps talking"
        );
        assert!(party.received.is_empty(), "C2: {name} was not released");
        assert_eq!(
            party.connected_to, others,
            "C2: {name} is connected to the others only"
        );
    }
}

#[test]
fn c2_config_turns_conf_drop_off_on_ext_100_too() {
    let w = World::new("conf_drop=off");
    let (parent, _) = w.conference(EXT_100, &["a", "b"]);
    w.app.drop(parent, &[]).expect("drop parent");
    assert_eq!(w.party("a").connected_to, ["b"]);
}

#[test]
fn c3_dropping_one_party_leaves_the_others_conferenced() {
    let w = World::new("");
    let (parent, kids) = w.conference(EXT_100, &["a", "b", "c"]);
    w.app.drop(kids[1], &[]).expect("drop b");
    check(&w.app, &[("b", kids[1])], &["{b} Idle Owner", "reply Ok"]);
    for kid in [kids[0], kids[2]] {
        assert_eq!(
            w.app.call_info(kid).expect("info").status,
            CallStatus::Conferenced {
                parent: Some(parent)
            }
        );
    }
    assert_eq!(w.party("b").state, RemoteState::Released);
    assert_eq!(w.party("a").state, RemoteState::Connected);
}

#[test]
fn c4_conference_of_one_collapses_to_a_plain_call() {
    let w = World::new("");
    let (parent, kids) = w.conference(EXT_100, &["a", "b"]);
    w.app.drop(kids[0], &[]).expect("drop a");
    check(
        &w.app,
        &[("p", parent), ("a", kids[0]), ("b", kids[1])],
        &[
            "{a} Idle Owner",
            "{b} Connected/Active Owner",
            "{p} Idle Owner",
            "reply Ok",
        ],
    );
    let info = w.app.call_info(kids[1]).expect("info");
    assert!(
        info.related.iter().all(|r| r.relation != Relation::Parent),
        "C4: no parent any more"
    );
}

#[test]
fn c5_nested_cascade_visits_every_call_once() {
    let w = World::new("");
    let (inner, inner_kids) = w.conference(EXT_100, &["b", "c"]);
    let (outer, outer_kids) = w.conference(EXT_100, &["a", "d"]);
    // Join the inner conference to the outer one as a party: depth 2.
    w.app.add_to_conference(outer, inner).expect("nest");
    check(
        &w.app,
        &[("i", inner), ("o", outer)],
        &["{i} Conferenced({o}) Owner", "reply Ok"],
    );
    w.app.drop(outer, &[]).expect("drop outer");
    let lines = render(&w.app.events());
    let expected_idle = [
        outer_kids[0],
        outer_kids[1],
        inner_kids[0],
        inner_kids[1],
        inner,
        outer,
    ];
    for handle in expected_idle {
        let idle = format!("{handle} Idle Owner");
        assert_eq!(
            lines.iter().filter(|l| **l == idle).count(),
            1,
            "C5: {handle} once in {lines:?}"
        );
    }
    assert_eq!(
        lines.len(),
        expected_idle.len() + 1,
        "C5: nothing visited twice: {lines:?}"
    );
    assert_eq!(lines.last().map(String::as_str), Some("reply Ok"));
    let inner_idle = lines
        .iter()
        .position(|l| *l == format!("{inner} Idle Owner"));
    let inner_kid_idle = lines
        .iter()
        .position(|l| *l == format!("{} Idle Owner", inner_kids[0]));
    assert!(
        inner_kid_idle < inner_idle,
        "C5: a nested parent's children go before it: {lines:?}"
    );
}

#[test]
fn d8_dropping_a_conference_consultation_returns_the_primary() {
    let w = World::new("");
    let primary = w.connected(EXT_100, "a");
    let (_, consult) = w.app.setup_conference(primary, "b").expect("setup");
    check(
        &w.app,
        &[("p", primary), ("k", consult)],
        &[
            "{p} OnHoldPendConf Owner",
            "{k} Dialing Owner",
            "{k} Proceeding Owner",
            "reply Ok",
        ],
    );
    w.app.drop(consult, &[]).expect("drop consult");
    check(
        &w.app,
        &[("p", primary), ("k", consult)],
        &["{k} Idle Owner", "{p} Connected/Active Owner", "reply Ok"],
    );
}

#[test]
fn d8_dropping_a_transfer_consultation_returns_the_primary() {
    let w = World::new("");
    let (primary, consult) = w.transfer_pending(EXT_100, "a", "b");
    assert_eq!(
        w.app.call_info(primary).expect("info").status,
        CallStatus::OnHoldPendTransfer
    );
    w.app.drop(consult, &[]).expect("drop consult");
    check(
        &w.app,
        &[("p", primary), ("k", consult)],
        &["{k} Idle Owner", "{p} Connected/Active Owner", "reply Ok"],
    );
}

#[test]
fn transfer_completes_and_leaves_the_far_ends_together() {
    let w = World::new("");
    let (primary, consult) = w.transfer_pending(EXT_100, "a", "b");
    w.app.complete_transfer(primary, consult).expect("complete");
    check(
        &w.app,
        &[("p", primary), ("k", consult)],
        &["{k} Idle Owner", "{p} Idle Owner", "reply Ok"],
    );
    assert_eq!(w.party("a").connected_to, ["b"]);
}

#[test]
fn b5_close_drop_drops_solely_owned_calls() {
    let w = World::new("");
    let monitor = w.second_app("monitor", Privilege::Monitor);
    let call = w.connected(EXT_100, "a");
    let watched = w.seen_by(&monitor, call);
    let closed = w.app.close_line(w.pbx, EXT_100).expect("close");
    assert_eq!(closed.dropped, [call]);
    assert!(closed.still_active.is_empty());
    check(&monitor, &[("w", watched)], &["{w} Idle Monitor"]);
    assert_eq!(w.party("a").received[0].kind, SignalKind::Release);
    // Ownership is revoked: the handle answers queries but cannot drop.
    assert_eq!(w.app.privilege(call), Ok(Privilege::Monitor));
    assert_eq!(
        w.app.close_line(w.pbx, EXT_100),
        Err(LineError::Uninitialized)
    );
}

#[test]
fn b5_without_close_drop_calls_stay_up_and_are_reported() {
    let w = World::new("close_drop=off");
    let call = w.connected(EXT_100, "a");
    let closed = w.app.close_line(w.pbx, EXT_100).expect("close");
    assert!(closed.dropped.is_empty());
    assert_eq!(closed.still_active, [call]);
    check(&w.app, &[], &[]);
    assert_eq!(
        w.app.call_info(call).expect("info").status,
        CallStatus::connected()
    );
    assert_eq!(w.party("a").state, RemoteState::Connected);
    assert_eq!(
        w.app.drop(call, &[]),
        Err(LineError::NotOwner),
        "B5: ownership revoked"
    );
}

#[test]
fn b5_close_does_not_drop_calls_another_owner_holds() {
    let w = World::new("");
    let other = w.second_app("other", Privilege::Owner);
    let call = w.offered(EXT_100, "a");
    let theirs = w.seen_by(&other, call);
    w.app.answer(call).expect("answer");
    let closed = w.app.close_line(w.pbx, EXT_100).expect("close");
    assert_eq!(closed, Default::default());
    assert_eq!(
        other.call_info(theirs).expect("info").status,
        CallStatus::connected()
    );
}

#[test]
fn c1_d4_large_cascade_one_event_per_call_reply_last() {
    const PARTIES: usize = 1_000;
    let w = World::new("");
    let names: Vec<String> = (0..PARTIES).map(|i| format!("p{i}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    let (parent, kids) = w.conference(EXT_100, &names);
    let request = w.app.drop(parent, &[]).expect("drop parent");
    let events = w.app.events();
    assert_eq!(
        events.len(),
        PARTIES + 2,
        "C1: one state event per call, then the reply"
    );
    assert_eq!(render(&events), cascade_transcript(parent, &kids));
    assert_eq!(crate::support::replies(&events), [request]);
    for handle in kids.iter().chain([&parent]) {
        w.app.deallocate(*handle).expect("deallocate");
    }
    assert!(w.host.leaks().is_empty(), "T5");
}
