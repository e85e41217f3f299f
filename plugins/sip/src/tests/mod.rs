//! White-box tests of the SIP line, one per SPEC rule or §10 mapping.
//! The memory transport's tests assert the reports and the exact messages
//! that crossed its wire (start line, CSeq, Reason, User-to-User); the UDP
//! tests play the far end themselves with a socket on loopback, every read
//! with a timeout and every loop bounded.

use cleardown_sdk::testing::Recording;
use cleardown_sdk::{
    AddressId, CallId, CallStatus, DisconnectCode, DisconnectMode, LineError, Provider,
    RemoteParty, RequestId, hex_bytes,
};
use rsipstack::rsip::SipMessage;
use rsipstack::rsip::prelude::*;

use crate::Sip;
use crate::engine::{Engine, Output, TIMEOUT};
use crate::memory::WireEntry;
use crate::message;

const LINE: AddressId = AddressId(0);
const NORMAL: DisconnectCode = DisconnectCode::Normal;

fn r(n: u64) -> RequestId {
    RequestId(n)
}

fn c(n: u64) -> CallId {
    CallId(n)
}

/// One wire entry as `-> START-LINE (CSEQ)`.
fn summary(entry: &WireEntry) -> String {
    let arrow = if entry.outbound { "->" } else { "<-" };
    let start = entry.text.lines().next().unwrap_or_default();
    let cseq = parse(&entry.text)
        .cseq_header()
        .map(|cseq| cseq.value().to_owned())
        .unwrap_or_default();
    format!("{arrow} {start} ({cseq})")
}

fn parse(text: &str) -> SipMessage {
    SipMessage::try_from(text).unwrap_or_else(|error| panic!("not SIP ({error}):\n{text}"))
}

/// The value of header `name` (Reason, User-to-User), as rsip parsed it.
fn other(text: &str, name: &str) -> Option<String> {
    parse(text)
        .headers()
        .iter()
        .find(|header| header.name().eq_ignore_ascii_case(name))
        .map(|header| header.value().to_owned())
}

fn branch(text: &str) -> String {
    let via = parse(text)
        .via_header()
        .expect("a Via")
        .typed()
        .expect("a typed Via");
    via.branch()
        .map(|b| b.value().to_owned())
        .unwrap_or_default()
}

fn to_tag(text: &str) -> Option<String> {
    let to = parse(text)
        .to_header()
        .expect("a To")
        .typed()
        .expect("a typed To");
    to.tag().map(|tag| tag.value().to_owned())
}

