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

/// The methods of the requests the engine sent since the last look.
fn requests_sent(engine: &mut Engine) -> Vec<Method> {
    super::sent_requests(engine)
        .iter()
        .map(|r| r.method)
        .collect()
}

/// Lets time run to each of `times` (ms) and says at which of them a
/// request went out, and which.
fn resent_at(engine: &mut Engine, times: &[u64]) -> Vec<(u64, Vec<Method>)> {
    times
        .iter()
        .filter_map(|&t| {
            engine.set_time(t);
            let sent = requests_sent(engine);
            (!sent.is_empty()).then_some((t, sent))
        })
        .collect()
}

/// A 200 (or other `code`) to `request`, as the far end sends it.
fn answer_to(request: &rsipstack::rsip::Request, code: u16) -> SipMessage {
    crate::message::response(request, code, Some("far1"), Vec::new()).into()
}

/// Every T1 (500 ms) up to 40 s: each instant a retransmission can fall on.
fn half_seconds_to_40_s() -> Vec<u64> {
    (1..=80).map(|n| n * 500).collect()
}

/// RFC 3261 §17.1.1.2 (Timer A, B): over UDP our INVITE is sent again at
/// T1, 2·T1, 4·T1… while nothing has come back, and no more once a 100
/// arrives; with no response at all the call goes Disconnected/Unreachable
/// at 64·T1 (SPEC S3) and the INVITE stops. Over a reliable transport it
/// is never sent again.
#[test]
fn rfc3261_17_1_1_2_invites_are_retransmitted_until_a_response() {
    let mut engine = udp_engine();
    engine
        .make_call(super::r(1), super::LINE, "tom")
        .expect("call");
    engine.take_output();
    let resent: Vec<u64> = resent_at(&mut engine, &half_seconds_to_40_s())
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(resent, [500, 1_500, 3_500, 7_500, 15_500, 31_500]);
    assert_eq!(
        engine.call_info(c(1)).map(|i| i.status),
        Ok(cleardown_sdk::CallStatus::Disconnected {
            mode: cleardown_sdk::DisconnectMode::Unreachable
        })
    );

    let mut engine = udp_engine();
    engine
        .make_call(super::r(1), super::LINE, "tom")
        .expect("call");
    let invite_2 = super::sent_requests(&mut engine).remove(0);
    engine.set_time(500);
    assert_eq!(requests_sent(&mut engine), [Method::Invite]);
    engine.receive(answer_to(&invite_2, 100), None);
    assert!(resent_at(&mut engine, &half_seconds_to_40_s()).is_empty());

    let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), true);
    engine
        .make_call(super::r(1), super::LINE, "tom")
        .expect("call");
    engine.take_output();
    assert!(resent_at(&mut engine, &half_seconds_to_40_s()[..60]).is_empty());
}

/// An outbound call on `engine`, answered (200, ACKed): the INVITE.
fn connected(engine: &mut Engine) -> rsipstack::rsip::Request {
    engine
        .make_call(super::r(1), super::LINE, "olga")
        .expect("call");
    let invite = super::sent_requests(engine).remove(0);
    engine.receive(answer_to(&invite, 200), None);
    engine.take_output();
    invite
}

