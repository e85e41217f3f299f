//! Requests that are not what RFC 3261 allows get the response it says,
//! and change nothing (issue 15, problems 4 and 5; the invalid-message
//! cases of RFC 4475 §3.1.2 and §3.3 in shape): each is sent to an engine
//! with a call up, which is still up afterwards and ends normally.

use rsipstack::rsip::{Response, SipMessage};

use super::{c, host, r};
use crate::engine::{Engine, Output};

/// A request line and the headers after it, made whole with the headers
/// every request needs (unless `headers` replaces them).
fn request(first: &str, headers: &str) -> String {
    format!("{first}\r\n{headers}\r\n")
}

/// The usual headers of a request from `kim`, with `method` in CSeq.
fn usual(method: &str, call_id: &str) -> String {
    format!(
        "Via: SIP/2.0/UDP k.example:5060;branch=z9hG4bK{call_id}\r\n\
         From: <sip:kim@k.example>;tag=kt\r\n\
         To: <sip:line-1@cleardown.invalid>\r\n\
         Call-ID: {call_id}\r\n\
         CSeq: 7 {method}\r\n\
         Max-Forwards: 70\r\n"
    )
}

/// The responses the engine sent since the last look.
fn responses(engine: &mut Engine) -> Vec<Response> {
    engine
        .take_output()
        .into_iter()
        .filter_map(|output| match output {
            Output::Send { message, .. } => match *message {
                SipMessage::Response(response) => Some(response),
                SipMessage::Request(_) => None,
            },
            _ => None,
        })
        .collect()
}

fn header(response: &Response, name: &str) -> Option<String> {
    response
        .headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name))
        .map(|h| h.value().to_string())
}

/// The engine with an inbound call up, answered and acknowledged.
fn with_a_call_up() -> Engine {
    let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), false);
    let invite = request(
        "INVITE sip:line-1@cleardown.invalid SIP/2.0",
        &format!(
            "{}Contact: <sip:kim@k.example>\r\nContent-Length: 0\r\n",
            usual("INVITE", "up")
        ),
    );
    engine.receive_bytes(invite.as_bytes(), None).expect("SIP");
    engine.answer(r(1), c(1)).expect("answer");
    let ack = request(
        "ACK sip:line-1@cleardown.invalid SIP/2.0",
        &usual("ACK", "up")
            .replace("z9hG4bKup", "z9hG4bKupack")
            .replace(
                "To: <sip:line-1@cleardown.invalid>",
                "To: <sip:line-1@cleardown.invalid>;tag=t1",
            )
            .replace("CSeq: 7 ACK", "CSeq: 7 ACK\r\nContent-Length: 0"),
    );
    engine.receive_bytes(ack.as_bytes(), None).expect("SIP");
    engine.take_output();
    engine
}

/// Each case: a name, the request as sent, the status code due, and a
/// header that response must carry (name, a word its value contains).
type Case = (
    &'static str,
    String,
    u16,
    Option<(&'static str, &'static str)>,
);