/// `name state [connected_to] kind cause uui; ...`
fn render_party(party: &RemoteParty) -> String {
    let received: Vec<String> = party
        .received
        .iter()
        .map(|s| format!("{} {} {}", s.kind, s.cause, hex_bytes::encode(&s.uui)))
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

/// The memory transport with its reports and wire, checked step by step.
struct Line {
    sip: Sip,
    recording: Recording,
    /// Wire entries already checked.
    seen: usize,
}

impl Line {
    fn new() -> Line {
        let (sip, recording) = Recording::open("");
        Line {
            sip,
            recording,
            seen: 0,
        }
    }

    /// The reports since the last check must be exactly `expected`.
    #[track_caller]
    fn check(&self, expected: &[&str]) {
        self.recording.assert_reported(expected);
    }

    /// The wire entries since the last check, taken.
    fn wire(&mut self) -> Vec<WireEntry> {
        let all = self.sip.mem().wire();
        let new = all.get(self.seen..).unwrap_or_default().to_vec();
        self.seen = all.len();
        new
    }

    /// The messages since the last check must be exactly `expected`
    /// (see [`summary`]); returns their texts.
    #[track_caller]
    fn check_wire(&mut self, expected: &[&str]) -> Vec<String> {
        let new = self.wire();
        let summaries: Vec<String> = new.iter().map(summary).collect();
        assert_eq!(summaries, expected);
        new.into_iter().map(|entry| entry.text).collect()
    }

    #[track_caller]
    fn check_far_end(&self, expected: &[&str]) {
        let parties: Vec<String> = self
            .sip
            .far_end()
            .expect("far-end view")
            .iter()
            .map(render_party)
            .collect();
        assert_eq!(parties, expected);
    }

    /// A connected outbound call to `to`; its reports and wire unchecked.
    fn connected(&mut self, to: &str) -> CallId {
        let call = self.sip.make_call(r(900), LINE, to).expect("make_call");
        self.sip.remote_answer(call).expect("remote_answer");
        self.recording.take();
        self.wire();
        call
    }

    /// An offered inbound call from `from`; its reports and wire unchecked.
    fn offered(&mut self, from: &str) -> CallId {
        let call = self
            .sip
            .remote_offer(LINE, from, &[])
            .expect("remote_offer");
        self.recording.take();
        self.wire();
        call
    }
}

// ---- declaration and configuration ---------------------------------------

/// SPEC L2: one private line, accept/answer/drop, UUI 128, reject_by_drop,
/// close_drop.
#[test]
fn l2_declares_one_sip_line() {
    let line = Line::new();
    let info = line.sip.info();
    assert_eq!(info.name, "sip");
    let caps = info.capabilities;
    assert_eq!(
        (caps.uui_drop_size, caps.reject_by_drop, caps.close_drop),
        (128, true, true)
    );
    let [address] = caps.addresses.as_slice() else {
        panic!("one address, not {:?}", caps.addresses);
    };
    assert_eq!(address.name, "line-1");
    assert!(!address.conf_drop);
    assert_eq!(address.sharing, cleardown_sdk::Sharing::Private);
    assert_eq!(address.features.names(), ["accept", "answer", "drop"]);
    assert!(Sip::open("transport=tcp", Recording::new().reporter()).is_err());
}

/// SPEC X1: unknown addresses and calls, malformed names, and the
/// operations a SIP line does not have, with nothing reported or sent.
#[test]
fn x1_refusals_change_nothing() {
    let mut line = Line::new();
    assert_eq!(line.sip.open_line(LINE), Ok(()));
    assert_eq!(
        line.sip.open_line(AddressId(1)),
        Err(LineError::InvalPointer)
    );
    let refusals = [
        line.sip.make_call(r(1), AddressId(1), "bob").err(),
        line.sip.make_call(r(1), LINE, "").err(),
        line.sip.make_call(r(1), LINE, "bob smith").err(),
        line.sip.make_call(r(1), LINE, "bob;lr").err(),
        line.sip.remote_offer(LINE, "", &[]).err(),
        line.sip.remote_offer(LINE, "a@b", &[]).err(),
        line.sip.drop_call(r(1), c(42), NORMAL, &[]).err(),
        line.sip.call_info(c(42)).err(),
        line.sip.close_call(c(42)).err(),
    ];
    assert!(
        refusals.iter().all(|e| *e == Some(LineError::InvalPointer)),
        "{refusals:?}"
    );
    let call = line.connected("bob");
    assert_eq!(line.sip.hold(r(2), call), Err(LineError::OperationUnavail));
    assert_eq!(
        line.sip.setup_conference(r(2), call, "carol"),
        Err(LineError::OperationUnavail)
    );
    assert_eq!(
        line.sip.setup_transfer(r(2), call, "carol"),
        Err(LineError::OperationUnavail)
    );
    assert_eq!(
        line.sip.station_hook(LINE, true),
        Err(LineError::OperationUnavail)
    );
    assert_eq!(line.sip.answer(r(2), call), Err(LineError::InvalCallState));
    assert_eq!(line.sip.accept(r(2), call), Err(LineError::InvalCallState));
    assert_eq!(
        line.sip.remote_offer(LINE, "x", &[0; 129]),
        Err(LineError::UserUserInfoTooBig)
    );
    line.check(&[]);
    line.check_wire(&[]);
}

// ---- outbound calls -----------------------------------------------------------

/// §10 make_call: INVITE, then 100 → Proceeding, 180 → Ringback, 200 → ACK
/// and Connected; the request completes once the INVITE is out.
#[test]
fn outbound_invite_rings_and_is_answered() {
    let mut line = Line::new();
    assert_eq!(line.sip.make_call(r(1), LINE, "alice"), Ok(c(1)));
    line.check(&[
        "new call#1 at 0 by request#1",
        "state call#1 Dialing",
        "state call#1 Proceeding",
        "complete request#1 Ok",
    ]);
    let texts = line.check_wire(&[
        "-> INVITE sip:alice@far.invalid SIP/2.0 (1 INVITE)",
        "<- SIP/2.0 100 Trying (1 INVITE)",
    ]);
    let invite = parse(&texts[0]);
    assert_eq!(
        invite.call_id_header().map(|h| h.value().to_owned()).ok(),
        Some("1@cleardown.invalid".to_owned())
    );
    assert_eq!(branch(&texts[0]), "z9hG4bKb1");
    assert_eq!(
        invite.from_header().map(|h| h.value().to_owned()).ok(),
        Some("<sip:line-1@cleardown.invalid>;tag=t1".to_owned())
    );
    assert_eq!(
        invite.contact_header().map(|h| h.value().to_owned()).ok(),
        Some("<sip:line-1@cleardown.invalid>".to_owned())
    );
    line.check_far_end(&["alice Ringing []"]);

    assert_eq!(line.sip.remote_alert(c(1)), Ok(()));
    line.check(&["state call#1 Ringback"]);
    line.check_wire(&["<- SIP/2.0 180 Ringing (1 INVITE)"]);
    assert_eq!(line.sip.remote_alert(c(1)), Err(LineError::InvalCallState));

    assert_eq!(line.sip.remote_answer(c(1)), Ok(()));
    line.check(&["state call#1 Connected/Active"]);
    let texts = line.check_wire(&[
        "<- SIP/2.0 200 OK (1 INVITE)",
        "-> ACK sip:alice@far.invalid SIP/2.0 (1 ACK)",
    ]);
    assert_eq!(to_tag(&texts[1]).as_deref(), Some("ft1"));
    assert_ne!(
        branch(&texts[1]),
        "z9hG4bKb1",
        "a 2xx ACK is a new transaction"
    );
    line.check_far_end(&["alice Connected [line-1]"]);
    assert_eq!(line.sip.remote_answer(c(1)), Err(LineError::InvalCallState));
    let info = line.sip.call_info(c(1)).expect("info");
    assert_eq!(
        (info.remote.as_str(), info.status),
        ("alice", CallStatus::connected())
    );
}

/// §10, S3: a final error to our INVITE is ACKed (same branch) and is
/// Disconnected with the mode of its Q.850 cause; the drop then sends
/// nothing (D6).
#[test]
fn s3_far_rejects_our_invite() {
    let mut line = Line::new();
    let call = line.sip.make_call(r(1), LINE, "bob").expect("call");
    line.recording.take();
    line.wire();
    assert_eq!(line.sip.remote_hang_up(call, 17, &[0x04, 0x42]), Ok(()));
    line.check(&["state call#1 Disconnected/Busy"]);
    let texts = line.check_wire(&[
        "<- SIP/2.0 486 Busy Here (1 INVITE)",
        "-> ACK sip:bob@far.invalid SIP/2.0 (1 ACK)",
    ]);
    assert_eq!(
        other(&texts[0], "Reason").as_deref(),
        Some("Q.850;cause=17")
    );
    assert_eq!(
        branch(&texts[1]),
        branch(&texts[0]),
        "an error ACK stays in the transaction"
    );
    let info = line.sip.call_info(call).expect("info");
    assert_eq!(info.disconnect_mode, Some(DisconnectMode::Busy));
    assert_eq!(info.uui_received, [0x04, 0x42]);
    assert_eq!(line.sip.drop_call(r(2), call, NORMAL, &[1]), Ok(()));
    line.check(&["state call#1 Idle", "complete request#2 Ok"]);
    line.check_wire(&[]);
    assert_eq!(line.sip.call_info(call).map(|i| i.uui_sent), Ok(Vec::new()));
    line.check_far_end(&["bob Released []"]);
}

/// §10: without a Q.850 Reason the status code picks the mode.
#[test]
fn s3_final_response_codes_without_reason() {
    let cases = [
        (486, DisconnectMode::Busy),
        (600, DisconnectMode::Busy),
        (603, DisconnectMode::Reject),
        (480, DisconnectMode::NoAnswer),
        (404, DisconnectMode::BadAddress),
        (500, DisconnectMode::Unavail),
    ];
    for (code, mode) in cases {
        let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), true);
        engine.make_call(r(1), LINE, "bob").expect("call");
        let invite = sent_requests(&mut engine).remove(0);
        engine.receive(
            message::response(&invite, code, Some("x"), Vec::new()).into(),
            None,
        );
        let out = engine.take_output();
        let states: Vec<_> = out
            .iter()
            .filter_map(|o| match o {
                Output::State { status, .. } => Some(*status),
                _ => None,
            })
            .collect();
        assert_eq!(states, [CallStatus::Disconnected { mode }], "{code}");
    }
}

