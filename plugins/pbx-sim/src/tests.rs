//! White-box tests of the simulation, one per SPEC rule or group of rules.
//! Events are rendered as short lines and compared as a whole, so order and
//! the absence of duplicates are checked along with content (SPEC D4).

use cleardown_sdk::testing::{Recording, Reported};
use cleardown_sdk::{
    AddressId, CallId, CallInfo, CallStatus, DisconnectCode, DisconnectMode, LineError, LineResult,
    Provider, Related, Relation, RemoteParty, RequestId, SignalKind, hex_bytes,
};

use crate::PbxSim;

const EXT_100: AddressId = AddressId(0);
const EXT_200: AddressId = AddressId(1);
const NORMAL: DisconnectCode = DisconnectCode::Normal;

fn r(n: u64) -> RequestId {
    RequestId(n)
}

fn c(n: u64) -> CallId {
    CallId(n)
}

/// `name state [connected_to] wire:uui; ...`
fn render_party(party: &RemoteParty) -> String {
    let received: Vec<String> = party
        .received
        .iter()
        .map(|signal| format!("{}:{}", signal.wire, hex_bytes::encode(&signal.uui)))
        .collect();
    format!(
        "{} {} [{}] {}",
        party.name,
        party.state,
        party.connected_to.join(","),
        received.join("; ")
    )
    .trim_end()
    .to_owned()
}

struct Sim {
    pbx: PbxSim,
    recording: Recording,
}

impl Sim {
    fn new(config: &str) -> Sim {
        let (pbx, recording) = Recording::open(config);
        Sim { pbx, recording }
    }

    /// The events since the last check must be exactly `expected`.
    #[track_caller]
    fn check(&self, expected: &[&str]) {
        self.recording.assert_reported(expected);
    }

    /// The far-end view must be exactly `expected`, one line per party.
    #[track_caller]
    fn check_far_end(&self, expected: &[&str]) {
        let parties: Vec<String> = self
            .pbx
            .far_end()
            .expect("far-end view")
            .iter()
            .map(render_party)
            .collect();
        assert_eq!(parties, expected);
    }

    /// `operation` must be refused with `error`, with nothing reported (SPEC S2).
    #[track_caller]
    fn refused<T: std::fmt::Debug>(
        &mut self,
        operation: impl FnOnce(&mut Sim) -> LineResult<T>,
        error: LineError,
    ) {
        assert_eq!(operation(self).err(), Some(error));
        self.check(&[]);
    }

    fn info(&self, call: u64) -> CallInfo<CallId> {
        match self.pbx.call_info(c(call)) {
            Ok(info) => info,
            Err(error) => panic!("call_info(call#{call}): {error}"),
        }
    }

    fn related(&self, call: u64) -> Vec<(Relation, u64)> {
        self.info(call)
            .related
            .iter()
            .map(|Related { relation, call }| (*relation, call.0))
            .collect()
    }

    /// A connected outbound call on `address`; its events are not checked here.
    fn connected_on(&mut self, address: AddressId, destination: &str) -> CallId {
        let call = self.pbx.make_call(r(900), address, destination);
        let call = call.and_then(|call| self.pbx.remote_answer(call).map(|()| call));
        self.recording.take();
        call.unwrap_or_else(|error| panic!("call to {destination}: {error}"))
    }

    fn connected(&mut self, destination: &str) -> CallId {
        self.connected_on(EXT_100, destination)
    }

    /// Joins `call` into the conference `into` (or makes one) by the direct form.
    fn join(&mut self, into: CallId, call: CallId) -> CallId {
        let parent = self.pbx.add_to_conference(r(901), into, call);
        self.recording.take();
        parent.unwrap_or_else(|error| panic!("joining {call} into {into}: {error}"))
    }

    fn drop_call(
        &mut self,
        request: u64,
        call: u64,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        self.pbx.drop_call(r(request), c(call), code, uui)
    }
}

/// SPEC L2/L3: the declaration follows the configuration.
#[test]
fn l2_info_follows_configuration() {
    let caps = |config| Sim::new(config).pbx.info().capabilities;
    let default = caps("");
    assert_eq!(Sim::new("").pbx.info().name, "pbx-sim");
    assert_eq!(
        (
            default.uui_drop_size,
            default.reject_by_drop,
            default.close_drop
        ),
        (128, true, true)
    );
    let addresses: Vec<_> = default
        .addresses
        .iter()
        .map(|a| (a.name.as_str(), a.conf_drop))
        .collect();
    assert_eq!(addresses, [("ext-100", true), ("ext-200", false)]);

    let off = caps("reject_by_drop=off;close_drop=off;uui=0;conf_drop=off");
    assert_eq!(
        (off.uui_drop_size, off.reject_by_drop, off.close_drop),
        (0, false, false)
    );
    assert!(off.addresses.iter().all(|address| !address.conf_drop));
    assert!(PbxSim::open("conf_drop=no", Recording::new().reporter()).is_err());
}

