//! Query after drop and terminate (SPEC §7).

use cleardown_host::{CallStatus, LineError, Privilege, Relation, RemoteState, SignalKind};

use crate::support::{EXT_100, World, check, replies};

#[test]
fn q1_call_info_answers_after_drop_and_after_idle() {
    let w = World::new("");
    let (parent, kids) = w.conference(EXT_100, &["a", "b"]);
    let info = w.app.call_info(parent).expect("info");
    assert_eq!(info.status, CallStatus::connected());
    let children: Vec<_> = info
        .related
        .iter()
        .filter(|r| r.relation == Relation::Child)
        .map(|r| r.call)
        .collect();
    assert_eq!(
        children,
        [Some(kids[0]), Some(kids[1])],
        "Q1: related calls as the app's handles"
    );
    w.app.drop(kids[0], b"\x04x").expect("drop");
    let info = w.app.call_info(kids[0]).expect("info after drop");
    assert_eq!(info.status, CallStatus::Idle);
    assert_eq!(info.uui_sent, b"\x04x");
    assert_eq!(info.remote, "a");
    assert_eq!(w.app.privilege(kids[0]), Ok(Privilege::Owner));
}

#[test]
fn t1_deallocate_never_changes_the_call_state() {
    let w = World::new("");
    let monitor = w.second_app("monitor", Privilege::Monitor);
    let call = w.connected(EXT_100, "a");
    let watched = w.seen_by(&monitor, call);
    monitor
        .deallocate(watched)
        .expect("T3: a monitor may always deallocate");
    check(&w.app, &[], &[]);
    assert_eq!(
        w.app.call_info(call).expect("info").status,
        CallStatus::connected()
    );
    assert_eq!(w.party("a").state, RemoteState::Connected);
}

#[test]
fn t2_every_operation_on_a_deallocated_handle_fails() {
    let w = World::new("");
    let call = w.connected(EXT_100, "a");
    w.app.drop(call, &[]).expect("drop");
    w.app.deallocate(call).expect("deallocate");
    assert_eq!(w.app.drop(call, &[]), Err(LineError::InvalCallHandle));
    assert_eq!(
        w.app.call_info(call).map(|_| ()),
        Err(LineError::InvalCallHandle)
    );
    assert_eq!(w.app.answer(call), Err(LineError::InvalCallHandle));
    assert_eq!(
        w.app.deallocate(call),
        Err(LineError::InvalCallHandle),
        "T2: second deallocate"
    );
    let stranger = w.host.app("stranger");
    let other = w.connected(EXT_100, "b");
    assert_eq!(
        stranger.drop(other, &[]),
        Err(LineError::InvalCallHandle),
        "another app's handle is not valid"
    );
}

#[test]
fn t3_last_handle_to_a_live_call_makes_the_provider_drop_it() {
    let w = World::new("");
    let call = w.connected(EXT_100, "a");
    w.app
        .deallocate(call)
        .expect("T3: sole owner may deallocate a live call");
    let a = w.party("a");
    assert_eq!(a.state, RemoteState::Released);
    assert_eq!(a.received[0].kind, SignalKind::Release);
}

#[test]
fn t3_a_remaining_monitor_keeps_the_call_up() {
    let w = World::new("");
    let monitor = w.second_app("monitor", Privilege::Monitor);
    let call = w.connected(EXT_100, "a");
    let watched = w.seen_by(&monitor, call);
    w.app.deallocate(call).expect("deallocate owner");
    assert_eq!(
        w.party("a").state,
        RemoteState::Connected,
        "not the last handle"
    );
    monitor.deallocate(watched).expect("last handle");
    assert_eq!(
        w.party("a").state,
        RemoteState::Released,
        "T3: the last handle went"
    );
}

#[test]
fn t4_d10_reply_arrives_after_deallocate_but_no_state_events() {
    let w = World::new("");
    let call = w.connected(EXT_100, "a");
    let request = w.app.drop(call, &[]).expect("drop");
    w.app
        .deallocate(call)
        .expect("deallocate before reading events");
    let events = w.app.events();
    assert_eq!(replies(&events), [request], "T4: the reply still comes");
    assert_eq!(
        events.len(),
        1,
        "D10: no state event for a deallocated handle: {events:?}"
    );
}

#[test]
fn t5_leak_report_names_idle_handles_until_deallocated() {
    let w = World::new("");
    let call = w.connected(EXT_100, "a");
    assert!(w.host.leaks().is_empty(), "a live call is not a leak");
    w.app.drop(call, &[]).expect("drop");
    let leaks = w.host.leaks();
    assert_eq!(leaks.len(), 1);
    assert_eq!(
        (leaks[0].app.as_str(), leaks[0].handles.as_slice()),
        ("app", [call].as_slice())
    );
    assert_eq!(w.app.leaks(), [call]);
    w.app.deallocate(call).expect("deallocate");
    assert!(w.host.leaks().is_empty(), "T5: a clean run reports none");
}

#[test]
fn t5_leaks_are_reported_per_app_even_when_names_repeat() {
    let w = World::new("");
    let twin = w.second_app("app", Privilege::Owner);
    let call = w.connected(EXT_100, "a");
    let theirs = w.seen_by(&twin, call);
    w.app.drop(call, &[]).expect("drop");
    let leaks = w.host.leaks();
    let per_app: Vec<_> = leaks
        .iter()
        .map(|l| (l.app.as_str(), l.handles.clone()))
        .collect();
    assert_eq!(per_app, [("app", vec![call]), ("app", vec![theirs])]);
    assert_eq!(twin.leaks(), [theirs]);
}