/// D5, §10: dropping a connected call sends BYE with `Reason:
/// Q.850;cause=16`; Idle at once, the Reply when the 200 arrives (D4).
#[test]
fn d5_drop_connected_sends_bye_with_reason() {
    let mut line = Line::new();
    let call = line.connected("alice");
    assert_eq!(line.sip.drop_call(r(1), call, NORMAL, &[]), Ok(()));
    line.check(&["state call#1 Idle", "complete request#1 Ok"]);
    let texts = line.check_wire(&[
        "-> BYE sip:alice@far.invalid SIP/2.0 (2 BYE)",
        "<- SIP/2.0 200 OK (2 BYE)",
    ]);
    assert_eq!(
        other(&texts[0], "Reason").as_deref(),
        Some("Q.850;cause=16")
    );
    assert_eq!(other(&texts[0], "User-to-User"), None);
    line.check_far_end(&["alice Released [] Release 16"]);
    let far = line.sip.far_end().expect("far-end view");
    assert_eq!(far[0].received[0].wire, texts[0].replace("\r\n", "\n"));
    assert_eq!(
        line.sip.drop_call(r(2), call, NORMAL, &[]),
        Err(LineError::InvalCallState)
    );
}

/// U3: the UUI reaches the far end byte for byte, as lower-case hex with
/// `encoding=hex` (RFC 7433), discriminator first, 00 and ff intact.
#[test]
fn u3_uui_on_bye_byte_for_byte() {
    let mut line = Line::new();
    let call = line.connected("alice");
    let uui = [0x04, 0x00, 0x7f, 0xff, 0xAB];
    assert_eq!(line.sip.drop_call(r(1), call, NORMAL, &uui), Ok(()));
    let texts = line.check_wire(&[
        "-> BYE sip:alice@far.invalid SIP/2.0 (2 BYE)",
        "<- SIP/2.0 200 OK (2 BYE)",
    ]);
    assert_eq!(
        other(&texts[0], "User-to-User").as_deref(),
        Some("04007fffab;encoding=hex")
    );
    assert_eq!(
        line.sip.far_end().expect("far-end view")[0].received[0].uui,
        uui
    );
    assert_eq!(
        line.sip.call_info(call).map(|i| i.uui_sent),
        Ok(uui.to_vec())
    );
}

/// U2: 128 bytes of UUI go out whole; 129 are refused with nothing sent,
/// reported or changed.
#[test]
fn u2_uui_of_128_accepted_129_refused() {
    let mut line = Line::new();
    let call = line.connected("alice");
    let max: Vec<u8> = (0..=127).collect();
    let over: Vec<u8> = (0..=128).collect();
    assert_eq!(
        line.sip.drop_call(r(1), call, NORMAL, &over),
        Err(LineError::UserUserInfoTooBig)
    );
    line.check(&[]);
    line.check_wire(&[]);
    assert_eq!(
        line.sip.call_info(call).map(|i| i.status),
        Ok(CallStatus::connected())
    );
    assert_eq!(line.sip.drop_call(r(2), call, NORMAL, &max), Ok(()));
    line.check(&["state call#1 Idle", "complete request#2 Ok"]);
    let texts = line.check_wire(&[
        "-> BYE sip:alice@far.invalid SIP/2.0 (2 BYE)",
        "<- SIP/2.0 200 OK (2 BYE)",
    ]);
    let expected = format!("{};encoding=hex", hex_bytes::encode(&max));
    assert_eq!(other(&texts[0], "User-to-User"), Some(expected));
    assert_eq!(
        line.sip.far_end().expect("far-end view")[0].received[0].uui,
        max
    );
}

/// D7: dropping at Proceeding and at Ringback cancels: CANCEL (the
/// INVITE's branch, Reason, UUI), Idle at once; the 200 and the 487 are
/// absorbed, the 487 ACKed, and the Reply follows the 487.
#[test]
fn d7_drop_unanswered_outbound_cancels() {
    let mut line = Line::new();
    let a = line.sip.make_call(r(1), LINE, "alice").expect("call");
    line.recording.take();
    let invite = line.wire().remove(0).text;
    assert_eq!(line.sip.drop_call(r(2), a, NORMAL, &[0x04, 0x01]), Ok(()));
    line.check(&["state call#1 Idle", "complete request#2 Ok"]);
    let texts = line.check_wire(&[
        "-> CANCEL sip:alice@far.invalid SIP/2.0 (1 CANCEL)",
        "<- SIP/2.0 200 OK (1 CANCEL)",
        "<- SIP/2.0 487 Request Terminated (1 INVITE)",
        "-> ACK sip:alice@far.invalid SIP/2.0 (1 ACK)",
    ]);
    assert_eq!(branch(&texts[0]), branch(&invite));
    assert_eq!(
        other(&texts[0], "User-to-User").as_deref(),
        Some("0401;encoding=hex")
    );
    assert_eq!(
        other(&texts[0], "Reason").as_deref(),
        Some("Q.850;cause=16")
    );

    let b = line.sip.make_call(r(3), LINE, "bob").expect("call");
    line.sip.remote_alert(b).expect("alert");
    line.recording.take();
    line.wire();
    assert_eq!(line.sip.drop_call(r(4), b, NORMAL, &[]), Ok(()));
    line.check(&["state call#2 Idle", "complete request#4 Ok"]);
    let texts = line.check_wire(&[
        "-> CANCEL sip:bob@far.invalid SIP/2.0 (1 CANCEL)",
        "<- SIP/2.0 200 OK (1 CANCEL)",
        "<- SIP/2.0 487 Request Terminated (1 INVITE)",
        "-> ACK sip:bob@far.invalid SIP/2.0 (1 ACK)",
    ]);
    assert_eq!(other(&texts[0], "User-to-User"), None);
    line.check_far_end(&[
        "alice Released [] Cancel 16 0401",
        "bob Released [] Cancel 16",
    ]);
    assert_eq!(line.sip.remote_answer(b), Err(LineError::InvalCallState));
}