/// SPEC X1: unknown addresses and calls are `InvalPointer`, with no event.
#[test]
fn x1_unknown_addresses_and_calls() {
    let mut s = Sim::new("");
    assert_eq!(s.pbx.open_line(EXT_200), Ok(()));
    assert_eq!(s.pbx.close_line(EXT_100), Ok(()));
    s.refused(|s| s.pbx.open_line(AddressId(2)), LineError::InvalPointer);
    s.refused(
        |s| s.pbx.make_call(r(1), AddressId(u32::MAX), "bob"),
        LineError::InvalPointer,
    );
    s.refused(
        |s| s.pbx.make_call(r(1), EXT_100, ""),
        LineError::InvalPointer,
    );
    s.refused(
        |s| s.pbx.remote_offer(AddressId(9), "bob", &[]),
        LineError::InvalPointer,
    );
    s.refused(|s| s.drop_call(1, 42, NORMAL, &[]), LineError::InvalPointer);
    s.refused(|s| s.pbx.call_info(c(42)), LineError::InvalPointer);
    s.refused(|s| s.pbx.close_call(c(42)), LineError::InvalPointer);
    s.refused(
        |s| s.pbx.station_hook(EXT_100, true),
        LineError::OperationUnavail,
    );
}

/// An outbound call through its far-end stimuli; states out of order are refused.
#[test]
fn outbound_make_alert_answer() {
    let mut s = Sim::new("");
    assert_eq!(s.pbx.make_call(r(1), EXT_200, "bob"), Ok(c(1)));
    s.check(&[
        "new call#1 at 1 by request#1",
        "state call#1 Dialing",
        "state call#1 Proceeding",
        "complete request#1 Ok",
    ]);
    s.check_far_end(&["bob Ringing []"]);
    assert_eq!(s.pbx.remote_alert(c(1)), Ok(()));
    s.check(&["state call#1 Ringback"]);
    s.refused(|s| s.pbx.remote_alert(c(1)), LineError::InvalCallState);
    assert_eq!(s.pbx.remote_answer(c(1)), Ok(()));
    s.check(&["state call#1 Connected/Active"]);
    s.check_far_end(&["bob Connected [ext-200]"]);
    s.refused(|s| s.pbx.remote_answer(c(1)), LineError::InvalCallState);

    assert_eq!(s.pbx.hold(r(2), c(1)), Ok(()));
    s.check(&["state call#1 OnHold", "complete request#2 Ok"]);
    s.refused(|s| s.pbx.hold(r(3), c(1)), LineError::InvalCallState);
    assert_eq!(s.pbx.unhold(r(4), c(1)), Ok(()));
    s.check(&["state call#1 Connected/Active", "complete request#4 Ok"]);
    // Call ids are never reused.
    assert_eq!(s.pbx.make_call(r(5), EXT_100, "carol"), Ok(c(2)));
}

/// An inbound call: offer, accept, answer; answering twice is refused.
#[test]
fn inbound_offer_accept_answer() {
    let mut s = Sim::new("");
    assert_eq!(
        s.pbx.remote_offer(EXT_100, "alice", &[0x04, 0x01]),
        Ok(c(1))
    );
    s.check(&["new call#1 at 0", "state call#1 Offering"]);
    s.check_far_end(&["alice Calling []"]);
    assert_eq!(s.info(1).uui_received, [0x04, 0x01]);
    s.refused(|s| s.pbx.remote_alert(c(1)), LineError::InvalCallState);
    assert_eq!(s.pbx.accept(r(1), c(1)), Ok(()));
    s.check(&["state call#1 Accepted", "complete request#1 Ok"]);
    assert_eq!(s.pbx.answer(r(2), c(1)), Ok(()));
    s.check(&["state call#1 Connected/Active", "complete request#2 Ok"]);
    s.check_far_end(&["alice Connected [ext-100]"]);
    s.refused(|s| s.pbx.answer(r(3), c(1)), LineError::InvalCallState);
    s.refused(|s| s.pbx.accept(r(3), c(1)), LineError::InvalCallState);
}