/// RFC 3261 §17.1.2.2 (Timer E, F): over UDP our BYE is sent again at T1,
/// 2·T1, 4·T1, then every T2 until its final response, and no more after
/// it (the drop's Reply comes then, SPEC D3). With no answer at all, the
/// Reply comes at 64·T1 and call info says the release was never
/// confirmed: Unreachable.
#[test]
fn rfc3261_17_1_2_2_a_bye_is_retransmitted_until_answered() {
    let mut engine = udp_engine();
    connected(&mut engine);
    engine
        .drop_call(super::r(2), c(1), super::NORMAL, &[])
        .expect("drop");
    let bye = super::sent_requests(&mut engine).remove(0);
    assert_eq!(bye.method, Method::Bye);
    let resent: Vec<u64> = resent_at(&mut engine, &half_seconds_to_40_s())
        .into_iter()
        .map(|(t, _)| t)
        .collect();
    assert_eq!(
        resent,
        [
            500, 1_500, 3_500, 7_500, 11_500, 15_500, 19_500, 23_500, 27_500, 31_500
        ]
    );
    assert_eq!(
        engine.call_info(c(1)).map(|i| i.disconnect_mode),
        Ok(Some(cleardown_sdk::DisconnectMode::Unreachable))
    );

    let mut engine = udp_engine();
    connected(&mut engine);
    engine
        .drop_call(super::r(2), c(1), super::NORMAL, &[])
        .expect("drop");
    let bye = super::sent_requests(&mut engine).remove(0);
    engine.set_time(1_500);
    assert_eq!(requests_sent(&mut engine), [Method::Bye, Method::Bye]);
    engine.receive(answer_to(&bye, 200), None);
    let done = engine.take_output();
    assert!(
        done.iter()
            .any(|o| matches!(o, Output::Complete { result: Ok(()), .. })),
        "{done:?}"
    );
    assert!(resent_at(&mut engine, &half_seconds_to_40_s()).is_empty());
    assert_eq!(engine.call_info(c(1)).map(|i| i.disconnect_mode), Ok(None));
}

/// RFC 3261 §9.1, §17.1.2.2: a CANCEL is a transaction of its own, sent
/// again over UDP until its 200; the drop (SPEC D7) completes on the 487
/// to the INVITE.
#[test]
fn rfc3261_9_1_a_cancel_is_retransmitted_until_its_200() {
    let mut engine = udp_engine();
    engine
        .make_call(super::r(1), super::LINE, "uma")
        .expect("call");
    let invite = super::sent_requests(&mut engine).remove(0);
    engine.receive(answer_to(&invite, 180), None);
    engine.take_output();
    engine
        .drop_call(super::r(2), c(1), super::NORMAL, &[])
        .expect("drop");
    let cancel = super::sent_requests(&mut engine).remove(0);
    assert_eq!(cancel.method, Method::Cancel);
    engine.set_time(500);
    assert_eq!(requests_sent(&mut engine), [Method::Cancel]);
    engine.receive(answer_to(&cancel, 200), None);
    assert!(resent_at(&mut engine, &[1_500, 3_500]).is_empty());
    engine.receive(answer_to(&invite, 487), None);
    let out = engine.take_output();
    assert!(
        out.iter()
            .any(|o| matches!(o, Output::Complete { result: Ok(()), .. })),
        "{out:?}"
    );
}

/// An offered call nobody answers does not ring for ever (issue 15: torture
/// INVITEs piled up as Offering calls): after `no_answer_ms` the caller is
/// told 480 and the app sees Disconnected/NoAnswer (SPEC S3); the app's
/// drop then sends nothing (D6). 0 means no limit.
#[test]
fn an_offered_call_nobody_answers_is_ended_after_no_answer_ms() {
    let mut engine = udp_engine();
    engine.set_no_answer(30_000);
    engine.receive(
        parse(&invite_from("a.example:5060", "z9hG4bKna", "na")),
        None,
    );
    engine.take_output();
    engine.set_time(29_999);
    assert!(outputs(&mut engine).is_empty());
    engine.set_time(30_000);
    assert_eq!(
        outputs(&mut engine),
        ["480 INVITE", "state call#1 Disconnected"]
    );
    assert_eq!(
        engine.call_info(c(1)).map(|i| i.disconnect_mode),
        Ok(Some(cleardown_sdk::DisconnectMode::NoAnswer))
    );
    engine
        .drop_call(super::r(1), c(1), super::NORMAL, &[])
        .expect("drop");
    assert_eq!(outputs(&mut engine), ["state call#1 Idle"]);

    let mut engine = udp_engine();
    engine.set_no_answer(0);
    engine.receive(
        parse(&invite_from("a.example:5060", "z9hG4bKnb", "nb")),
        None,
    );
    engine.take_output();
    engine.set_time(super::super::config::NO_ANSWER_MS * 10);
    assert_eq!(
        engine.call_info(c(1)).map(|i| i.status.state()),
        Ok(cleardown_sdk::CallState::Offering)
    );
}