/// D7 with a 200 crossing the CANCEL: ACK, then BYE with Reason and the
/// drop's UUI; still one Idle, and the Reply when the BYE is answered.
#[test]
fn d7_answer_crossing_the_cancel_is_acked_and_byed() {
    let mut line = Line::new();
    let call = line.sip.make_call(r(1), LINE, "alice").expect("call");
    line.sip.remote_alert(call).expect("alert");
    line.recording.take();
    line.wire();
    let sip_call_id = line.sip.mem().engine.view(call).expect("view").sip_call_id;
    line.sip.mem().hold_outbound(true);
    assert_eq!(
        line.sip.drop_call(r(2), call, NORMAL, &[0x04, 0x09]),
        Ok(())
    );
    line.check(&["state call#1 Idle"]);
    // The far end answers before our CANCEL reaches it.
    assert!(line.sip.mem().far_mut().answer(&sip_call_id));
    line.sip.mem().settle();
    line.check(&[]);
    line.sip.mem().hold_outbound(false);
    line.check(&["complete request#2 Ok"]);
    let texts = line.check_wire(&[
        "-> CANCEL sip:alice@far.invalid SIP/2.0 (1 CANCEL)",
        "<- SIP/2.0 200 OK (1 INVITE)",
        "-> ACK sip:alice@far.invalid SIP/2.0 (1 ACK)",
        "-> BYE sip:alice@far.invalid SIP/2.0 (2 BYE)",
        "<- SIP/2.0 200 OK (1 CANCEL)",
        "<- SIP/2.0 200 OK (2 BYE)",
    ]);
    assert_eq!(
        other(&texts[3], "Reason").as_deref(),
        Some("Q.850;cause=16")
    );
    assert_eq!(
        other(&texts[3], "User-to-User").as_deref(),
        Some("0409;encoding=hex")
    );
    line.check_far_end(&["alice Released [] Release 16 0409"]);
}

// ---- inbound calls ------------------------------------------------------------

/// §10: an inbound INVITE is a new call in Offering after a 100 Trying;
/// its UUI is readable; accept sends 180, answer 200 (To-tag, Contact), and
/// the call is Connected when the 200 goes out; the ACK is absorbed.
#[test]
fn inbound_offer_accept_answer() {
    let mut line = Line::new();
    assert_eq!(
        line.sip.remote_offer(LINE, "carol", &[0x04, 0x63]),
        Ok(c(1))
    );
    line.check(&["new call#1 at 0", "state call#1 Offering"]);
    let texts = line.check_wire(&[
        "<- INVITE sip:line-1@cleardown.invalid SIP/2.0 (1 INVITE)",
        "-> SIP/2.0 100 Trying (1 INVITE)",
    ]);
    assert_eq!(
        other(&texts[0], "User-to-User").as_deref(),
        Some("0463;encoding=hex")
    );
    assert_eq!(to_tag(&texts[1]), None);
    let info = line.sip.call_info(c(1)).expect("info");
    assert_eq!(
        (info.remote.as_str(), info.uui_received),
        ("carol", vec![0x04, 0x63])
    );
    line.check_far_end(&["carol Calling []"]);

    assert_eq!(line.sip.accept(r(1), c(1)), Ok(()));
    line.check(&["state call#1 Accepted", "complete request#1 Ok"]);
    let texts = line.check_wire(&["-> SIP/2.0 180 Ringing (1 INVITE)"]);
    assert_eq!(to_tag(&texts[0]).as_deref(), Some("t1"));
    assert_eq!(line.sip.accept(r(2), c(1)), Err(LineError::InvalCallState));

    assert_eq!(line.sip.answer(r(3), c(1)), Ok(()));
    line.check(&["state call#1 Connected/Active", "complete request#3 Ok"]);
    let texts = line.check_wire(&[
        "-> SIP/2.0 200 OK (1 INVITE)",
        "<- ACK sip:line-1@cleardown.invalid SIP/2.0 (1 ACK)",
    ]);
    assert_eq!(to_tag(&texts[0]).as_deref(), Some("t1"));
    assert_eq!(
        parse(&texts[0])
            .contact_header()
            .map(|h| h.value().to_owned())
            .ok(),
        Some("<sip:line-1@cleardown.invalid>".to_owned())
    );
    line.check_far_end(&["carol Connected [line-1]"]);

    // Our BYE goes to the caller's Contact, From and To swapped.
    assert_eq!(line.sip.drop_call(r(4), c(1), NORMAL, &[]), Ok(()));
    line.check(&["state call#1 Idle", "complete request#4 Ok"]);
    line.check_wire(&[
        "-> BYE sip:carol@far.invalid SIP/2.0 (1 BYE)",
        "<- SIP/2.0 200 OK (1 BYE)",
    ]);
    line.check_far_end(&["carol Released [] Release 16"]);
}