fn cases() -> Vec<Case> {
    let invite = |extra: &str, call_id: &str| {
        request(
            "INVITE sip:line-1@cleardown.invalid SIP/2.0",
            &format!("{}{extra}", usual("INVITE", call_id)),
        )
    };
    vec![
        (
            "a version this agent does not speak (RFC 4475: badvers)",
            request(
                "INVITE sip:line-1@cleardown.invalid SIP/7.0",
                &format!("{}Content-Length: 0\r\n", usual("INVITE", "v7")),
            ),
            505,
            None,
        ),
        (
            "a negative Content-Length",
            invite("Content-Length: -999\r\n", "cl1"),
            400,
            None,
        ),
        (
            "a Content-Length larger than the body",
            invite("Content-Length: 9999\r\n", "cl2"),
            400,
            None,
        ),
        (
            "two different Content-Lengths",
            invite("Content-Length: 0\r\nContent-Length: 4\r\n", "cl3"),
            400,
            None,
        ),
        (
            "a Content-Length that is not a number",
            invite("Content-Length: abc\r\n", "cl4"),
            400,
            None,
        ),
        (
            "an unterminated quoted display name",
            request(
                "INVITE sip:line-1@cleardown.invalid SIP/2.0",
                &format!(
                    "{}Content-Length: 0\r\n",
                    usual("INVITE", "q1").replace("From: <sip:kim", "From: \"Kim <sip:kim")
                ),
            ),
            400,
            None,
        ),
        (
            "a CSeq whose method is not the request's",
            request(
                "INVITE sip:line-1@cleardown.invalid SIP/2.0",
                &format!("{}Content-Length: 0\r\n", usual("BYE", "cs1")),
            ),
            400,
            None,
        ),
        (
            "no Call-ID",
            request(
                "INVITE sip:line-1@cleardown.invalid SIP/2.0",
                &format!(
                    "{}Content-Length: 0\r\n",
                    usual("INVITE", "nc").replace("Call-ID: nc\r\n", "")
                ),
            ),
            400,
            None,
        ),
        (
            "a space in the Request-URI (a request line rsip cannot read)",
            request(
                "INVITE sip:line-1@cleardown invalid SIP/2.0",
                &format!("{}Content-Length: 0\r\n", usual("INVITE", "sp")),
            ),
            400,
            None,
        ),
        (
            "no SIP version on the request line",
            request(
                "INVITE sip:line-1@cleardown.invalid",
                &format!("{}Content-Length: 0\r\n", usual("INVITE", "nv")),
            ),
            400,
            None,
        ),
        (
            "a method nobody knows (501, with Allow)",
            request(
                "NEWMETHOD sip:line-1@cleardown.invalid SIP/2.0",
                &format!("{}Content-Length: 0\r\n", usual("NEWMETHOD", "nm")),
            ),
            501,
            Some(("Allow", "INVITE")),
        ),
        (
            "a method this agent does not allow (405, with Allow)",
            request(
                "REGISTER sip:cleardown.invalid SIP/2.0",
                &format!("{}Content-Length: 0\r\n", usual("REGISTER", "rg")),
            ),
            405,
            Some(("Allow", "BYE")),
        ),
        (
            "an offer that is not SDP it can read (488)",
            invite(
                "Content-Type: application/sdp\r\nContent-Length: 14\r\n\r\nnot sdp at all",
                "sd",
            )
            .trim_end_matches("\r\n")
            .to_owned(),
            488,
            None,
        ),
        (
            "an empty Via parameter (RFC 4475: badinv01)",
            request(
                "INVITE sip:line-1@cleardown.invalid SIP/2.0",
                &format!(
                    "{}Content-Length: 0\r\n",
                    usual("INVITE", "ev").replace(";branch=z9hG4bKev", ";;branch=z9hG4bKev")
                ),
            ),
            400,
            None,
        ),
        (
            "two To headers (RFC 4475: multi01)",
            invite("To: <sip:other@k.example>\r\nContent-Length: 0\r\n", "tt"),
            400,
            None,
        ),
        (
            "an unquoted display name with a comma (RFC 4475: baddn)",
            request(
                "INVITE sip:line-1@cleardown.invalid SIP/2.0",
                &format!(
                    "{}Content-Length: 0\r\n",
                    usual("INVITE", "dn").replace("From: <sip:kim", "From: Kim, K <sip:kim")
                ),
            ),
            400,
            None,
        ),
        (
            "a Request-URI in angle brackets (RFC 4475: ltgtruri)",
            request(
                "INVITE <sip:line-1@cleardown.invalid> SIP/2.0",
                &format!("{}Content-Length: 0\r\n", usual("INVITE", "lg")),
            ),
            400,
            None,
        ),
        (
            "a Request-URI scheme it does not serve (416)",
            request(
                "OPTIONS tel:+15551234 SIP/2.0",
                &format!("{}Content-Length: 0\r\n", usual("OPTIONS", "sc")),
            ),
            416,
            None,
        ),
        (
            "a body that is not SDP (415, with Accept)",
            invite(
                "Content-Type: text/plain\r\nContent-Length: 5\r\n\r\nhello",
                "ct",
            )
            .trim_end_matches("\r\n")
            .to_owned(),
            415,
            Some(("Accept", "application/sdp")),
        ),
        (
            "an Accept without SDP (406)",
            invite("Accept: text/plain\r\nContent-Length: 0\r\n", "ac"),
            406,
            None,
        ),
        (
            "a To tag written with LWS, for no dialog (481; RFC 4475: wsinv)",
            invite("Content-Length: 0\r\n", "wt").replace(
                "To: <sip:line-1@cleardown.invalid>",
                "To: <sip:line-1@cleardown.invalid> ;  tag  = 99",
            ),
            481,
            None,
        ),
        (
            "an extension it does not support required (420, with Unsupported)",
            invite(
                "Require: nothingweknow, 100rel\r\nContent-Length: 0\r\n",
                "rq",
            ),
            420,
            Some(("Unsupported", "nothingweknow")),
        ),
    ]
}