/// SPEC R1, R3, U3: dropping an offered or accepted call rejects it with the
/// cause the code asks for and the UUI byte for byte.
#[test]
fn r1_r3_reject_by_drop_with_each_code() {
    let cases = [
        (NORMAL, false, 21, "release cause 21 call rejected"),
        (
            DisconnectCode::Rejected,
            true,
            21,
            "release cause 21 call rejected",
        ),
        (
            DisconnectCode::Busy,
            false,
            17,
            "release cause 17 user busy",
        ),
        (
            DisconnectCode::NoAnswer,
            true,
            19,
            "release cause 19 no answer",
        ),
    ];
    for (code, accept_first, cause, wire) in cases {
        let mut s = Sim::new("");
        let call = s.pbx.remote_offer(EXT_100, "alice", &[]);
        if accept_first {
            assert_eq!(s.pbx.accept(r(1), c(1)), Ok(()));
        }
        s.recording.take();
        assert_eq!(call, Ok(c(1)));
        assert_eq!(s.drop_call(2, 1, code, &[0x04, 0x41]), Ok(()), "{code}");
        s.check(&["state call#1 Idle", "complete request#2 Ok"]);
        s.check_far_end(&[&format!("alice Released [] {wire}:0441")]);
        let signal = &s.pbx.far_end().expect("far-end view")[0].received[0];
        assert_eq!((signal.kind, signal.cause), (SignalKind::Reject, cause));
        assert_eq!(s.info(1).uui_sent, [0x04, 0x41]);
    }
}

/// SPEC R2: without `reject_by_drop` the drop is refused and the call stays
/// offered; closing it then goes Idle here only, telling the caller nothing.
#[test]
fn r2_without_reject_by_drop() {
    let mut s = Sim::new("reject_by_drop=off");
    let _ = s.pbx.remote_offer(EXT_100, "alice", &[]);
    s.recording.take();
    s.refused(
        |s| s.drop_call(1, 1, NORMAL, &[]),
        LineError::OperationUnavail,
    );
    s.refused(
        |s| s.drop_call(1, 1, DisconnectCode::Rejected, &[]),
        LineError::OperationUnavail,
    );
    assert_eq!(s.info(1).status, CallStatus::Offering);
    assert_eq!(s.pbx.close_call(c(1)), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&["alice Calling []"]);
    s.refused(|s| s.pbx.call_info(c(1)), LineError::InvalPointer);
}

/// SPEC R3: `Rejected` and `Busy` need an offered call.
#[test]
fn r3_rejection_codes_outside_offering() {
    let mut s = Sim::new("");
    s.connected("bob");
    s.refused(
        |s| s.drop_call(1, 1, DisconnectCode::Rejected, &[]),
        LineError::InvalCallState,
    );
    s.refused(
        |s| s.drop_call(1, 1, DisconnectCode::Busy, &[]),
        LineError::InvalCallState,
    );
    assert_eq!(s.info(1).status, CallStatus::connected());
}