/// R1, R3, U3: dropping an offered call rejects it: 603 for Normal and
/// Rejected, 486 for Busy, 480 for NoAnswer, with the UUI; Idle, the
/// Reply, and the far end's ACK absorbed.
#[test]
fn r1_r3_reject_by_drop_with_each_code() {
    let cases = [
        (NORMAL, "603 Decline", 21),
        (DisconnectCode::Rejected, "603 Decline", 21),
        (DisconnectCode::Busy, "486 Busy Here", 17),
        (DisconnectCode::NoAnswer, "480 Temporarily Unavailable", 19),
    ];
    for (code, status, cause) in cases {
        let mut line = Line::new();
        let call = line.offered("dave");
        line.sip.accept(r(1), call).expect("accept");
        line.recording.take();
        line.wire();
        assert_eq!(line.sip.drop_call(r(2), call, code, &[0x04, 0xee]), Ok(()));
        line.check(&["state call#1 Idle", "complete request#2 Ok"]);
        let texts = line.check_wire(&[
            &format!("-> SIP/2.0 {status} (1 INVITE)"),
            "<- ACK sip:line-1@cleardown.invalid SIP/2.0 (1 ACK)",
        ]);
        assert_eq!(
            other(&texts[0], "User-to-User").as_deref(),
            Some("04ee;encoding=hex")
        );
        assert_eq!(to_tag(&texts[0]).as_deref(), Some("t1"), "{code}");
        line.check_far_end(&[&format!("dave Released [] Reject {cause} 04ee")]);
        assert_eq!(
            line.sip.call_info(call).map(|i| i.uui_sent),
            Ok(vec![0x04, 0xee])
        );
        assert_eq!(line.sip.mem().engine.calls_kept(), 1, "kept until closed");
        assert_eq!(line.sip.close_call(call), Ok(()));
        assert_eq!(line.sip.mem().engine.calls_kept(), 0);
    }
}

/// R3: Rejected and Busy are only for offered calls; NoAnswer on a
/// connected call is a plain drop.
#[test]
fn r3_rejecting_codes_on_a_connected_call() {
    let mut line = Line::new();
    let call = line.connected("erin");
    for code in [DisconnectCode::Rejected, DisconnectCode::Busy] {
        assert_eq!(
            line.sip.drop_call(r(1), call, code, &[]),
            Err(LineError::InvalCallState)
        );
    }
    line.check(&[]);
    line.check_wire(&[]);
    assert_eq!(
        line.sip
            .drop_call(r(2), call, DisconnectCode::NoAnswer, &[]),
        Ok(())
    );
    line.check(&["state call#1 Idle", "complete request#2 Ok"]);
    line.check_wire(&[
        "-> BYE sip:erin@far.invalid SIP/2.0 (2 BYE)",
        "<- SIP/2.0 200 OK (2 BYE)",
    ]);
}

/// §10: the far end cancels its offered call: 200 to the CANCEL, 487 to
/// the INVITE, Disconnected with the Reason's mode and the UUI.
#[test]
fn s3_far_cancels_its_offered_call() {
    let mut line = Line::new();
    let call = line.offered("frank");
    assert_eq!(line.sip.remote_hang_up(call, 16, &[0x04, 0x77]), Ok(()));
    line.check(&["state call#1 Disconnected/Normal"]);
    let texts = line.check_wire(&[
        "<- CANCEL sip:line-1@cleardown.invalid SIP/2.0 (1 CANCEL)",
        "-> SIP/2.0 200 OK (1 CANCEL)",
        "-> SIP/2.0 487 Request Terminated (1 INVITE)",
        "<- ACK sip:line-1@cleardown.invalid SIP/2.0 (1 ACK)",
    ]);
    assert_eq!(to_tag(&texts[2]).as_deref(), Some("t1"));
    assert_eq!(
        line.sip.call_info(call).map(|i| i.uui_received),
        Ok(vec![0x04, 0x77])
    );
    assert_eq!(line.sip.answer(r(1), call), Err(LineError::InvalCallState));
    assert_eq!(line.sip.drop_call(r(2), call, NORMAL, &[]), Ok(()));
    line.check(&["state call#1 Idle", "complete request#2 Ok"]);
    line.check_wire(&[]);
    line.check_far_end(&["frank Released []"]);
}

/// S3, U5, D6: the far end's BYE is answered 200 and is Disconnected with
/// its cause's mode; its UUI is readable before and after the drop, which
/// sends nothing.
#[test]
fn s3_u5_far_bye_then_drop_sends_nothing() {
    let mut line = Line::new();
    let call = line.offered("gina");
    line.sip.answer(r(1), call).expect("answer");
    line.recording.take();
    line.wire();
    let uui = [0x04, 0x62, 0x79, 0x65, 0x00, 0xff];
    assert_eq!(line.sip.remote_hang_up(call, 16, &uui), Ok(()));
    line.check(&["state call#1 Disconnected/Normal"]);
    let texts = line.check_wire(&[
        "<- BYE sip:line-1@cleardown.invalid SIP/2.0 (2 BYE)",
        "-> SIP/2.0 200 OK (2 BYE)",
    ]);
    assert_eq!(
        other(&texts[0], "Reason").as_deref(),
        Some("Q.850;cause=16")
    );
    assert_eq!(
        line.sip.call_info(call).map(|i| i.uui_received),
        Ok(uui.to_vec())
    );
    assert_eq!(
        line.sip.remote_hang_up(call, 16, &[]),
        Err(LineError::InvalCallState)
    );
    assert_eq!(
        line.sip.drop_call(r(2), call, NORMAL, &[0x04, 0x6f]),
        Ok(())
    );
    line.check(&["state call#1 Idle", "complete request#2 Ok"]);
    line.check_wire(&[]);
    let info = line.sip.call_info(call).expect("info");
    assert_eq!(
        (info.uui_received, info.uui_sent),
        (uui.to_vec(), Vec::new())
    );
    assert_eq!(info.disconnect_mode, Some(DisconnectMode::Normal));
    line.check_far_end(&["gina Released []"]);
}

/// §10: the Q.850 cause of the far end's BYE picks the disconnect mode.
#[test]
fn s3_far_hang_up_causes() {
    let cases = [
        (16, "Normal"),
        (17, "Busy"),
        (19, "NoAnswer"),
        (21, "Reject"),
        (99, "Unknown"),
    ];
    for (cause, mode) in cases {
        let mut line = Line::new();
        let call = line.connected("hal");
        assert_eq!(line.sip.remote_hang_up(call, cause, &[]), Ok(()));
        line.check(&[&format!("state call#1 Disconnected/{mode}")]);
        let texts = line.check_wire(&[
            "<- BYE sip:line-1@cleardown.invalid SIP/2.0 (1 BYE)",
            "-> SIP/2.0 200 OK (1 BYE)",
        ]);
        assert_eq!(
            other(&texts[0], "Reason"),
            Some(format!("Q.850;cause={cause}"))
        );
    }
}