/// RFC 3261 §8.2.2.3, §8.2.1, §18.3, §21.4, §21.5 (SPEC X1: bad input
/// changes nothing): every bad request gets its response, no new call
/// appears, and the call that was up stays up and ends normally (D5).
#[test]
fn rfc3261_8_2_bad_requests_get_their_response_and_change_nothing() {
    for (name, text, code, carries) in cases() {
        let mut engine = with_a_call_up();
        engine
            .receive_bytes(text.as_bytes(), None)
            .unwrap_or_else(|e| panic!("{name}: not answered: {e}"));
        let out = engine.take_output();
        let new_calls = out
            .iter()
            .filter(|o| matches!(o, Output::NewCall { .. } | Output::State { .. }))
            .count();
        assert_eq!(new_calls, 0, "{name}: {out:?}");
        let sent: Vec<Response> = out
            .into_iter()
            .filter_map(|o| match o {
                Output::Send { message, .. } => match *message {
                    SipMessage::Response(response) => Some(response),
                    SipMessage::Request(_) => None,
                },
                _ => None,
            })
            .collect();
        let codes: Vec<u16> = sent.iter().map(|r| r.status_code.code()).collect();
        assert_eq!(codes, [code], "{name}");
        if let Some((header_name, word)) = carries {
            let value = header(&sent[0], header_name).unwrap_or_default();
            assert!(value.contains(word), "{name}: {header_name}: {value:?}");
        }
        assert_eq!(
            engine.call_info(c(1)).map(|i| i.status.state()),
            Ok(cleardown_sdk::CallState::Connected),
            "{name}: the call is unaffected"
        );
        engine
            .drop_call(r(2), c(1), super::NORMAL, &[])
            .unwrap_or_else(|e| panic!("{name}: drop: {e}"));
        let bye = super::sent_requests(&mut engine);
        assert_eq!(
            bye.iter().map(|r| r.method).collect::<Vec<_>>(),
            [rsipstack::rsip::Method::Bye],
            "{name}"
        );
    }
}

/// RFC 3261 §17.2.3 for RFC 2543 elements: an INVITE without a magic
/// cookie branch (here with no branch at all) is a call like any other;
/// its retransmission is recognised by Call-ID, CSeq, From tag and Via,
/// and its ACK stops our 200 (RFC 4475 counts such an INVITE among its valid messages).
#[test]
fn rfc3261_17_2_3_an_rfc2543_invite_is_a_call() {
    let mut engine = Engine::new(host("cleardown.invalid"), host("far.invalid"), false);
    let invite = request(
        "INVITE sip:line-1@cleardown.invalid SIP/2.0",
        "Via: SIP/2.0/UDP old.example:5060\r\n\
         From: <sip:kim@old.example>;tag=old1\r\n\
         To: <sip:line-1@cleardown.invalid>\r\n\
         Call-ID: old@old.example\r\n\
         CSeq: 8 INVITE\r\n\
         Content-Length: 0\r\n",
    );
    engine.receive_bytes(invite.as_bytes(), None).expect("SIP");
    let codes: Vec<u16> = responses(&mut engine)
        .iter()
        .map(|r| r.status_code.code())
        .collect();
    assert_eq!(codes, [100]);
    assert_eq!(
        engine.call_info(c(1)).map(|i| i.status.state()),
        Ok(cleardown_sdk::CallState::Offering)
    );
    engine.receive_bytes(invite.as_bytes(), None).expect("SIP");
    let again: Vec<u16> = responses(&mut engine)
        .iter()
        .map(|r| r.status_code.code())
        .collect();
    assert_eq!(again, [100], "a retransmission, not a second call");
    engine.answer(r(1), c(1)).expect("answer");
    engine.take_output();
    let ack = invite
        .replace("INVITE sip", "ACK sip")
        .replace("8 INVITE", "8 ACK")
        .replace(
            "To: <sip:line-1@cleardown.invalid>",
            "To: <sip:line-1@cleardown.invalid>;tag=t1",
        );
    engine.receive_bytes(ack.as_bytes(), None).expect("SIP");
    engine.set_time(crate::engine::TIMEOUT);
    assert!(responses(&mut engine).is_empty(), "the ACK stopped our 200");
}
