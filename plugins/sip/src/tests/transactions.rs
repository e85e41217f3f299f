//! RFC 3261's transaction layer on simulated time, engine by engine (sans
//! I/O): what a real network needs beyond a clean loopback (issue 15).
//! Each test names the RFC section it checks and the SPEC rule the app
//! sees it through.

use rsipstack::rsip::prelude::*;
use rsipstack::rsip::{Method, Response, SipMessage};

use super::{c, host, parse};
use crate::engine::{Engine, Output};

/// An inbound INVITE from `sent_by`, with `branch` and `call_id`.
fn invite_from(sent_by: &str, branch: &str, call_id: &str) -> String {
    format!(
        "INVITE sip:line-1@cleardown.invalid SIP/2.0\r\n\
         Via: SIP/2.0/UDP {sent_by};branch={branch}\r\n\
         From: <sip:kim@{sent_by}>;tag=k-{call_id}\r\n\
         To: <sip:line-1@cleardown.invalid>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 1 INVITE\r\n\
         Contact: <sip:kim@{sent_by}>\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// Everything the engine produced: responses as `CODE METHOD`, requests
/// as `METHOD`, reports as `new call#N` / `state call#N STATE`.
fn outputs(engine: &mut Engine) -> Vec<String> {
    engine
        .take_output()
        .into_iter()
        .filter_map(|output| match output {
            Output::Send { message, .. } => Some(match *message {
                SipMessage::Request(request) => request.method.to_string(),
                SipMessage::Response(response) => {
                    let method = cseq_method(&response);
                    format!("{} {method}", response.status_code.code())
                }
            }),
            Output::NewCall { call, .. } => Some(format!("new {call}")),
            Output::State { call, status } => Some(format!("state {call} {}", status.state())),
            Output::Complete { .. } | Output::Note(_) => None,
        })
        .collect()
}

fn cseq_method(response: &Response) -> Method {
    response
        .cseq_header()
        .ok()
        .and_then(|cseq| cseq.typed().ok())
        .map_or(Method::Info, |cseq| cseq.method)
}

/// An engine on an unreliable transport (UDP): it retransmits.
fn udp_engine() -> Engine {
    Engine::new(host("cleardown.invalid"), host("far.invalid"), false)
}

/// RFC 3261 §17.2.3: a server transaction is matched by the top Via's
/// branch *and* sent-by (and the method). An INVITE from another client
/// that happens to reuse a branch is a new call (SPEC S1, D4: its own
/// Offering), not a retransmission answered with the first call's
/// response; a true retransmission (same sent-by) still is one.
#[test]
fn rfc3261_17_2_3_a_reused_branch_from_another_client_is_a_new_call() {
    let mut engine = udp_engine();
    engine.receive(
        parse(&invite_from("a.example:5060", "z9hG4bKsame", "ca")),
        None,
    );
    assert_eq!(
        outputs(&mut engine),
        ["100 INVITE", "new call#1", "state call#1 Offering"]
    );
    engine.receive(
        parse(&invite_from("b.example:5060", "z9hG4bKsame", "cb")),
        None,
    );
    assert_eq!(
        outputs(&mut engine),
        ["100 INVITE", "new call#2", "state call#2 Offering"]
    );
    // The first client's retransmission is one, and gets its last answer.
    engine.receive(
        parse(&invite_from("a.example:5060", "z9hG4bKsame", "ca")),
        None,
    );
    assert_eq!(outputs(&mut engine), ["100 INVITE"]);
    // Each CANCEL finds its own INVITE: the second client's ends call#2.
    let cancel = invite_from("b.example:5060", "z9hG4bKsame", "cb")
        .replace("INVITE sip", "CANCEL sip")
        .replace("1 INVITE", "1 CANCEL");
    engine.receive(parse(&cancel), None);
    assert_eq!(
        outputs(&mut engine),
        ["200 CANCEL", "487 INVITE", "state call#2 Disconnected"]
    );
    assert_eq!(
        engine.call_info(c(1)).map(|i| i.status.state()),
        Ok(cleardown_sdk::CallState::Offering)
    );
}