/// S1: glare — our BYE is out when the far end's BYE arrives: it gets 200,
/// the call ends once (one Idle, no Disconnected after it), and our Reply
/// comes with our BYE's final response.
#[test]
fn s1_bye_glare_ends_the_call_once() {
    let mut line = Line::new();
    let call = line.connected("ivan");
    let sip_call_id = line.sip.mem().engine.view(call).expect("view").sip_call_id;
    line.sip.mem().hold_outbound(true);
    assert_eq!(line.sip.drop_call(r(1), call, NORMAL, &[]), Ok(()));
    line.check(&["state call#1 Idle"]);
    assert!(line.sip.mem().far_mut().hang_up(&sip_call_id, 16, &[]));
    line.sip.mem().settle();
    line.check(&[]);
    line.sip.mem().hold_outbound(false);
    line.check(&["complete request#1 Ok"]);
    line.check_wire(&[
        "-> BYE sip:ivan@far.invalid SIP/2.0 (2 BYE)",
        "<- BYE sip:line-1@cleardown.invalid SIP/2.0 (1 BYE)",
        "-> SIP/2.0 200 OK (1 BYE)",
        "<- SIP/2.0 200 OK (2 BYE)",
    ]);
    assert_eq!(
        line.sip.call_info(call).map(|i| i.status),
        Ok(CallStatus::Idle)
    );
    assert_eq!(
        line.sip.call_info(call).map(|i| i.disconnect_mode),
        Ok(None)
    );
}

// ---- what arrives unasked -----------------------------------------------------

const STRAY_BYE: &str = "BYE sip:line-1@cleardown.invalid SIP/2.0\r\n\
    Via: SIP/2.0/UDP far.invalid;branch=z9hG4bKstray\r\n\
    From: <sip:nobody@far.invalid>;tag=n1\r\n\
    To: <sip:line-1@cleardown.invalid>;tag=t99\r\n\
    Call-ID: unknown@far.invalid\r\n\
    CSeq: 7 BYE\r\n\
    Content-Length: 0\r\n\r\n";

/// RFC 3261 §12.2.2: a BYE (or another in-dialog request) for a dialog we
/// do not have is answered 481; a CANCEL for no transaction too; OPTIONS
/// gets 200 and a method we do not implement 405, both with Allow. No
/// report, no call.
#[test]
fn requests_outside_any_call_are_answered() {
    let mut line = Line::new();
    let call = line.connected("judy");
    line.sip.mem().inject(STRAY_BYE);
    let texts = line.check_wire(&[
        "<- BYE sip:line-1@cleardown.invalid SIP/2.0 (7 BYE)",
        "-> SIP/2.0 481 Call/Transaction Does Not Exist (7 BYE)",
    ]);
    assert_eq!(to_tag(&texts[1]).as_deref(), Some("t99"));
    // The same BYE again gets the same answer.
    line.sip.mem().inject(STRAY_BYE);
    let again = line.check_wire(&[
        "<- BYE sip:line-1@cleardown.invalid SIP/2.0 (7 BYE)",
        "-> SIP/2.0 481 Call/Transaction Does Not Exist (7 BYE)",
    ]);
    assert_eq!(again[1], texts[1]);
    let cancel = STRAY_BYE
        .replace("BYE", "CANCEL")
        .replace("z9hG4bKstray", "z9hG4bKc");
    line.sip.mem().inject(&cancel);
    line.check_wire(&[
        "<- CANCEL sip:line-1@cleardown.invalid SIP/2.0 (7 CANCEL)",
        "-> SIP/2.0 481 Call/Transaction Does Not Exist (7 CANCEL)",
    ]);
    let options = STRAY_BYE
        .replace("BYE", "OPTIONS")
        .replace(";tag=t99", "")
        .replace("z9hG4bKstray", "z9hG4bKo");
    line.sip.mem().inject(&options);
    let texts = line.check_wire(&[
        "<- OPTIONS sip:line-1@cleardown.invalid SIP/2.0 (7 OPTIONS)",
        "-> SIP/2.0 200 OK (7 OPTIONS)",
    ]);
    let allow = parse(&texts[1]).headers().iter().find_map(|h| match h {
        rsipstack::rsip::Header::Allow(allow) => Some(allow.value().to_owned()),
        _ => None,
    });
    assert_eq!(allow.as_deref(), Some("INVITE, ACK, BYE, CANCEL, OPTIONS"));
    let info = STRAY_BYE
        .replace("BYE", "INFO")
        .replace("z9hG4bKstray", "z9hG4bKi");
    line.sip.mem().inject(&info);
    line.check_wire(&[
        "<- INFO sip:line-1@cleardown.invalid SIP/2.0 (7 INFO)",
        "-> SIP/2.0 405 Method Not Allowed (7 INFO)",
    ]);
    // What rsip cannot read is left alone (and noted).
    line.sip
        .mem()
        .inject("BYE sip:line-1@cleardown.invalid SIP/2.0\r\nVia: SIP/2.0/UDP x;bra");
    line.check_wire(&[]);
    assert_eq!(line.sip.mem().notes().len(), 1);
    line.check(&[]);
    assert_eq!(
        line.sip.call_info(call).map(|i| i.status),
        Ok(CallStatus::connected())
    );
}

