//! The TCP transport against peer connections on loopback (RFC 3261 §18):
//! messages framed by Content-Length, responses on the request's
//! connection, and a connection that cannot be framed closed alone.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use cleardown_sdk::testing::{Recording, Reported};
use rsipstack::rsip::prelude::*;
use rsipstack::rsip::{Method, SipMessage};

use super::{NORMAL, c, parse, r};
use cleardown_sdk::Provider;

use crate::Sip;

const WAIT: Duration = Duration::from_secs(3);

/// One connection to the line, reading its messages off the stream.
struct Connection {
    stream: TcpStream,
    buffer: Vec<u8>,
}

impl Connection {
    fn open(line: std::net::SocketAddr) -> Connection {
        let stream = TcpStream::connect(line).expect("connect");
        stream
            .set_read_timeout(Some(Duration::from_millis(50)))
            .expect("timeout");
        Connection {
            stream,
            buffer: Vec::new(),
        }
    }

    fn send(&mut self, text: &str) {
        self.stream.write_all(text.as_bytes()).expect("write");
    }

    /// The next message on this connection, within [`WAIT`].
    #[track_caller]
    fn next(&mut self) -> SipMessage {
        let deadline = Instant::now() + WAIT;
        loop {
            if let Ok(Some(length)) = crate::tcp::frame(&self.buffer) {
                let bytes: Vec<u8> = self.buffer.drain(..length).collect();
                return parse(&String::from_utf8_lossy(&bytes));
            }
            assert!(Instant::now() < deadline, "no message within {WAIT:?}");
            let mut chunk = [0u8; 4096];
            if let Ok(n) = self.stream.read(&mut chunk) {
                assert_ne!(n, 0, "the line closed this connection");
                self.buffer.extend_from_slice(&chunk[..n]);
            }
        }
    }

    /// Whether the line closed this connection (within [`WAIT`]).
    fn closed(&mut self) -> bool {
        let deadline = Instant::now() + WAIT;
        let mut chunk = [0u8; 4096];
        while Instant::now() < deadline {
            match self.stream.read(&mut chunk) {
                Ok(0) => return true,
                Ok(_) => {}
                Err(e)
                    if matches!(
                        e.kind(),
                        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut
                    ) => {}
                Err(_) => return true,
            }
        }
        false
    }
}

fn status(message: &SipMessage) -> (u16, Method) {
    match message {
        SipMessage::Response(response) => (
            response.status_code.code(),
            response
                .cseq_header()
                .ok()
                .and_then(|h| h.typed().ok())
                .map_or(Method::Info, |c| c.method),
        ),
        SipMessage::Request(request) => (0, request.method),
    }
}

#[track_caller]
fn wait_reports(recording: &Recording, expected: &[&str]) {
    let deadline = Instant::now() + WAIT;
    while recording.snapshot().len() < expected.len() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(10));
    }
    let got: Vec<String> = recording
        .snapshot()
        .iter()
        .map(Reported::to_string)
        .collect();
    assert_eq!(got, expected);
    recording.take();
}

fn request(method: &str, cseq: u32, branch: &str, to_tag: &str) -> String {
    format!(
        "{method} sip:line-1@cleardown.invalid SIP/2.0\r\n\
         Via: SIP/2.0/TCP 127.0.0.1:5999;branch={branch}\r\n\
         From: <sip:tia@127.0.0.1>;tag=tt\r\n\
         To: <sip:line-1@cleardown.invalid>{to_tag}\r\n\
         Call-ID: tcp1@127.0.0.1\r\n\
         CSeq: {cseq} {method}\r\n\
         Contact: <sip:tia@127.0.0.1:5999;transport=tcp>\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// RFC 3261 §18 (SPEC S3, D6): an inbound call over a TCP connection is
/// answered and hung up by the peer; every response comes back on that
/// connection; a second connection sending what cannot be framed is
/// closed, and the call on the first is untouched.
#[test]
fn rfc3261_18_a_call_over_tcp_and_an_unframeable_connection_closed_alone() {
    let (mut sip, recording) =
        Recording::open::<Sip>("transport=tcp;bind=127.0.0.1:0;peer=127.0.0.1:9");
    let line = sip.local_addr().expect("tcp has an address");
    let mut first = Connection::open(line);
    // Two messages in one write, with a keep-alive CRLF before the first.
    let invite = request("INVITE", 1, "z9hG4bKt1", "");
    first.send(&format!("\r\n\r\n{invite}"));
    assert_eq!(status(&first.next()), (100, Method::Invite));
    wait_reports(&recording, &["new call#1 at 0", "state call#1 Offering"]);

    let mut bad = Connection::open(line);
    bad.send("OPTIONS sip:x SIP/2.0\r\nContent-Length: many\r\n\r\n");
    assert!(bad.closed(), "an unframeable stream is closed");

    assert_eq!(sip.answer(r(1), c(1)), Ok(()));
    let ok = first.next();
    assert_eq!(status(&ok), (200, Method::Invite));
    let via = ok.via_header().expect("Via").value().to_owned();
    assert!(via.starts_with("SIP/2.0/TCP"), "{via}");
    let tag = match &ok {
        SipMessage::Response(response) => response
            .to_header()
            .ok()
            .and_then(|t| t.typed().ok())
            .and_then(|t| t.tag().map(|tag| tag.value().to_owned()))
            .expect("a To tag"),
        SipMessage::Request(_) => unreachable!("a response"),
    };
    let to_tag = format!(";tag={tag}");
    let ack = request("ACK", 1, "z9hG4bKt2", &to_tag);
    let bye = request("BYE", 2, "z9hG4bKt3", &to_tag);
    first.send(&format!("{ack}{bye}"));
    assert_eq!(status(&first.next()), (200, Method::Bye));
    wait_reports(
        &recording,
        &[
            "state call#1 Connected/Active",
            "complete request#1 Ok",
            "state call#1 Disconnected/Normal",
        ],
    );
    assert_eq!(sip.drop_call(r(2), c(1), NORMAL, &[]), Ok(()));
    wait_reports(&recording, &["state call#1 Idle", "complete request#2 Ok"]);
}