/// RFC 3261 §13.3.1, RFC 3264 §6: the 200 to an INVITE with an SDP offer
/// carries the answer, every offered stream rejected (port 0) since the
/// line has no media; to an INVITE without one it carries an offer of its
/// own (§13.2.1), one audio stream with port 0.
#[test]
fn rfc3261_13_3_1_a_2xx_to_an_offer_carries_the_answer() {
    let offer = "v=0\r\no=kim 1 1 IN IP4 k.example\r\ns=-\r\nc=IN IP4 192.0.2.9\r\n\
                 t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n";
    let invite = invite_from("k.example:5060", "z9hG4bKsdp", "sdp").replace(
        "Content-Length: 0\r\n\r\n",
        &format!(
            "Content-Type: application/sdp\r\nContent-Length: {}\r\n\r\n{offer}",
            offer.len()
        ),
    );
    let mut engine = udp_engine();
    engine.receive(parse(&invite), None);
    engine.answer(super::r(1), c(1)).expect("answer");
    let ok = engine
        .take_output()
        .into_iter()
        .find_map(|o| match o {
            Output::Send { message, .. } => match *message {
                SipMessage::Response(r) if r.status_code.code() == 200 => Some(r),
                _ => None,
            },
            _ => None,
        })
        .expect("a 200");
    let body = String::from_utf8(ok.body.clone()).expect("text");
    assert!(body.contains("m=audio 0 RTP/AVP 0\r\n"), "{body}");
    let content_type = crate::message::header_value(&ok.headers, "Content-Type", "c");
    assert_eq!(content_type, Some("application/sdp"));
    let length = crate::message::header_value(&ok.headers, "Content-Length", "l");
    assert_eq!(length, Some(body.len().to_string().as_str()));

    let mut engine = udp_engine();
    engine.receive(
        parse(&invite_from("k.example:5060", "z9hG4bKno", "no")),
        None,
    );
    engine.take_output();
    engine.answer(super::r(1), c(1)).expect("answer");
    let bodies: Vec<String> = engine
        .take_output()
        .into_iter()
        .filter_map(|o| match o {
            Output::Send { message, .. } => match *message {
                SipMessage::Response(r) => Some(String::from_utf8_lossy(&r.body).into_owned()),
                SipMessage::Request(_) => None,
            },
            _ => None,
        })
        .collect();
    assert_eq!(bodies.len(), 1, "one 200");
    assert!(
        bodies[0].contains("m=audio 0 RTP/AVP 0\r\n"),
        "{}",
        bodies[0]
    );
}

/// RFC 3261 §13.2.1: our INVITE makes no offer, so a 2xx that carries one
/// is answered in the ACK, every stream rejected (port 0); a 2xx without
/// one gets a bare ACK.
#[test]
fn rfc3261_13_2_1_an_offer_in_the_2xx_is_answered_in_the_ack() {
    let offer = "v=0\r\no=far 5 5 IN IP4 far.example\r\ns=-\r\nc=IN IP4 192.0.2.7\r\n\
                 t=0 0\r\nm=audio 5004 RTP/AVP 8 0\r\n";
    for (body, expected) in [(offer, Some("m=audio 0 RTP/AVP 8 0\r\n")), ("", None)] {
        let mut engine = udp_engine();
        engine
            .make_call(super::r(1), super::LINE, "olga")
            .expect("call");
        let invite = super::sent_requests(&mut engine).remove(0);
        let ok = crate::message::response(&invite, 200, Some("far1"), Vec::new());
        let ok = if body.is_empty() {
            ok
        } else {
            crate::message::with_body(ok, "application/sdp", body.as_bytes().to_vec())
        };
        engine.receive(ok.into(), None);
        let ack = super::sent_requests(&mut engine).remove(0);
        assert_eq!(ack.method, Method::Ack);
        let text = String::from_utf8_lossy(&ack.body).into_owned();
        match expected {
            Some(line) => assert!(text.contains(line), "{text}"),
            None => assert!(text.is_empty(), "{text}"),
        }
    }
}