/// A retransmitted INVITE (same branch) gets the last response again and
/// never makes a second call.
#[test]
fn retransmitted_invite_is_not_a_second_call() {
    let mut line = Line::new();
    let call = line.sip.remote_offer(LINE, "kim", &[]).expect("offer");
    line.recording.take();
    let invite = line.wire().remove(0).text;
    line.sip.mem().inject(&invite);
    line.check(&[]);
    line.check_wire(&[
        "<- INVITE sip:line-1@cleardown.invalid SIP/2.0 (1 INVITE)",
        "-> SIP/2.0 100 Trying (1 INVITE)",
    ]);
    line.sip.accept(r(1), call).expect("accept");
    line.recording.take();
    line.wire();
    line.sip.mem().inject(&invite);
    line.check(&[]);
    line.check_wire(&[
        "<- INVITE sip:line-1@cleardown.invalid SIP/2.0 (1 INVITE)",
        "-> SIP/2.0 180 Ringing (1 INVITE)",
    ]);
    // After the rejection, and after the host forgot the call.
    line.sip.drop_call(r(2), call, NORMAL, &[]).expect("drop");
    line.sip.close_call(call).expect("close");
    line.recording.take();
    line.wire();
    line.sip.mem().inject(&invite);
    line.check(&[]);
    line.check_wire(&[
        "<- INVITE sip:line-1@cleardown.invalid SIP/2.0 (1 INVITE)",
        "-> SIP/2.0 603 Decline (1 INVITE)",
        "<- ACK sip:line-1@cleardown.invalid SIP/2.0 (1 ACK)",
    ]);
    // Another INVITE with the same Call-ID but a new branch is a merged
    // request (RFC 3261 §8.2.2.2) while the call is known.
    let other_call = line.sip.remote_offer(LINE, "kim", &[]).expect("offer");
    line.recording.take();
    let invite = line.wire().remove(0).text;
    line.sip
        .mem()
        .inject(&invite.replace("z9hG4bKf", "z9hG4bKx"));
    line.check_wire(&[
        "<- INVITE sip:line-1@cleardown.invalid SIP/2.0 (1 INVITE)",
        "-> SIP/2.0 482 Loop Detected (1 INVITE)",
    ]);
    line.check(&[]);
    assert_eq!(
        line.sip.call_info(other_call).map(|i| i.status),
        Ok(CallStatus::Offering)
    );
}

// ---- closing and time ---------------------------------------------------------

/// T3: closing a live call drops it as its state requires (BYE, CANCEL,
/// 603), with no Reply; then it is forgotten, and so is everything the
/// engine kept for it once the wire is quiet.
#[test]
fn t3_close_call_drops_then_forgets() {
    let mut line = Line::new();
    let a = line.connected("lea");
    let b = line.sip.make_call(r(1), LINE, "max").expect("call");
    let d = line.offered("ned");
    line.recording.take();
    line.wire();
    assert_eq!(line.sip.close_call(a), Ok(()));
    assert_eq!(line.sip.close_call(b), Ok(()));
    assert_eq!(line.sip.close_call(d), Ok(()));
    line.check(&[
        "state call#1 Idle",
        "state call#2 Idle",
        "state call#3 Idle",
    ]);
    line.check_wire(&[
        "-> BYE sip:lea@far.invalid SIP/2.0 (2 BYE)",
        "<- SIP/2.0 200 OK (2 BYE)",
        "-> CANCEL sip:max@far.invalid SIP/2.0 (1 CANCEL)",
        "<- SIP/2.0 200 OK (1 CANCEL)",
        "<- SIP/2.0 487 Request Terminated (1 INVITE)",
        "-> ACK sip:max@far.invalid SIP/2.0 (1 ACK)",
        "-> SIP/2.0 603 Decline (1 INVITE)",
        "<- ACK sip:line-1@cleardown.invalid SIP/2.0 (1 ACK)",
    ]);
    for call in [a, b, d] {
        assert_eq!(
            line.sip.call_info(call).err(),
            Some(LineError::InvalPointer)
        );
    }
    assert_eq!(line.sip.mem().engine.calls_kept(), 0);
    line.check_far_end(&[
        "lea Released [] Release 16",
        "max Released [] Cancel 16",
        "ned Released [] Reject 21",
    ]);
}

/// T4, D3: a drop whose answer never comes still gets its Reply, when the
/// BYE's transaction times out (RFC 3261 Timer F, 64·T1), and call info
/// then says the release was never confirmed (`Unreachable`); a 200
/// nobody ACKs is sent again at T1, 2·T1, … up to T2 until Timer H, and
/// then the session is ended with a BYE and the app sees it go
/// Disconnected/Unreachable (§13.3.1.4).
#[test]
fn timers_never_wait_forever() {
    let mut line = Line::new();
    let call = line.connected("olga");
    line.sip.mem().hold_outbound(true);
    line.sip.drop_call(r(1), call, NORMAL, &[]).expect("drop");
    line.check(&["state call#1 Idle"]);
    assert_eq!(
        line.sip.call_info(call).map(|i| i.disconnect_mode),
        Ok(None)
    );
    line.sip.advance_time(TIMEOUT - 1).expect("time");
    line.check(&[]);
    line.sip.advance_time(1).expect("time");
    line.check(&["complete request#1 Ok"]);
    assert_eq!(
        line.sip.call_info(call).map(|i| i.disconnect_mode),
        Ok(Some(DisconnectMode::Unreachable))
    );

    let mut line = Line::new();
    let call = line.offered("pia");
    line.sip.mem().hold_outbound(true);
    line.sip.answer(r(1), call).expect("answer");
    line.check(&["state call#1 Connected/Active", "complete request#1 Ok"]);
    line.sip.advance_time(TIMEOUT - 1).expect("time");
    line.check(&[]);
    let oks = line
        .wire()
        .iter()
        .filter(|entry| entry.text.starts_with("SIP/2.0 200 OK"))
        .count();
    assert_eq!(
        oks, 11,
        "the 200 at 0 ms, then at 0.5, 1.5, 3.5, 7.5, 11.5 … 31.5 s (T1 doubling up to T2)"
    );
    line.sip.advance_time(1).expect("time");
    line.check(&["state call#1 Disconnected/Unreachable"]);
    let byes = line
        .wire()
        .iter()
        .filter(|entry| entry.text.starts_with("BYE "))
        .count();
    assert_eq!(byes, 1, "the session is ended with a BYE");
}

/// Determinism: the same scenario gives the same wire log, byte for byte.
#[test]
fn same_scenario_same_wire() {
    let run = || {
        let mut line = Line::new();
        let a = line.sip.make_call(r(1), LINE, "quinn").expect("call");
        line.sip.remote_alert(a).expect("alert");
        line.sip.remote_answer(a).expect("answer");
        let b = line.sip.remote_offer(LINE, "rita", &[4, 2]).expect("offer");
        line.sip
            .drop_call(r(2), b, DisconnectCode::Busy, &[4, 3])
            .expect("reject");
        line.sip.remote_hang_up(a, 17, &[4, 4]).expect("hang up");
        line.sip.drop_call(r(3), a, NORMAL, &[]).expect("drop");
        assert_eq!(line.sip.mem().notes(), [] as [String; 0]);
        let texts: Vec<String> = line.wire().into_iter().map(|e| e.to_string()).collect();
        (texts, line.recording.take())
    };
    let (first, reports) = run();
    assert_eq!(first.len(), 11, "{first:#?}");
    assert_eq!((first, reports), run());
}