/// SPEC U2, U4, S2: UUI over the limit is refused and changes nothing, on a
/// drop and on a far-end stimulus.
#[test]
fn u2_u4_oversized_uui_changes_nothing() {
    let mut s = Sim::new("");
    s.connected("bob");
    let (info, far_end) = (s.info(1), s.pbx.far_end().expect("far-end view"));
    s.refused(
        |s| s.drop_call(1, 1, NORMAL, &[0; 129]),
        LineError::UserUserInfoTooBig,
    );
    s.refused(
        |s| s.pbx.remote_hang_up(c(1), 16, &[0; 129]),
        LineError::UserUserInfoTooBig,
    );
    s.refused(
        |s| s.pbx.remote_offer(EXT_100, "eve", &[0; 129]),
        LineError::UserUserInfoTooBig,
    );
    assert_eq!(
        (s.info(1), s.pbx.far_end().expect("far-end view")),
        (info, far_end)
    );
    assert_eq!(s.drop_call(2, 1, NORMAL, &[0x04; 128]), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
    // The refused offer allocated no call.
    assert_eq!(s.pbx.make_call(r(3), EXT_100, "carol"), Ok(c(2)));

    let mut s = Sim::new("uui=0");
    s.connected("bob");
    s.refused(
        |s| s.drop_call(1, 1, NORMAL, &[0x04]),
        LineError::UserUserInfoTooBig,
    );
    assert_eq!(s.drop_call(2, 1, NORMAL, &[]), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
}

/// SPEC D7: dropping an unanswered outbound call cancels it, in Proceeding
/// and in Ringback.
#[test]
fn d7_drop_unanswered_outbound_cancels() {
    for alerted in [false, true] {
        let mut s = Sim::new("");
        let _ = s.pbx.make_call(r(1), EXT_100, "bob");
        if alerted {
            let _ = s.pbx.remote_alert(c(1));
        }
        s.recording.take();
        assert_eq!(s.drop_call(2, 1, NORMAL, &[0x07]), Ok(()));
        s.check(&["state call#1 Idle", "complete request#2 Ok"]);
        s.check_far_end(&["bob Released [] release cause 16 normal clearing (cancel):07"]);
    }
}

/// SPEC D2: an Idle call cannot be dropped again; nothing is reported twice.
#[test]
fn d2_second_drop_refused() {
    let mut s = Sim::new("");
    s.connected("bob");
    assert_eq!(s.drop_call(1, 1, NORMAL, &[]), Ok(()));
    s.check(&["state call#1 Idle", "complete request#1 Ok"]);
    s.refused(
        |s| s.drop_call(2, 1, NORMAL, &[]),
        LineError::InvalCallState,
    );
    s.check_far_end(&["bob Released [] release cause 16 normal clearing:"]);
}

/// SPEC S3, U5: the far end hangs up; the call waits in Disconnected with
/// the mode of its cause and the UUI it sent.
#[test]
fn s3_u5_remote_hang_up() {
    let mut s = Sim::new("");
    s.connected("bob");
    assert_eq!(s.pbx.remote_hang_up(c(1), 17, &[0x04, 0x99]), Ok(()));
    s.check(&["state call#1 Disconnected/Busy"]);
    s.check_far_end(&["bob Released []"]);
    let info = s.info(1);
    assert_eq!(
        (info.disconnect_mode, info.uui_received),
        (Some(DisconnectMode::Busy), vec![0x04, 0x99])
    );
    s.refused(
        |s| s.pbx.remote_hang_up(c(1), 16, &[]),
        LineError::InvalCallState,
    );
}

/// SPEC D6, U5: dropping a Disconnected call goes Idle, sends nothing, and
/// keeps what the far end sent.
#[test]
fn d6_drop_after_far_end_left() {
    let mut s = Sim::new("");
    s.connected("bob");
    let _ = s.pbx.remote_hang_up(c(1), 16, &[0x04, 0x99]);
    s.recording.take();
    assert_eq!(s.drop_call(1, 1, NORMAL, &[0x05]), Ok(()));
    s.check(&["state call#1 Idle", "complete request#1 Ok"]);
    s.check_far_end(&["bob Released []"]);
    let info = s.info(1);
    assert_eq!(info.disconnect_mode, Some(DisconnectMode::Normal));
    assert_eq!(
        (info.uui_received, info.uui_sent),
        (vec![0x04, 0x99], vec![])
    );
}

/// SPEC Q1: call info answers after Idle, until the call is closed.
#[test]
fn q1_call_info_after_idle() {
    let mut s = Sim::new("");
    s.connected_on(EXT_200, "bob");
    let _ = s.drop_call(1, 1, NORMAL, &[0x04, 0x02]);
    s.recording.take();
    let info = s.info(1);
    assert_eq!(
        (info.address, info.status, info.remote.as_str()),
        (EXT_200, CallStatus::Idle, "bob")
    );
    assert_eq!(
        (info.disconnect_mode, info.uui_sent),
        (None, vec![0x04, 0x02])
    );
    assert_eq!(s.pbx.close_call(c(1)), Ok(()));
    s.refused(|s| s.pbx.call_info(c(1)), LineError::InvalPointer);
}

/// SPEC D8: dropping a conference consultation call returns its primary to
/// Connected, after the consultation call's Idle.
#[test]
fn d8_drop_conference_consult() {
    let mut s = Sim::new("");
    s.connected("bob");
    assert_eq!(s.pbx.setup_conference(r(1), c(1), "carol"), Ok(c(2)));
    s.check(&[
        "state call#1 OnHoldPendConf",
        "new call#2 at 0 by request#1",
        "state call#2 Dialing",
        "state call#2 Proceeding",
        "complete request#1 Ok",
    ]);
    assert_eq!(
        (s.related(1), s.related(2)),
        (vec![(Relation::Consult, 2)], vec![(Relation::Primary, 1)])
    );
    s.refused(
        |s| s.pbx.setup_conference(r(2), c(1), "dave"),
        LineError::InvalCallState,
    );
    assert_eq!(s.drop_call(3, 2, NORMAL, &[]), Ok(()));
    s.check(&[
        "state call#2 Idle",
        "state call#1 Connected/Active",
        "complete request#3 Ok",
    ]);
    assert_eq!(
        (s.related(1), s.related(2)),
        (vec![], vec![(Relation::Primary, 1)])
    );
    s.check_far_end(&[
        "bob Connected [ext-100]",
        "carol Released [] release cause 16 normal clearing (cancel):",
    ]);
}

/// SPEC D8: the same for a transfer consultation call that was answered.
#[test]
fn d8_drop_transfer_consult() {
    let mut s = Sim::new("");
    s.connected("bob");
    assert_eq!(s.pbx.setup_transfer(r(1), c(1), "carol"), Ok(c(2)));
    let _ = s.pbx.remote_answer(c(2));
    s.recording.take();
    assert_eq!(s.drop_call(2, 2, NORMAL, &[0x01]), Ok(()));
    s.check(&[
        "state call#2 Idle",
        "state call#1 Connected/Active",
        "complete request#2 Ok",
    ]);
    s.check_far_end(&[
        "bob Connected [ext-100]",
        "carol Released [] release cause 16 normal clearing:01",
    ]);
}

/// A transfer leaves both far ends talking to each other, without us.
#[test]
fn complete_transfer_bridges_far_ends() {
    let mut s = Sim::new("");
    s.connected("bob");
    let _ = s.pbx.setup_transfer(r(1), c(1), "carol");
    s.recording.take();
    s.refused(
        |s| s.pbx.complete_transfer(r(2), c(1), c(2)),
        LineError::InvalCallState,
    );
    let _ = s.pbx.remote_answer(c(2));
    s.recording.take();
    s.refused(
        |s| s.pbx.complete_transfer(r(2), c(1), c(1)),
        LineError::InvalPointer,
    );
    assert_eq!(s.pbx.complete_transfer(r(2), c(1), c(2)), Ok(()));
    s.check(&[
        "state call#2 Idle",
        "state call#1 Idle",
        "complete request#2 Ok",
    ]);
    s.check_far_end(&["bob Connected [carol]", "carol Connected [bob]"]);
    assert_eq!(
        (s.related(1), s.related(2)),
        (vec![(Relation::Consult, 2)], vec![(Relation::Primary, 1)])
    );
}

/// Conference through a consultation call, then a party added to the
/// existing conference the same way.
#[test]
fn conference_through_consultation() {
    let mut s = Sim::new("");
    s.connected("bob");
    let _ = s.pbx.setup_conference(r(1), c(1), "carol");
    s.recording.take();
    s.refused(
        |s| s.pbx.add_to_conference(r(2), c(1), c(2)),
        LineError::InvalCallState,
    );
    let _ = s.pbx.remote_answer(c(2));
    s.recording.take();
    s.refused(
        |s| s.pbx.add_to_conference(r(2), c(1), c(1)),
        LineError::InvalPointer,
    );
    assert_eq!(s.pbx.add_to_conference(r(2), c(1), c(2)), Ok(c(3)));
    s.check(&[
        "new call#3 at 0 by request#2",
        "state call#1 Conferenced(call#3)",
        "state call#2 Conferenced(call#3)",
        "state call#3 Connected/Active",
        "complete request#2 Ok",
    ]);
    assert_eq!(s.related(3), [(Relation::Child, 1), (Relation::Child, 2)]);
    assert_eq!(
        (s.related(1), s.info(3).remote),
        (vec![(Relation::Parent, 3)], String::new())
    );
    s.refused(
        |s| s.pbx.setup_transfer(r(3), c(3), "dave"),
        LineError::InvalCallState,
    );
    s.refused(
        |s| s.pbx.setup_conference(r(3), c(1), "dave"),
        LineError::InvalCallState,
    );

    assert_eq!(s.pbx.setup_conference(r(3), c(3), "dave"), Ok(c(4)));
    let _ = s.pbx.remote_answer(c(4));
    s.recording.take();
    assert_eq!(s.pbx.add_to_conference(r(4), c(3), c(4)), Ok(c(3)));
    s.check(&[
        "state call#4 Conferenced(call#3)",
        "state call#3 Connected/Active",
        "complete request#4 Ok",
    ]);
    s.check_far_end(&[
        "bob Connected [ext-100,carol,dave]",
        "carol Connected [ext-100,bob,dave]",
        "dave Connected [ext-100,bob,carol]",
    ]);
}

/// Three connected calls joined directly into one conference: call#4.
fn three_party_conference(s: &mut Sim, address: AddressId) {
    for name in ["bob", "carol", "dave"] {
        s.connected_on(address, name);
    }
    assert_eq!(s.join(c(1), c(2)), c(4));
    assert_eq!(s.join(c(4), c(3)), c(4));
}

/// SPEC C1: dropping the parent drops every child, in join order, then the
/// parent; every party hears the release with the UUI.
#[test]
fn c1_cascade_in_join_order() {
    let mut s = Sim::new("");
    three_party_conference(&mut s, EXT_100);
    assert_eq!(s.drop_call(1, 4, NORMAL, &[0x09]), Ok(()));
    s.check(&[
        "state call#1 Idle",
        "state call#2 Idle",
        "state call#3 Idle",
        "state call#4 Idle",
        "complete request#1 Ok",
    ]);
    s.check_far_end(&[
        "bob Released [] release cause 16 normal clearing:09",
        "carol Released [] release cause 16 normal clearing:09",
        "dave Released [] release cause 16 normal clearing:09",
    ]);
    // SPEC Q1: the tree is still visible after Idle.
    assert_eq!(
        s.related(4),
        [
            (Relation::Child, 1),
            (Relation::Child, 2),
            (Relation::Child, 3)
        ]
    );
    assert_eq!(s.info(4).uui_sent, [0x09]);
    s.refused(
        |s| s.drop_call(2, 2, NORMAL, &[]),
        LineError::InvalCallState,
    );
}

/// SPEC C2: without `conf_drop` (configured off on ext-100, never on
/// ext-200) our station leaves and the parties keep talking.
#[test]
fn c2_parties_stay_connected_without_conf_drop() {
    for (config, address) in [("conf_drop=off", EXT_100), ("", EXT_200)] {
        let mut s = Sim::new(config);
        three_party_conference(&mut s, address);
        assert_eq!(s.drop_call(1, 4, NORMAL, &[0x09]), Ok(()));
        s.check(&[
            "state call#1 Idle",
            "state call#2 Idle",
            "state call#3 Idle",
            "state call#4 Idle",
            "complete request#1 Ok",
        ]);
        s.check_far_end(&[
            "bob Connected [carol,dave]",
            "carol Connected [bob,dave]",
            "dave Connected [bob,carol]",
        ]);
    }
}

/// SPEC C3: dropping one child removes only that party.
#[test]
fn c3_drop_one_child() {
    let mut s = Sim::new("");
    three_party_conference(&mut s, EXT_100);
    assert_eq!(s.drop_call(1, 2, NORMAL, &[0x03]), Ok(()));
    s.check(&["state call#2 Idle", "complete request#1 Ok"]);
    assert_eq!(s.related(4), [(Relation::Child, 1), (Relation::Child, 3)]);
    // Q1: an Idle call keeps the relations it had when it went Idle.
    assert_eq!(s.related(2), [(Relation::Parent, 4)]);
    s.check_far_end(&[
        "bob Connected [ext-100,dave]",
        "carol Released [] release cause 16 normal clearing:03",
        "dave Connected [ext-100,bob]",
    ]);
}

/// SPEC C4: a conference down to one party ends, by a drop or by the far
/// end leaving; the remaining call is Connected again.
#[test]
fn c4_last_party_left() {
    let mut s = Sim::new("");
    s.connected("bob");
    s.connected("carol");
    s.join(c(1), c(2));
    assert_eq!(s.drop_call(1, 1, NORMAL, &[]), Ok(()));
    s.check(&[
        "state call#1 Idle",
        "state call#2 Connected/Active",
        "state call#3 Idle",
        "complete request#1 Ok",
    ]);
    assert_eq!(
        (s.related(2), s.related(3)),
        (vec![], vec![(Relation::Child, 2)])
    );
    s.check_far_end(&[
        "bob Released [] release cause 16 normal clearing:",
        "carol Connected [ext-100]",
    ]);

    let mut s = Sim::new("");
    s.connected("bob");
    s.connected("carol");
    s.join(c(1), c(2));
    assert_eq!(s.pbx.remote_hang_up(c(2), 16, &[0x04]), Ok(()));
    s.check(&[
        "state call#2 Disconnected/Normal",
        "state call#1 Connected/Active",
        "state call#3 Idle",
    ]);
    s.refused(
        |s| s.pbx.remote_hang_up(c(3), 16, &[]),
        LineError::InvalCallState,
    );
}

/// Two conferences (call#3 of bob and carol, call#6 of dave and erin), the
/// second joined into the first: depth 2.
fn nested_conference(s: &mut Sim) {
    s.connected("bob");
    s.connected("carol");
    assert_eq!(s.join(c(1), c(2)), c(3));
    s.connected("dave");
    s.connected("erin");
    assert_eq!(s.join(c(4), c(5)), c(6));
    assert_eq!(s.pbx.add_to_conference(r(1), c(3), c(6)), Ok(c(3)));
    s.check(&["state call#6 Conferenced(call#3)", "complete request#1 Ok"]);
}

/// SPEC C5: the cascade goes depth first through a nested conference,
/// each call Idle exactly once, each party released exactly once.
#[test]
fn c5_nested_cascade() {
    let mut s = Sim::new("");
    nested_conference(&mut s);
    s.check_far_end(&[
        "bob Connected [ext-100,carol,dave,erin]",
        "carol Connected [ext-100,bob,dave,erin]",
        "dave Connected [ext-100,bob,carol,erin]",
        "erin Connected [ext-100,bob,carol,dave]",
    ]);
    assert_eq!(s.drop_call(2, 3, NORMAL, &[]), Ok(()));
    s.check(&[
        "state call#1 Idle",
        "state call#2 Idle",
        "state call#4 Idle",
        "state call#5 Idle",
        "state call#6 Idle",
        "state call#3 Idle",
        "complete request#2 Ok",
    ]);
    let released = "Released [] release cause 16 normal clearing:";
    s.check_far_end(&[
        &format!("bob {released}"),
        &format!("carol {released}"),
        &format!("dave {released}"),
        &format!("erin {released}"),
    ]);
}

/// SPEC C4 inside C5 (a choice the SPEC leaves open): when an inner
/// conference falls to one party, that party takes the inner conference's
/// place in the outer one instead of leaving it.
#[test]
fn c4_inside_nested_conference_keeps_party_in_outer() {
    let mut s = Sim::new("");
    nested_conference(&mut s);
    assert_eq!(s.drop_call(2, 4, NORMAL, &[]), Ok(()));
    s.check(&[
        "state call#4 Idle",
        "state call#5 Conferenced(call#3)",
        "state call#6 Idle",
        "complete request#2 Ok",
    ]);
    assert_eq!(
        s.related(3),
        [
            (Relation::Child, 1),
            (Relation::Child, 2),
            (Relation::Child, 5)
        ]
    );
    assert_eq!(s.related(5), [(Relation::Parent, 3)]);
    assert_eq!(s.drop_call(3, 3, NORMAL, &[]), Ok(()));
    s.check(&[
        "state call#1 Idle",
        "state call#2 Idle",
        "state call#5 Idle",
        "state call#3 Idle",
        "complete request#3 Ok",
    ]);
}

/// SPEC T3: closing a live call drops it (no request, so no completion)
/// and forgets it; closing an Idle child keeps its parent's links true.
#[test]
fn t3_close_call() {
    let mut s = Sim::new("");
    s.connected("bob");
    assert_eq!(s.pbx.close_call(c(1)), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&["bob Released [] release cause 16 normal clearing:"]);
    s.refused(|s| s.pbx.call_info(c(1)), LineError::InvalPointer);
    s.refused(|s| s.pbx.close_call(c(1)), LineError::InvalPointer);

    let mut s = Sim::new("");
    three_party_conference(&mut s, EXT_100);
    assert_eq!(s.pbx.close_call(c(4)), Ok(()));
    s.check(&[
        "state call#1 Idle",
        "state call#2 Idle",
        "state call#3 Idle",
        "state call#4 Idle",
    ]);
    assert_eq!(s.related(1), []);

    let mut s = Sim::new("");
    three_party_conference(&mut s, EXT_100);
    let _ = s.drop_call(1, 4, NORMAL, &[]);
    s.recording.take();
    assert_eq!(s.pbx.close_call(c(2)), Ok(()));
    s.check(&[]);
    assert_eq!(s.related(4), [(Relation::Child, 1), (Relation::Child, 3)]);
}

/// SPEC C1 at benchmark size: a 10 000-party conference cascades with one
/// Idle per call and one release per party.
#[test]
fn c1_large_conference() {
    const PARTIES: u64 = 10_000;
    let mut s = Sim::new("");
    let first = s.connected("party-0");
    let second = s.connected("party-1");
    let parent = s.join(first, second);
    for n in 2..PARTIES {
        let call = s.connected(&format!("party-{n}"));
        s.join(parent, call);
    }
    assert_eq!(s.info(parent.0).related.len(), PARTIES as usize);
    assert_eq!(s.drop_call(1, parent.0, NORMAL, &[]), Ok(()));
    let events = s.recording.take();
    let idle = |call: CallId| Reported::State {
        call,
        status: CallStatus::Idle,
    };
    assert_eq!(events.len() as u64, PARTIES + 2);
    assert_eq!(events.first(), Some(&idle(first)));
    assert_eq!(events.get(PARTIES as usize), Some(&idle(parent)));
    let far_end = s.pbx.far_end().expect("far-end view");
    assert!(far_end.iter().all(|party| party.received.len() == 1));
}

/// SPEC C5 at depth: each conference joined into a new one 1 000 times;
/// the cascade needs no recursion and visits every call once.
#[test]
fn c5_deep_nesting() {
    const DEPTH: usize = 1_000;
    let mut s = Sim::new("");
    let first = s.connected("bottom");
    let second = s.connected("bottom-peer");
    let mut root = s.join(first, second);
    for n in 0..DEPTH {
        let call = s.connected(&format!("level-{n}"));
        root = s.join(call, root);
    }
    let bottom = s.pbx.far_end().expect("far-end view");
    assert_eq!(
        bottom.first().map(|party| party.connected_to.len()),
        Some(DEPTH + 2)
    );
    assert_eq!(s.drop_call(1, root.0, NORMAL, &[]), Ok(()));
    let events = s.recording.take();
    // A party and a parent per level, the bottom conference, the completion.
    assert_eq!(events.len(), 2 * DEPTH + 3 + 1);
    // Each level's own party joined before the conference below it.
    let rendered: Vec<String> = events.iter().map(ToString::to_string).collect();
    assert_eq!(
        rendered[..2],
        ["state call#2002 Idle", "state call#2000 Idle"]
    );
    assert_eq!(
        rendered[rendered.len() - 2..],
        [
            format!("state {root} Idle"),
            "complete request#1 Ok".to_owned()
        ]
    );
    let released = s.pbx.far_end().expect("far-end view");
    assert!(released.iter().all(|party| party.received.len() == 1));
}

/// The far-end view stays bounded over a long run: parties whose calls are
/// released and closed are shown for the last `RETIRED_SHOWN` of them, and
/// one party's record keeps its latest `SIGNALS_KEPT` signals; a party still
/// connected, or called again, is never forgotten.
#[test]
fn far_end_history_is_bounded() {
    use crate::remote::{RETIRED_SHOWN, SIGNALS_KEPT};
    let mut s = Sim::new("");
    let keeper = s.connected("keeper");
    let total = RETIRED_SHOWN + 40;
    for n in 0..total {
        let call = s.connected(&format!("party-{n}"));
        assert_eq!(s.pbx.drop_call(r(n as u64 + 1), call, NORMAL, &[]), Ok(()));
        assert_eq!(s.pbx.close_call(call), Ok(()));
    }
    s.recording.take();
    let names: Vec<String> = s
        .pbx
        .far_end()
        .expect("far-end view")
        .into_iter()
        .map(|p| p.name)
        .collect();
    assert_eq!(names.len(), RETIRED_SHOWN + 1, "{names:?}");
    assert_eq!(names[0], "keeper", "a connected party is never forgotten");
    assert_eq!(names[1], format!("party-{}", total - RETIRED_SHOWN));
    assert_eq!(names[RETIRED_SHOWN], format!("party-{}", total - 1));
    // One party called again and again keeps its latest signals only.
    for n in 0..SIGNALS_KEPT + 5 {
        let call = s.connected("often");
        assert_eq!(
            s.pbx
                .drop_call(r(1_000 + n as u64), call, NORMAL, &[n as u8]),
            Ok(())
        );
    }
    s.recording.take();
    let often = s
        .pbx
        .far_end()
        .expect("far-end view")
        .into_iter()
        .find(|p| p.name == "often")
        .expect("still shown");
    assert_eq!(often.received.len(), SIGNALS_KEPT);
    assert_eq!(often.received[0].uui, [5]);
    assert_eq!(s.pbx.drop_call(r(5_000), keeper, NORMAL, &[]), Ok(()));
}
