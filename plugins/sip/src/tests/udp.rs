//! The UDP transport against a peer socket on loopback: real datagrams,
//! real time, bounded waits.

use std::net::{SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use cleardown_sdk::testing::{Recording, Reported};
use cleardown_sdk::*;
use rsipstack::rsip::SipMessage;
use rsipstack::rsip::prelude::*;

use super::*;
use crate::Sip;
// ---- UDP ------------------------------------------------------------------------

/// The far end of the UDP tests: a socket on loopback.
struct Peer {
    socket: UdpSocket,
    line: SocketAddr,
}

const WAIT: Duration = Duration::from_secs(3);

impl Peer {
    fn send(&self, text: &str) {
        self.socket
            .send_to(text.as_bytes(), self.line)
            .expect("send");
    }

    /// The next SIP message from the line matching `wanted` (others, such
    /// as retransmissions, are skipped), within [`WAIT`].
    #[track_caller]
    fn expect(&self, what: &str, wanted: impl Fn(&SipMessage) -> bool) -> SipMessage {
        let deadline = Instant::now() + WAIT;
        let mut buffer = vec![0u8; 65_535];
        while Instant::now() < deadline {
            let Ok((length, _)) = self.socket.recv_from(&mut buffer) else {
                continue;
            };
            let message = parse(&String::from_utf8_lossy(&buffer[..length]));
            if wanted(&message) {
                return message;
            }
        }
        panic!("no {what} from the line within {WAIT:?}");
    }

    #[track_caller]
    fn expect_response(&self, code: u16, method: rsipstack::rsip::Method) -> SipMessage {
        self.expect(&format!("{code} to {method}"), |m| match m {
            SipMessage::Response(response) => {
                response.status_code.code() == code
                    && response
                        .cseq_header()
                        .ok()
                        .and_then(|h| h.typed().ok())
                        .map(|c| c.method)
                        == Some(method)
            }
            SipMessage::Request(_) => false,
        })
    }

    #[track_caller]
    fn expect_request(&self, method: rsipstack::rsip::Method) -> SipMessage {
        self.expect(
            &format!("{method}"),
            |m| matches!(m, SipMessage::Request(request) if request.method == method),
        )
    }
}

/// A line on `transport=udp` with port 0, and a peer socket it talks to.
fn udp_line() -> (Sip, Recording, Peer) {
    let socket = UdpSocket::bind("127.0.0.1:0").expect("bind the peer");
    socket
        .set_read_timeout(Some(Duration::from_millis(100)))
        .expect("timeout");
    let peer = socket.local_addr().expect("peer address");
    let (sip, recording) =
        Recording::open::<Sip>(&format!("transport=udp;bind=127.0.0.1:0;peer={peer}"));
    let line = sip.local_addr().expect("udp has an address");
    assert_ne!(line.port(), 0, "the chosen port is discoverable");
    (sip, recording, Peer { socket, line })
}

/// Waits (bounded) until the recording holds `expected` reports, in order.
#[track_caller]
fn wait_reports(recording: &Recording, expected: &[&str]) {
    let deadline = Instant::now() + WAIT;
    loop {
        let got: Vec<String> = recording
            .snapshot()
            .iter()
            .map(Reported::to_string)
            .collect();
        if got.len() >= expected.len() || Instant::now() > deadline {
            recording.assert_reported(expected);
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

fn invite_text(line: SocketAddr, peer: SocketAddr, call_id: &str, branch: &str) -> String {
    format!(
        "INVITE sip:app@{line} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {peer};branch={branch}\r\n\
         From: \"Sam\" <sip:sam@{peer}>;tag=p1\r\n\
         To: <sip:app@{line}>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:sam@{peer}>\r\n\
         User-to-User: 0401;encoding=hex\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// UDP: an inbound INVITE is Offering; garbage, a truncated header, an
/// 8 KiB header (513) and a BYE for an unknown Call-ID (481) arrive while
/// it is up and disturb nothing; the call is answered (the 200 repeats
/// until our ACK), hung up by the peer (S3) and dropped (D6).
#[test]
fn udp_inbound_call_survives_bad_traffic() {
    let (mut sip, recording, peer) = udp_line();
    let me = peer.socket.local_addr().expect("address");
    peer.send(&invite_text(peer.line, me, "u1@peer", "z9hG4bKu1"));
    peer.expect_response(100, rsipstack::rsip::Method::Invite);
    wait_reports(&recording, &["new call#1 at 0", "state call#1 Offering"]);
    assert_eq!(sip.call_info(c(1)).map(|i| i.uui_received), Ok(vec![4, 1]));
    assert_eq!(sip.call_info(c(1)).map(|i| i.remote), Ok("sam".to_owned()));

    peer.socket
        .send_to(b"\x00\x01garbage\xff", peer.line)
        .expect("send");
    peer.send("INVITE sip:app@x SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1;bra");
    let pad = "x".repeat(9 * 1024);
    peer.send(&format!(
        "OPTIONS sip:app@{} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKbig\r\n\
         From: <sip:sam@{me}>;tag=p2\r\nTo: <sip:app@{}>\r\nCall-ID: big@peer\r\n\
         CSeq: 1 OPTIONS\r\nX-Pad: {pad}\r\nContent-Length: 0\r\n\r\n",
        peer.line, peer.line
    ));
    peer.expect_response(513, rsipstack::rsip::Method::Options);
    peer.send(&STRAY_BYE.replace(
        "Via: SIP/2.0/UDP far.invalid",
        &format!("Via: SIP/2.0/UDP {me}"),
    ));
    peer.expect_response(481, rsipstack::rsip::Method::Bye);
    // The same INVITE again: the last response, no second call.
    peer.send(&invite_text(peer.line, me, "u1@peer", "z9hG4bKu1"));
    peer.expect_response(100, rsipstack::rsip::Method::Invite);
    recording.assert_reported(&[]);

    assert_eq!(sip.answer(r(1), c(1)), Ok(()));
    recording.assert_reported(&["state call#1 Connected/Active", "complete request#1 Ok"]);
    let ok = peer.expect_response(200, rsipstack::rsip::Method::Invite);
    let again = peer.expect_response(200, rsipstack::rsip::Method::Invite);
    assert_eq!(ok, again, "the 200 repeats until the ACK");
    let to = ok.to_header().expect("To").value().to_owned();
    let ack = format!(
        "ACK sip:line-1@{} SIP/2.0\r\nVia: SIP/2.0/UDP {me};branch=z9hG4bKu2\r\n\
         From: \"Sam\" <sip:sam@{me}>;tag=p1\r\nTo: {to}\r\nCall-ID: u1@peer\r\n\
         CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n",
        peer.line
    );
    peer.send(&ack);
    let bye = ack
        .replace("ACK sip", "BYE sip")
        .replace("1 ACK", "2 BYE")
        .replace("z9hG4bKu2", "z9hG4bKu3")
        .replace(
            "Content-Length",
            "Reason: Q.850;cause=17\r\nUser-to-User: 0462;encoding=hex\r\nContent-Length",
        );
    peer.send(&bye);
    peer.expect_response(200, rsipstack::rsip::Method::Bye);
    wait_reports(&recording, &["state call#1 Disconnected/Busy"]);
    assert_eq!(
        sip.call_info(c(1)).map(|i| i.uui_received),
        Ok(vec![4, 0x62])
    );
    assert_eq!(sip.drop_call(r(2), c(1), NORMAL, &[]), Ok(()));
    recording.assert_reported(&["state call#1 Idle", "complete request#2 Ok"]);
    assert_eq!(sip.close_call(c(1)), Ok(()));
}

/// UDP: an outbound call rings and is answered (ACK), then dropped with
/// UUI: the BYE carries Reason and User-to-User, and the Reply waits for
/// the peer's 200. The stimuli are refused; the far-end view is empty.
#[test]
fn udp_outbound_call_and_drop() {
    let (mut sip, recording, peer) = udp_line();
    assert_eq!(
        sip.remote_offer(LINE, "x", &[]),
        Err(LineError::OperationUnavail)
    );
    assert_eq!(
        sip.remote_hang_up(c(1), 16, &[]),
        Err(LineError::OperationUnavail)
    );
    assert_eq!(sip.far_end(), Err(LineError::OperationUnavail));
    assert_eq!(sip.make_call(r(1), LINE, "bob"), Ok(c(1)));
    recording.assert_reported(&[
        "new call#1 at 0 by request#1",
        "state call#1 Dialing",
        "state call#1 Proceeding",
        "complete request#1 Ok",
    ]);
    let SipMessage::Request(invite) = peer.expect_request(rsipstack::rsip::Method::Invite) else {
        unreachable!("a request");
    };
    assert_eq!(
        invite.uri.to_string(),
        format!("sip:bob@{}", peer.socket.local_addr().expect("a"))
    );
    let respond = |code: u16, extra: Vec<rsipstack::rsip::Header>| {
        let response = message::response(&invite, code, Some("b1"), extra);
        peer.send(&response.to_string());
    };
    respond(180, Vec::new());
    wait_reports(&recording, &["state call#1 Ringback"]);
    let contact = rsipstack::rsip::Header::Other(
        "Contact".into(),
        format!("<sip:bob@{}>", peer.socket.local_addr().expect("a")),
    );
    respond(200, vec![contact]);
    wait_reports(&recording, &["state call#1 Connected/Active"]);
    let SipMessage::Request(ack) = peer.expect_request(rsipstack::rsip::Method::Ack) else {
        unreachable!("a request");
    };
    assert_eq!(
        ack.to_header()
            .expect("To")
            .typed()
            .expect("To")
            .tag()
            .map(|t| t.value().to_owned()),
        Some("b1".to_owned())
    );

    assert_eq!(
        sip.drop_call(r(2), c(1), NORMAL, &[0x04, 0x62, 0x79, 0x65]),
        Ok(())
    );
    recording.assert_reported(&["state call#1 Idle"]);
    let SipMessage::Request(bye) = peer.expect_request(rsipstack::rsip::Method::Bye) else {
        unreachable!("a request");
    };
    let text = bye.to_string();
    assert_eq!(other(&text, "Reason").as_deref(), Some("Q.850;cause=16"));
    assert_eq!(
        other(&text, "User-to-User").as_deref(),
        Some("04627965;encoding=hex")
    );
    recording.assert_reported(&[]);
    peer.send(&message::response(&bye, 200, None, Vec::new()).to_string());
    wait_reports(&recording, &["complete request#2 Ok"]);
}

/// UDP: an unanswered outbound call is cancelled; the 487 is ACKed and
/// the Reply follows it.
#[test]
fn udp_cancel_of_a_ringing_call() {
    let (mut sip, recording, peer) = udp_line();
    sip.make_call(r(1), LINE, "cy").expect("call");
    recording.take();
    let SipMessage::Request(invite) = peer.expect_request(rsipstack::rsip::Method::Invite) else {
        unreachable!("a request");
    };
    peer.send(&message::response(&invite, 180, Some("c1"), Vec::new()).to_string());
    wait_reports(&recording, &["state call#1 Ringback"]);
    sip.drop_call(r(2), c(1), NORMAL, &[]).expect("drop");
    recording.assert_reported(&["state call#1 Idle"]);
    let SipMessage::Request(cancel) = peer.expect_request(rsipstack::rsip::Method::Cancel) else {
        unreachable!("a request");
    };
    peer.send(&message::response(&cancel, 200, Some("c1"), Vec::new()).to_string());
    peer.send(&message::response(&invite, 487, Some("c1"), Vec::new()).to_string());
    let SipMessage::Request(ack) = peer.expect_request(rsipstack::rsip::Method::Ack) else {
        unreachable!("a request");
    };
    assert_eq!(branch(&ack.to_string()), branch(&invite.to_string()));
    wait_reports(&recording, &["complete request#2 Ok"]);
}

/// SPEC L3: a UDP address that cannot be bound is a refusal naming it.
#[test]
fn udp_bind_failure_is_a_sentence() {
    let taken = UdpSocket::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address");
    let refusal = Sip::open(
        &format!("transport=udp;bind={address};peer=127.0.0.1:9"),
        Recording::new().reporter(),
    )
    .err()
    .unwrap_or_default();
    assert!(
        refusal.starts_with(&format!("sip cannot bind UDP {address}")),
        "{refusal}"
    );
}