// ---- the engine alone (sans I/O) ---------------------------------------------

fn host(name: &str) -> rsipstack::rsip::HostWithPort {
    rsipstack::rsip::Domain::from(name).into()
}

fn sent_requests(engine: &mut Engine) -> Vec<rsipstack::rsip::Request> {
    engine
        .take_output()
        .into_iter()
        .filter_map(|output| match output {
            Output::Send { message, .. } => match *message {
                SipMessage::Request(request) => Some(request),
                SipMessage::Response(_) => None,
            },
            _ => None,
        })
        .collect()
}

/// RFC 3261 §9.1: dropped before any response, the CANCEL waits for the
/// first provisional response; the call is Idle at once all the same.
#[test]
fn d7_cancel_waits_for_a_provisional_response() {
    let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), true);
    engine.make_call(r(1), LINE, "sam").expect("call");
    let invite = sent_requests(&mut engine).remove(0);
    engine.drop_call(r(2), c(1), NORMAL, &[]).expect("drop");
    let out = engine.take_output();
    assert!(
        matches!(
            out.as_slice(),
            [Output::State {
                status: CallStatus::Idle,
                ..
            }]
        ),
        "{out:?}"
    );
    engine.receive(
        message::response(&invite, 180, Some("x"), Vec::new()).into(),
        None,
    );
    let sent = sent_requests(&mut engine);
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].method, rsipstack::rsip::Method::Cancel);
    engine.receive(
        message::response(&invite, 487, Some("x"), Vec::new()).into(),
        None,
    );
    let out = engine.take_output();
    assert!(
        matches!(
            out.as_slice(),
            [Output::Send { .. }, Output::Complete { result: Ok(()), .. }]
        ),
        "{out:?}"
    );
}

/// RFC 3261 Timer B: an INVITE nobody answers at all fails after 64·T1
/// (Disconnected/Unreachable), rather than Proceeding for ever.
#[test]
fn an_invite_without_any_response_times_out() {
    let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), true);
    engine.make_call(r(1), LINE, "tom").expect("call");
    engine.take_output();
    engine.set_time(TIMEOUT - 1);
    assert!(engine.take_output().is_empty());
    engine.set_time(TIMEOUT);
    let out = engine.take_output();
    assert!(
        matches!(
            out.as_slice(),
            [Output::State {
                status: CallStatus::Disconnected {
                    mode: DisconnectMode::Unreachable
                },
                ..
            }]
        ),
        "{out:?}"
    );
}

/// Dropped before any response and nothing ever came: the Reply comes
/// when the engine stops waiting; a 200 that still arrives after that is
/// ACKed and ended with a BYE, and a late error response ACKed.
#[test]
fn d3_late_answers_after_giving_up_are_ended_properly() {
    for late in [200, 486] {
        let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), true);
        engine.make_call(r(1), LINE, "uma").expect("call");
        let invite = sent_requests(&mut engine).remove(0);
        engine.drop_call(r(2), c(1), NORMAL, &[]).expect("drop");
        engine.take_output();
        engine.set_time(TIMEOUT);
        let out = engine.take_output();
        assert!(
            matches!(
                out.as_slice(),
                [Output::Complete { result: Ok(()), .. }, ..]
            ),
            "{out:?}"
        );
        engine.receive(
            message::response(&invite, late, Some("u"), Vec::new()).into(),
            None,
        );
        let methods: Vec<rsipstack::rsip::Method> = sent_requests(&mut engine)
            .iter()
            .map(|r| r.method)
            .collect();
        let expected: &[rsipstack::rsip::Method] = if late == 200 {
            &[rsipstack::rsip::Method::Ack, rsipstack::rsip::Method::Bye]
        } else {
            &[rsipstack::rsip::Method::Ack]
        };
        assert_eq!(methods, expected, "{late}");
    }
}

const INBOUND_INVITE: &str = "INVITE sip:line-1@cleardown.invalid SIP/2.0\r\n\
    Via: SIP/2.0/UDP far.invalid;branch=z9hG4bKin\r\n\
    From: <sip:vic@far.invalid>;tag=v1\r\n\
    To: <sip:line-1@cleardown.invalid>\r\n\
    Call-ID: in@far.invalid\r\n\
    CSeq: 1 INVITE\r\n\
    Contact: <sip:vic@far.invalid>\r\n\
    Content-Length: 0\r\n\r\n";

/// RFC 3261 §15: dropped after our 200 but before its ACK, the BYE waits
/// for the ACK (the call is Idle at once); the Reply follows the BYE's 200.
#[test]
fn d5_bye_waits_for_the_ack_of_our_200() {
    let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), true);
    engine.receive(parse(INBOUND_INVITE), None);
    engine.answer(r(1), c(1)).expect("answer");
    engine.take_output();
    engine.drop_call(r(2), c(1), NORMAL, &[]).expect("drop");
    let out = engine.take_output();
    assert!(
        matches!(
            out.as_slice(),
            [Output::State {
                status: CallStatus::Idle,
                ..
            }]
        ),
        "{out:?}"
    );
    let ack = INBOUND_INVITE
        .replace("INVITE sip", "ACK sip")
        .replace("1 INVITE", "1 ACK")
        .replace("z9hG4bKin", "z9hG4bKin2")
        .replace(
            "To: <sip:line-1@cleardown.invalid>",
            "To: <sip:line-1@cleardown.invalid>;tag=t1",
        );
    engine.receive(parse(&ack), None);
    let bye = sent_requests(&mut engine).remove(0);
    assert_eq!(bye.method, rsipstack::rsip::Method::Bye);
    engine.receive(message::response(&bye, 200, None, Vec::new()).into(), None);
    let out = engine.take_output();
    assert!(
        matches!(out.as_slice(), [Output::Complete { result: Ok(()), .. }]),
        "{out:?}"
    );
}

mod bad_requests;
mod tcp;
mod transactions;
mod udp;
