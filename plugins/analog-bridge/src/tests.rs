//! White-box tests of the line card, one per SPEC rule or group of rules.
//! Events are rendered as short lines and compared as a whole, so order and
//! the absence of duplicates are checked along with content (SPEC D4).

use cleardown_sdk::testing::Recording;
use cleardown_sdk::{
    AddressId, CallFeatures, CallId, CallInfo, CallStatus, DisconnectCode, DisconnectMode,
    LineError, LineResult, Provider, RemoteParty, RequestId, Sharing, SignalKind,
};

use crate::AnalogBridge;

const S1: AddressId = AddressId(0);
const S2: AddressId = AddressId(1);
const S3: AddressId = AddressId(2);
const NORMAL: DisconnectCode = DisconnectCode::Normal;
const OFF: bool = true;
const ON: bool = false;

fn r(n: u64) -> RequestId {
    RequestId(n)
}

fn c(n: u64) -> CallId {
    CallId(n)
}

/// `name state [connected_to] kind cause wire; ...`
fn render_party(party: &RemoteParty) -> String {
    let received: Vec<String> = party
        .received
        .iter()
        .map(|signal| {
            assert!(signal.uui.is_empty(), "an analog loop carries no UUI");
            format!("{} {} {}", signal.kind, signal.cause, signal.wire)
        })
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

const RELEASE: &str = "Release 16 loop open (on-hook)";
const CANCEL: &str = "Cancel 16 loop open before answer";

struct Sim {
    card: AnalogBridge,
    recording: Recording,
}

impl Sim {
    fn new(config: &str) -> Sim {
        let (card, recording) = Recording::open(config);
        Sim { card, recording }
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
            .card
            .far_end()
            .expect("far-end view")
            .iter()
            .map(render_party)
            .collect();
        assert_eq!(parties, expected);
    }

    /// `operation` must be refused with `error`, with nothing reported and
    /// nothing changed (SPEC S2, X1).
    #[track_caller]
    fn refused<T: std::fmt::Debug>(
        &mut self,
        operation: impl FnOnce(&mut Sim) -> LineResult<T>,
        error: LineError,
    ) {
        let before = self.world();
        assert_eq!(operation(self).err(), Some(error));
        self.check(&[]);
        assert_eq!(
            self.world(),
            before,
            "a refused operation changed the world"
        );
    }

    /// Everything observable: every call's info (ids up to 20) and the far end.
    fn world(&self) -> String {
        let calls: Vec<String> = (1..=20)
            .filter_map(|n| {
                self.card
                    .call_info(c(n))
                    .ok()
                    .map(|info| format!("{n}:{info:?}"))
            })
            .collect();
        format!("{calls:?} {:?}", self.card.far_end().expect("far-end view"))
    }

    fn info(&self, call: u64) -> CallInfo<CallId> {
        match self.card.call_info(c(call)) {
            Ok(info) => info,
            Err(error) => panic!("call_info(call#{call}): {error}"),
        }
    }

    fn status(&self, call: u64) -> CallStatus<CallId> {
        self.info(call).status
    }

    fn drop_call(&mut self, request: u64, call: u64) -> LineResult<()> {
        self.card.drop_call(r(request), c(call), NORMAL, &[])
    }

    fn hook(&mut self, station: AddressId, off_hook: bool) -> LineResult<()> {
        self.card.station_hook(station, off_hook)
    }

    /// Runs `steps` that must all succeed, and forgets their events.
    #[track_caller]
    fn setup(&mut self, steps: &[(&str, LineResult<()>)]) {
        for (what, result) in steps {
            assert_eq!(result, &Ok(()), "{what}");
        }
        self.recording.take();
    }

    /// Shared mode: alice's offer rings every station (call#1..#N), station 1
    /// picks up and station 2 bridges in; events are not checked here.
    fn shared_two_active(&mut self) {
        let offer = self.card.remote_offer(S1, "alice", &[]).map(drop);
        let s1 = self.hook(S1, OFF);
        let s2 = self.hook(S2, OFF);
        self.setup(&[("offer", offer), ("s1 off-hook", s1), ("s2 off-hook", s2)]);
    }
}

const INACTIVE: CallStatus<CallId> = CallStatus::Connected {
    mode: cleardown_sdk::ConnectedMode::Inactive,
};

/// SPEC L2/L3: the declaration follows the configuration.
#[test]
fn l2_info_follows_configuration() {
    let info = Sim::new("").card.info();
    assert_eq!(info.name, "analog-bridge");
    assert_eq!(info.version, env!("CARGO_PKG_VERSION"));
    let caps = info.capabilities;
    assert_eq!(
        (caps.uui_drop_size, caps.reject_by_drop, caps.close_drop),
        (0, false, false)
    );
    let names: Vec<&str> = caps.addresses.iter().map(|a| a.name.as_str()).collect();
    assert_eq!(names, ["station-1", "station-2", "station-3"]);
    for address in &caps.addresses {
        assert!(!address.conf_drop);
        assert_eq!(address.sharing, Sharing::BridgedShared);
        assert_eq!(
            address.features,
            CallFeatures::ACCEPT | CallFeatures::ANSWER | CallFeatures::DROP
        );
    }
    let cases = [
        ("sharing=shared", Sharing::BridgedShared),
        ("sharing=exclusive", Sharing::BridgedExclusive),
        ("sharing=new", Sharing::BridgedNew),
        ("sharing=private", Sharing::Private),
    ];
    for (config, sharing) in cases {
        let caps = Sim::new(config).card.info().capabilities;
        assert!(
            caps.addresses.iter().all(|a| a.sharing == sharing),
            "{config}"
        );
    }
    let caps = Sim::new("stations=8").card.info().capabilities;
    assert_eq!(caps.addresses.len(), 8);
    assert_eq!(caps.addresses[7].name, "station-8");
    assert_eq!(
        Sim::new("stations=1")
            .card
            .info()
            .capabilities
            .addresses
            .len(),
        1
    );
}

/// SPEC L3: a bad configuration string is refused with the parser's sentence.
#[test]
fn l3_bad_configuration_refused_at_open() {
    let refused = |config| AnalogBridge::open(config, Recording::new().reporter()).err();
    assert_eq!(
        refused("sharing=monitored"),
        Some(
            "bad value `monitored` for `sharing` in analog-bridge configuration; \
             expected shared, exclusive, new or private"
                .to_owned()
        )
    );
    assert!(refused("stations=9").is_some());
    assert!(refused("supervision=off;supervision=on").is_some());
    assert!(refused("conf_drop=off").is_some());
}

/// SPEC X1: unknown addresses and calls are `InvalPointer`, with no event.
#[test]
fn x1_unknown_addresses_and_calls() {
    let mut s = Sim::new("");
    assert_eq!(s.card.open_line(S3), Ok(()));
    assert_eq!(s.card.close_line(S1), Ok(()));
    s.refused(|s| s.card.open_line(AddressId(3)), LineError::InvalPointer);
    s.refused(|s| s.card.close_line(AddressId(3)), LineError::InvalPointer);
    s.refused(
        |s| s.card.make_call(r(1), AddressId(u32::MAX), "bob"),
        LineError::InvalPointer,
    );
    s.refused(|s| s.card.make_call(r(1), S1, ""), LineError::InvalPointer);
    s.refused(
        |s| s.card.remote_offer(AddressId(3), "bob", &[]),
        LineError::InvalPointer,
    );
    s.refused(
        |s| s.card.remote_offer(S1, "", &[]),
        LineError::InvalPointer,
    );
    s.refused(|s| s.hook(AddressId(3), OFF), LineError::InvalPointer);
    s.refused(|s| s.drop_call(1, 42), LineError::InvalPointer);
    s.refused(|s| s.card.accept(r(1), c(42)), LineError::InvalPointer);
    s.refused(|s| s.card.answer(r(1), c(42)), LineError::InvalPointer);
    s.refused(|s| s.card.call_info(c(42)), LineError::InvalPointer);
    s.refused(|s| s.card.close_call(c(42)), LineError::InvalPointer);
    s.refused(|s| s.card.remote_alert(c(42)), LineError::InvalPointer);
    s.refused(|s| s.card.remote_answer(c(42)), LineError::InvalPointer);
    s.refused(
        |s| s.card.remote_hang_up(c(42), 16, &[]),
        LineError::InvalPointer,
    );
    assert_eq!(
        Sim::new("stations=1").card.open_line(S2),
        Err(LineError::InvalPointer)
    );
}

/// What an analog line cannot do is `OperationUnavail`, and the features
/// do not declare it.
#[test]
fn l2_no_hold_conference_or_transfer() {
    let mut s = Sim::new("");
    let offer = s.card.remote_offer(S1, "alice", &[]).map(drop);
    let answer = s.card.answer(r(1), c(1));
    s.setup(&[("offer", offer), ("answer", answer)]);
    s.refused(|s| s.card.hold(r(2), c(1)), LineError::OperationUnavail);
    s.refused(|s| s.card.unhold(r(2), c(1)), LineError::OperationUnavail);
    s.refused(
        |s| s.card.setup_conference(r(2), c(1), "bob"),
        LineError::OperationUnavail,
    );
    s.refused(
        |s| s.card.add_to_conference(r(2), c(1), c(2)),
        LineError::OperationUnavail,
    );
    s.refused(
        |s| s.card.setup_transfer(r(2), c(1), "bob"),
        LineError::OperationUnavail,
    );
    s.refused(
        |s| s.card.complete_transfer(r(2), c(1), c(2)),
        LineError::OperationUnavail,
    );
}

/// Shared: an offer rings every station; `remote_offer` returns the
/// appearance at the offered station; accept, then answer at one station
/// shows the call up elsewhere at every other one.
#[test]
fn b1_shared_offer_rings_every_station_answer_shows_it_inactive_elsewhere() {
    let mut s = Sim::new("");
    assert_eq!(s.card.remote_offer(S2, "alice", &[]), Ok(c(2)));
    s.check(&[
        "new call#1 at 0",
        "state call#1 Offering",
        "new call#2 at 1",
        "state call#2 Offering",
        "new call#3 at 2",
        "state call#3 Offering",
    ]);
    s.check_far_end(&["alice Calling []"]);
    assert_eq!(s.info(2).remote, "alice");
    assert_eq!(s.card.accept(r(1), c(1)), Ok(()));
    s.check(&["state call#1 Accepted", "complete request#1 Ok"]);
    s.refused(|s| s.card.accept(r(2), c(1)), LineError::InvalCallState);
    // Another call on the busy loop is refused.
    s.refused(
        |s| s.card.remote_offer(S3, "bob", &[]),
        LineError::ResourceUnavail,
    );
    s.refused(
        |s| s.card.make_call(r(2), S3, "bob"),
        LineError::ResourceUnavail,
    );
    assert_eq!(s.card.answer(r(3), c(2)), Ok(()));
    s.check(&[
        "state call#2 Connected/Active",
        "state call#1 Connected/Inactive",
        "state call#3 Connected/Inactive",
        "complete request#3 Ok",
    ]);
    s.check_far_end(&["alice Connected [station-2]"]);
    s.refused(|s| s.card.answer(r(4), c(2)), LineError::InvalCallState);
    s.refused(|s| s.card.answer(r(4), c(1)), LineError::InvalCallState);
    s.refused(|s| s.card.remote_alert(c(2)), LineError::InvalCallState);
    s.refused(|s| s.card.remote_answer(c(2)), LineError::InvalCallState);
}

/// Shared: an outbound call goes Dialtone → Dialing → Proceeding at the
/// calling station only; when the far end answers every other station gets
/// a Connected/Inactive appearance.
#[test]
fn b1_shared_outbound_answer_gives_other_stations_inactive_appearances() {
    let mut s = Sim::new("");
    assert_eq!(s.card.make_call(r(1), S2, "bob"), Ok(c(1)));
    s.check(&[
        "new call#1 at 1 by request#1",
        "state call#1 Dialtone",
        "state call#1 Dialing",
        "state call#1 Proceeding",
        "complete request#1 Ok",
    ]);
    s.check_far_end(&["bob Ringing []"]);
    // Nothing to bridge into before the far end answers.
    s.refused(|s| s.hook(S1, OFF), LineError::ResourceUnavail);
    s.refused(|s| s.hook(S2, OFF), LineError::InvalCallState);
    s.refused(
        |s| s.card.make_call(r(2), S1, "carol"),
        LineError::ResourceUnavail,
    );
    assert_eq!(s.card.remote_alert(c(1)), Ok(()));
    s.check(&["state call#1 Ringback"]);
    s.refused(|s| s.card.remote_alert(c(1)), LineError::InvalCallState);
    assert_eq!(s.card.remote_answer(c(1)), Ok(()));
    s.check(&[
        "state call#1 Connected/Active",
        "new call#2 at 0",
        "state call#2 Connected/Inactive",
        "new call#3 at 2",
        "state call#3 Connected/Inactive",
    ]);
    s.check_far_end(&["bob Connected [station-2]"]);
    s.refused(|s| s.card.remote_answer(c(1)), LineError::InvalCallState);
    assert_eq!(s.info(3).remote, "bob");
    // Station 3 bridges in.
    assert_eq!(s.hook(S3, OFF), Ok(()));
    s.check(&["state call#3 Connected/Active"]);
    s.check_far_end(&["bob Connected [station-2,station-3]"]);
}

/// SPEC B1: a drop at one station while another is still active leaves
/// that appearance Connected/Inactive; the other keeps Connected/Active and
/// the far end hears nothing. A station going on-hook does the same,
/// without a request.
#[test]
fn b1_shared_drop_keeps_call_for_other_station() {
    let mut s = Sim::new("");
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    assert_eq!(s.hook(S1, OFF), Ok(()));
    assert_eq!(s.hook(S2, OFF), Ok(()));
    s.check(&[
        "new call#1 at 0",
        "state call#1 Offering",
        "new call#2 at 1",
        "state call#2 Offering",
        "new call#3 at 2",
        "state call#3 Offering",
        // Station 1 picks up.
        "state call#1 Connected/Active",
        "state call#2 Connected/Inactive",
        "state call#3 Connected/Inactive",
        // Station 2 bridges in.
        "state call#2 Connected/Active",
    ]);
    s.check_far_end(&["alice Connected [station-1,station-2]"]);

    assert_eq!(s.drop_call(1, 1), Ok(()));
    s.check(&["state call#1 Connected/Inactive", "complete request#1 Ok"]);
    assert_eq!(s.status(1), INACTIVE);
    assert_eq!(s.status(2), CallStatus::connected());
    s.check_far_end(&["alice Connected [station-2]"]);

    // Station 1 picks up again and bridges back in; then hangs up.
    assert_eq!(s.hook(S1, OFF), Ok(()));
    s.check(&["state call#1 Connected/Active"]);
    assert_eq!(s.hook(S1, ON), Ok(()));
    s.check(&["state call#1 Connected/Inactive"]);
    s.check_far_end(&["alice Connected [station-2]"]);
    // On-hook twice: station 1 is not off-hook any more.
    s.refused(|s| s.hook(S1, ON), LineError::InvalCallState);
    s.refused(|s| s.hook(S2, OFF), LineError::InvalCallState);
}

/// SPEC B2, D4: when the last active station drops, the loop opens: the far
/// end is released and every appearance goes Idle, the dropped one first,
/// then the others in station order, then the reply.
#[test]
fn b2_shared_last_active_station_drop_clears() {
    let mut s = Sim::new("");
    s.shared_two_active();
    assert_eq!(s.drop_call(1, 1), Ok(()));
    s.check(&["state call#1 Connected/Inactive", "complete request#1 Ok"]);
    assert_eq!(s.drop_call(2, 2), Ok(()));
    s.check(&[
        "state call#2 Idle",
        "state call#1 Idle",
        "state call#3 Idle",
        "complete request#2 Ok",
    ]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
    let signal = &s.card.far_end().expect("far-end view")[0].received[0];
    assert_eq!((signal.kind, signal.cause), (SignalKind::Release, 16));
    // SPEC D2: nothing is dropped twice.
    s.refused(|s| s.drop_call(3, 2), LineError::InvalCallState);
    s.refused(|s| s.drop_call(3, 1), LineError::InvalCallState);
    // The loop is free again.
    assert_eq!(s.card.remote_offer(S3, "bob", &[]), Ok(c(6)));
}

/// SPEC B2 by the station's hook: the last active station going on-hook
/// clears the call, with no reply (no request).
#[test]
fn b2_shared_last_active_station_on_hook_clears() {
    let mut s = Sim::new("");
    s.shared_two_active();
    assert_eq!(s.hook(S2, ON), Ok(()));
    s.check(&["state call#2 Connected/Inactive"]);
    assert_eq!(s.hook(S1, ON), Ok(()));
    s.check(&[
        "state call#1 Idle",
        "state call#2 Idle",
        "state call#3 Idle",
    ]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
}

/// SPEC B3: dropping a Connected/Inactive appearance takes only it to Idle
/// and sends nothing; the station can bridge in again later with a new
/// appearance.
#[test]
fn b3_shared_drop_inactive_appearance() {
    let mut s = Sim::new("");
    s.shared_two_active();
    assert_eq!(s.drop_call(1, 1), Ok(()));
    s.check(&["state call#1 Connected/Inactive", "complete request#1 Ok"]);
    assert_eq!(s.drop_call(2, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
    // Station 3 never picked up: its appearance goes the same way.
    assert_eq!(s.drop_call(3, 3), Ok(()));
    s.check(&["state call#3 Idle", "complete request#3 Ok"]);
    assert_eq!(s.status(2), CallStatus::connected());
    s.check_far_end(&["alice Connected [station-2]"]);

    assert_eq!(s.hook(S1, OFF), Ok(()));
    s.check(&["new call#4 at 0", "state call#4 Connected/Active"]);
    s.check_far_end(&["alice Connected [station-1,station-2]"]);
    assert_eq!(s.info(4).remote, "alice");

    // The last active station's drop clears only what is not Idle yet.
    assert_eq!(s.drop_call(4, 2), Ok(()));
    s.check(&["state call#2 Connected/Inactive", "complete request#4 Ok"]);
    assert_eq!(s.drop_call(5, 4), Ok(()));
    s.check(&[
        "state call#4 Idle",
        "state call#2 Idle",
        "complete request#5 Ok",
    ]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
}

/// SPEC B4, BridgedExclusive: the call has one appearance, at the station
/// that took it; another station cannot barge in; a drop clears only the
/// holder's appearance (the others never had it).
#[test]
fn b4_exclusive_barge_in_refused_and_drop_clears_only_holder() {
    let mut s = Sim::new("sharing=exclusive");
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    s.check(&["new call#1 at 0", "state call#1 Offering"]);
    // Ringing at station 1 only: station 2 cannot take it.
    s.refused(|s| s.hook(S2, OFF), LineError::ResourceUnavail);
    assert_eq!(s.hook(S1, OFF), Ok(()));
    s.check(&["state call#1 Connected/Active"]);
    s.check_far_end(&["alice Connected [station-1]"]);
    // Privacy: station 2 cannot barge in; no call may start on the loop.
    s.refused(|s| s.hook(S2, OFF), LineError::ResourceUnavail);
    s.refused(
        |s| s.card.make_call(r(1), S2, "bob"),
        LineError::ResourceUnavail,
    );
    s.refused(
        |s| s.card.remote_offer(S3, "bob", &[]),
        LineError::ResourceUnavail,
    );
    assert_eq!(s.drop_call(2, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
    // The loop is idle: station 2 gets dial tone.
    assert_eq!(s.hook(S2, OFF), Ok(()));
    s.check(&["new call#2 at 1", "state call#2 Dialtone"]);

    // An outbound call: one appearance; no Inactive ones on answer.
    let mut s = Sim::new("sharing=exclusive");
    assert_eq!(s.card.make_call(r(1), S3, "bob"), Ok(c(1)));
    assert_eq!(s.card.remote_answer(c(1)), Ok(()));
    s.check(&[
        "new call#1 at 2 by request#1",
        "state call#1 Dialtone",
        "state call#1 Dialing",
        "state call#1 Proceeding",
        "complete request#1 Ok",
        "state call#1 Connected/Active",
    ]);
    assert_eq!(s.hook(S3, ON), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&[&format!("bob Released [] {RELEASE}")]);
}

/// SPEC B4, BridgedNew: a station going off-hook while the loop's call is
/// up gets a new call of its own (Dialtone); dropping the first call
/// clears only it.
#[test]
fn b4_new_off_hook_makes_new_call_and_drop_clears_only_first() {
    let mut s = Sim::new("sharing=new");
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    assert_eq!(s.hook(S1, OFF), Ok(()));
    assert_eq!(s.hook(S2, OFF), Ok(()));
    s.check(&[
        "new call#1 at 0",
        "state call#1 Offering",
        "state call#1 Connected/Active",
        "new call#2 at 1",
        "state call#2 Dialtone",
    ]);
    assert_eq!(s.info(2).remote, "");
    s.check_far_end(&["alice Connected [station-1]"]);
    s.refused(
        |s| s.card.make_call(r(1), S3, "bob"),
        LineError::ResourceUnavail,
    );
    assert_eq!(s.drop_call(2, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
    assert_eq!(s.status(2), CallStatus::Dialtone);
    // The new call still holds the loop until it is dropped.
    s.refused(
        |s| s.card.remote_offer(S1, "bob", &[]),
        LineError::ResourceUnavail,
    );
    assert_eq!(s.drop_call(3, 2), Ok(()));
    s.check(&["state call#2 Idle", "complete request#3 Ok"]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
}

/// Private: every station is its own loop, so calls at different stations
/// are independent, and a drop clears only its own.
#[test]
fn d5_private_stations_are_independent_lines() {
    let mut s = Sim::new("sharing=private");
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    assert_eq!(s.card.make_call(r(1), S2, "bob"), Ok(c(2)));
    assert_eq!(s.hook(S3, OFF), Ok(()));
    s.check(&[
        "new call#1 at 0",
        "state call#1 Offering",
        "new call#2 at 1 by request#1",
        "state call#2 Dialtone",
        "state call#2 Dialing",
        "state call#2 Proceeding",
        "complete request#1 Ok",
        "new call#3 at 2",
        "state call#3 Dialtone",
    ]);
    s.refused(
        |s| s.card.remote_offer(S1, "carol", &[]),
        LineError::ResourceUnavail,
    );
    s.refused(
        |s| s.card.make_call(r(2), S2, "carol"),
        LineError::ResourceUnavail,
    );
    assert_eq!(s.hook(S1, OFF), Ok(()));
    assert_eq!(s.card.remote_answer(c(2)), Ok(()));
    s.check(&[
        "state call#1 Connected/Active",
        "state call#2 Connected/Active",
    ]);
    s.check_far_end(&["alice Connected [station-1]", "bob Connected [station-2]"]);
    assert_eq!(s.drop_call(3, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#3 Ok"]);
    s.check_far_end(&[
        &format!("alice Released [] {RELEASE}"),
        "bob Connected [station-2]",
    ]);
    assert_eq!(s.status(2), CallStatus::connected());
    assert_eq!(s.status(3), CallStatus::Dialtone);
}

/// Dial tone: off-hook on an idle loop is a call without a far end; it
/// holds the loop; on-hook ends it.
#[test]
fn d5_dial_tone_on_an_idle_loop() {
    let mut s = Sim::new("");
    s.refused(|s| s.hook(S1, ON), LineError::InvalCallState);
    assert_eq!(s.hook(S1, OFF), Ok(()));
    s.check(&["new call#1 at 0", "state call#1 Dialtone"]);
    s.refused(|s| s.hook(S1, OFF), LineError::InvalCallState);
    // Nothing to join, and the loop is taken.
    s.refused(|s| s.hook(S2, OFF), LineError::ResourceUnavail);
    s.refused(
        |s| s.card.make_call(r(1), S1, "bob"),
        LineError::ResourceUnavail,
    );
    s.refused(
        |s| s.card.remote_offer(S2, "bob", &[]),
        LineError::ResourceUnavail,
    );
    s.refused(
        |s| s.card.remote_hang_up(c(1), 16, &[]),
        LineError::InvalCallState,
    );
    s.refused(|s| s.card.remote_answer(c(1)), LineError::InvalCallState);
    assert_eq!(s.hook(S1, ON), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&[]);
    // And by a drop.
    assert_eq!(s.hook(S2, OFF), Ok(()));
    assert_eq!(s.drop_call(2, 2), Ok(()));
    s.check(&[
        "new call#2 at 1",
        "state call#2 Dialtone",
        "state call#2 Idle",
        "complete request#2 Ok",
    ]);
}

/// SPEC D7: dropping an unanswered outbound call cancels it (the far end
/// sees a cancel, not a hang-up), by a drop or by the station's hook.
#[test]
fn d7_drop_unanswered_outbound_cancels() {
    for (alerted, by_hook) in [(false, false), (true, false), (true, true)] {
        let mut s = Sim::new("");
        assert_eq!(s.card.make_call(r(1), S1, "bob"), Ok(c(1)));
        if alerted {
            assert_eq!(s.card.remote_alert(c(1)), Ok(()));
        }
        s.recording.take();
        if by_hook {
            assert_eq!(s.hook(S1, ON), Ok(()));
            s.check(&["state call#1 Idle"]);
        } else {
            assert_eq!(s.drop_call(2, 1), Ok(()));
            s.check(&["state call#1 Idle", "complete request#2 Ok"]);
        }
        s.check_far_end(&[&format!("bob Released [] {CANCEL}")]);
        let signal = &s.card.far_end().expect("far-end view")[0].received[0];
        assert_eq!((signal.kind, signal.cause), (SignalKind::Cancel, 16));
        s.refused(|s| s.card.remote_answer(c(1)), LineError::InvalCallState);
    }
}

/// SPEC R2, R3, S2: no reject by drop on an analog line: dropping an
/// Offering or Accepted appearance fails `OperationUnavail` with every
/// code, and nothing changes; answering and dropping then works.
#[test]
fn r2_drop_offered_call_is_unavail() {
    for config in ["", "sharing=exclusive", "sharing=new", "sharing=private"] {
        let mut s = Sim::new(config);
        assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
        s.recording.take();
        for accepted in [false, true] {
            if accepted {
                assert_eq!(s.card.accept(r(1), c(1)), Ok(()));
                s.recording.take();
            }
            for code in DisconnectCode::ALL {
                s.refused(
                    |s| s.card.drop_call(r(2), c(1), *code, &[]),
                    LineError::OperationUnavail,
                );
            }
        }
        assert_eq!(s.status(1), CallStatus::Accepted);
        s.check_far_end(&["alice Calling []"]);
        assert_eq!(s.card.answer(r(3), c(1)), Ok(()));
        s.recording.take();
        assert_eq!(s.drop_call(4, 1), Ok(()));
        s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
    }
}

/// SPEC R3: the rejection codes need an offered call; `NoAnswer` on a
/// connected call is a plain drop.
#[test]
fn r3_rejection_codes_outside_offering() {
    let mut s = Sim::new("sharing=exclusive");
    let call = s.card.make_call(r(1), S1, "bob").map(drop);
    let answer = s.card.remote_answer(c(1));
    s.setup(&[("call", call), ("answer", answer)]);
    for code in [DisconnectCode::Rejected, DisconnectCode::Busy] {
        s.refused(
            |s| s.card.drop_call(r(2), c(1), code, &[]),
            LineError::InvalCallState,
        );
    }
    assert_eq!(
        s.card.drop_call(r(3), c(1), DisconnectCode::NoAnswer, &[]),
        Ok(())
    );
    s.check(&["state call#1 Idle", "complete request#3 Ok"]);
    s.check_far_end(&[&format!("bob Released [] {RELEASE}")]);
}

/// SPEC U4: `uui_drop_size` is 0: a drop with any UUI fails
/// `UserUserInfoTooBig` and changes nothing; an empty one is accepted. The
/// far end cannot send UUI either.
#[test]
fn u4_no_uui_on_an_analog_line() {
    let mut s = Sim::new("");
    s.shared_two_active();
    s.refused(
        |s| s.card.drop_call(r(1), c(1), NORMAL, &[0x04]),
        LineError::UserUserInfoTooBig,
    );
    s.refused(
        |s| s.card.drop_call(r(1), c(3), NORMAL, &[0x04, 0x41]),
        LineError::UserUserInfoTooBig,
    );
    s.refused(
        |s| s.card.remote_hang_up(c(1), 16, &[0x04]),
        LineError::OperationUnavail,
    );
    assert_eq!(s.card.drop_call(r(2), c(1), NORMAL, &[]), Ok(()));
    s.check(&["state call#1 Connected/Inactive", "complete request#2 Ok"]);
    assert!(s.info(1).uui_sent.is_empty());

    let mut s = Sim::new("sharing=private");
    s.refused(
        |s| s.card.remote_offer(S1, "alice", &[0x04]),
        LineError::OperationUnavail,
    );
    // The refused offer allocated nothing.
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    s.recording.take();
    s.refused(
        |s| s.card.drop_call(r(1), c(1), NORMAL, &[0x04]),
        LineError::UserUserInfoTooBig,
    );
}

/// SPEC S3 with supervision: the far end hanging up drops loop current:
/// every appearance of its call goes Disconnected/Normal at once, whatever
/// the cause, never straight to Idle; the far end received nothing.
#[test]
fn s3_supervision_far_hang_up_disconnects_every_appearance() {
    let mut s = Sim::new("");
    s.shared_two_active();
    // Station 3's appearance is Connected/Inactive, station 1 also active.
    assert_eq!(s.card.remote_hang_up(c(3), 17, &[]), Ok(()));
    s.check(&[
        "state call#1 Disconnected/Normal",
        "state call#2 Disconnected/Normal",
        "state call#3 Disconnected/Normal",
    ]);
    s.check_far_end(&["alice Released []"]);
    s.refused(
        |s| s.card.remote_hang_up(c(1), 16, &[]),
        LineError::InvalCallState,
    );
    assert_eq!(s.info(2).disconnect_mode, Some(DisconnectMode::Normal));
    // Nothing to bridge into and the loop is still held.
    s.refused(|s| s.hook(S3, OFF), LineError::ResourceUnavail);
    s.refused(
        |s| s.card.make_call(r(1), S3, "bob"),
        LineError::ResourceUnavail,
    );
    s.refused(|s| s.hook(S1, OFF), LineError::InvalCallState);

    // Before answer, too: the ringing stops.
    let mut s = Sim::new("sharing=exclusive");
    assert_eq!(s.card.remote_offer(S2, "alice", &[]), Ok(c(1)));
    s.recording.take();
    assert_eq!(s.card.remote_hang_up(c(1), 16, &[]), Ok(()));
    s.check(&["state call#1 Disconnected/Normal"]);
    s.refused(|s| s.card.answer(r(1), c(1)), LineError::InvalCallState);
}

/// SPEC D6: dropping a Disconnected appearance takes it to Idle and sends
/// nothing; the disconnect mode is kept after Idle; while another station
/// is still off-hook only this appearance clears; the last station's
/// on-hook frees the loop and clears every appearance.
#[test]
fn d6_drop_after_far_end_left() {
    let mut s = Sim::new("");
    s.shared_two_active();
    assert_eq!(s.card.remote_hang_up(c(1), 16, &[]), Ok(()));
    s.recording.take();
    assert_eq!(s.drop_call(1, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#1 Ok"]);
    assert_eq!(
        s.status(2),
        CallStatus::Disconnected {
            mode: DisconnectMode::Normal
        }
    );
    // The last station off-hook hangs up: the loop is free again, and the
    // appearance of the station that never picked up clears with it (B2).
    assert_eq!(s.hook(S2, ON), Ok(()));
    s.check(&["state call#2 Idle", "state call#3 Idle"]);
    s.check_far_end(&["alice Released []"]);
    let info = s.info(1);
    assert_eq!(
        (info.status, info.disconnect_mode),
        (CallStatus::Idle, Some(DisconnectMode::Normal))
    );
    // The loop is free again.
    assert_eq!(s.hook(S3, OFF), Ok(()));
    s.check(&["new call#4 at 2", "state call#4 Dialtone"]);
}

/// SPEC D6, T3: a call whose caller gave up while it rang, at every station
/// of a shared loop: nobody is off-hook, so dropping (or closing, T3) any of
/// its Disconnected appearances sends nothing, clears them all and frees
/// the loop; the appearances nobody holds do not keep it busy.
#[test]
fn d6_t3_abandoned_offer_frees_the_loop() {
    for close in [false, true] {
        let mut s = Sim::new("");
        assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
        assert_eq!(s.card.remote_hang_up(c(1), 16, &[]), Ok(()));
        s.recording.take();
        if close {
            assert_eq!(s.card.close_call(c(1)), Ok(()));
            s.check(&[
                "state call#1 Idle",
                "state call#2 Idle",
                "state call#3 Idle",
            ]);
        } else {
            assert_eq!(s.drop_call(1, 1), Ok(()));
            s.check(&[
                "state call#1 Idle",
                "state call#2 Idle",
                "state call#3 Idle",
                "complete request#1 Ok",
            ]);
        }
        s.check_far_end(&["alice Released []"]);
        assert_eq!(s.card.make_call(r(2), S2, "bob"), Ok(c(4)));
    }
}

/// SPEC S3 without supervision: the card notices the far end left only by
/// the tone, exactly `tone_ms` after the hang-up, not before; then every
/// appearance still up goes Disconnected/Unknown.
#[test]
fn s3_without_supervision_tone_detected_after_tone_ms() {
    let mut s = Sim::new("supervision=off;tone_ms=1000");
    s.shared_two_active();
    assert_eq!(s.card.advance_time(500), Ok(()));
    assert_eq!(s.card.remote_hang_up(c(2), 16, &[]), Ok(()));
    s.check(&[]);
    s.check_far_end(&["alice Released []"]);
    s.refused(
        |s| s.card.remote_hang_up(c(2), 16, &[]),
        LineError::InvalCallState,
    );
    // Station 3 drops its Inactive appearance before detection.
    assert_eq!(s.drop_call(1, 3), Ok(()));
    s.check(&["state call#3 Idle", "complete request#1 Ok"]);
    assert_eq!(s.card.advance_time(999), Ok(()));
    s.check(&[]);
    assert_eq!(s.status(1), CallStatus::connected());
    assert_eq!(s.info(1).disconnect_mode, None);
    assert_eq!(s.card.advance_time(1), Ok(()));
    s.check(&[
        "state call#1 Disconnected/Unknown",
        "state call#2 Disconnected/Unknown",
    ]);
    assert_eq!(s.info(2).disconnect_mode, Some(DisconnectMode::Unknown));
    assert_eq!(s.card.advance_time(60_000), Ok(()));
    s.check(&[]);
    assert_eq!(s.drop_call(2, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
    s.check_far_end(&["alice Released []"]);
    assert_eq!(s.info(1).disconnect_mode, Some(DisconnectMode::Unknown));
}

/// Without supervision, a drop before the tone is detected is a normal
/// drop: the station goes on-hook, nothing is sent (the far end is gone),
/// and nothing is detected later.
#[test]
fn s3_without_supervision_drop_before_detection() {
    let mut s = Sim::new("sharing=exclusive;supervision=off;tone_ms=200");
    let call = s.card.make_call(r(1), S1, "bob").map(drop);
    let answer = s.card.remote_answer(c(1));
    s.setup(&[("call", call), ("answer", answer)]);
    assert_eq!(s.card.remote_hang_up(c(1), 16, &[]), Ok(()));
    assert_eq!(s.card.advance_time(199), Ok(()));
    s.check(&[]);
    assert_eq!(s.drop_call(2, 1), Ok(()));
    s.check(&["state call#1 Idle", "complete request#2 Ok"]);
    s.check_far_end(&["bob Released []"]);
    assert_eq!(s.card.advance_time(1000), Ok(()));
    s.check(&[]);
    assert_eq!(s.info(1).disconnect_mode, None);

    // An unanswered outbound call whose far end gave up: dropping it
    // before detection cancels nothing.
    let mut s = Sim::new("supervision=off");
    assert_eq!(s.card.make_call(r(1), S1, "bob"), Ok(c(1)));
    assert_eq!(s.card.remote_hang_up(c(1), 16, &[]), Ok(()));
    s.recording.take();
    s.refused(|s| s.card.remote_answer(c(1)), LineError::InvalCallState);
    assert_eq!(s.hook(S1, ON), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&["bob Released []"]);
}

/// Without supervision, detections on independent loops fire in the order
/// they fall due, all of those due within one advance.
#[test]
fn s3_without_supervision_detections_fire_in_order() {
    let mut s = Sim::new("sharing=private;supervision=off;tone_ms=100");
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    assert_eq!(s.card.remote_offer(S2, "bob", &[]), Ok(c(2)));
    assert_eq!(s.card.remote_hang_up(c(2), 16, &[]), Ok(()));
    assert_eq!(s.card.advance_time(50), Ok(()));
    assert_eq!(s.card.remote_hang_up(c(1), 16, &[]), Ok(()));
    s.recording.take();
    // Picking up before detection finds nobody; the tone still comes.
    assert_eq!(s.hook(S1, OFF), Ok(()));
    s.check(&["state call#1 Connected/Active"]);
    s.check_far_end(&["alice Released []", "bob Released []"]);
    assert_eq!(s.card.advance_time(49), Ok(()));
    s.check(&[]);
    assert_eq!(s.card.advance_time(u64::MAX), Ok(()));
    s.check(&[
        "state call#2 Disconnected/Unknown",
        "state call#1 Disconnected/Unknown",
    ]);
}

/// SPEC T3: closing a live appearance drops it as a drop would (no request,
/// no completion), then forgets it; closing an Idle one only forgets it;
/// a ringing one goes Idle here only (R2: the caller hears nothing).
#[test]
fn t3_close_call_drops_then_forgets() {
    // The last active station: the loop opens.
    let mut s = Sim::new("");
    s.shared_two_active();
    let _ = s.drop_call(1, 1);
    s.recording.take();
    assert_eq!(s.card.close_call(c(2)), Ok(()));
    s.check(&[
        "state call#2 Idle",
        "state call#1 Idle",
        "state call#3 Idle",
    ]);
    s.check_far_end(&[&format!("alice Released [] {RELEASE}")]);
    s.refused(|s| s.card.call_info(c(2)), LineError::InvalPointer);
    s.refused(|s| s.card.close_call(c(2)), LineError::InvalPointer);
    assert_eq!(s.card.close_call(c(1)), Ok(()));
    s.check(&[]);
    s.refused(|s| s.card.call_info(c(1)), LineError::InvalPointer);
    assert_eq!(s.status(3), CallStatus::Idle);

    // Another station still active: this one steps out (B1) and is
    // forgotten; the station can bridge in again with a new appearance.
    let mut s = Sim::new("");
    s.shared_two_active();
    assert_eq!(s.card.close_call(c(1)), Ok(()));
    s.check(&["state call#1 Connected/Inactive"]);
    s.check_far_end(&["alice Connected [station-2]"]);
    s.refused(|s| s.card.call_info(c(1)), LineError::InvalPointer);
    assert_eq!(s.hook(S1, OFF), Ok(()));
    s.check(&["new call#4 at 0", "state call#4 Connected/Active"]);
    assert_eq!(s.card.close_call(c(3)), Ok(()));
    s.check(&["state call#3 Idle"]);

    // A ringing appearance goes Idle locally; the caller is told nothing.
    let mut s = Sim::new("");
    assert_eq!(s.card.remote_offer(S1, "alice", &[]), Ok(c(1)));
    s.recording.take();
    assert_eq!(s.card.close_call(c(1)), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&["alice Calling []"]);
    assert_eq!(s.hook(S2, OFF), Ok(()));
    s.check(&[
        "state call#2 Connected/Active",
        "state call#3 Connected/Inactive",
    ]);
    s.check_far_end(&["alice Connected [station-2]"]);

    // A dialling call is cancelled.
    let mut s = Sim::new("sharing=new");
    assert_eq!(s.card.make_call(r(1), S2, "bob"), Ok(c(1)));
    s.recording.take();
    assert_eq!(s.card.close_call(c(1)), Ok(()));
    s.check(&["state call#1 Idle"]);
    s.check_far_end(&[&format!("bob Released [] {CANCEL}")]);
}

/// SPEC Q1: call info after Idle, until the call is closed: address,
/// status, remote, no related calls, no UUI.
#[test]
fn q1_call_info_after_idle() {
    let mut s = Sim::new("sharing=private");
    let call = s.card.make_call(r(1), S3, "bob").map(drop);
    let answer = s.card.remote_answer(c(1));
    s.setup(&[("call", call), ("answer", answer)]);
    assert_eq!(s.drop_call(2, 1), Ok(()));
    let info = s.info(1);
    assert_eq!(
        (info.address, info.status, info.remote.as_str()),
        (S3, CallStatus::Idle, "bob")
    );
    assert_eq!(info.disconnect_mode, None);
    assert!(info.related.is_empty() && info.uui_received.is_empty() && info.uui_sent.is_empty());
    // A name seen again reuses its far-end record.
    assert_eq!(s.card.remote_offer(S3, "bob", &[]), Ok(c(2)));
    s.check_far_end(&[&format!("bob Calling [] {RELEASE}")]);
}
