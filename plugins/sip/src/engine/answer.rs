//! SDP for a line without media (RFC 3261 §13.2.1, RFC 3264), read and
//! written with the `sdp` crate (webrtc-rs), never by hand:
//!
//! * the answer to an offer (in an INVITE, answered in our 2xx; or in the
//!   2xx to our offerless INVITE, answered in our ACK): every stream
//!   rejected, one `m=` line per offered one, in order, with port 0 and
//!   the offered formats (RFC 3264 §6);
//! * the offer our 2xx must make when the INVITE had none (§13.2.1): one
//!   audio stream with port 0, offered but not to be used (RFC 3264 §5.1).

use sdp::description::common::{Address, ConnectionInformation};
use sdp::description::media::{MediaDescription, MediaName, RangedPort};
use sdp::description::session::{Origin, SessionDescription, TimeDescription};

/// What the engine makes of an INVITE's body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) enum Offer {
    /// No body: nothing to answer.
    None,
    /// An SDP offer, and the answer to it.
    Answer(String),
    /// A body that is not SDP we can read: the INVITE is refused with 488
    /// (RFC 3261 §13.3.1.3), saying why in the note.
    Unreadable(String),
}

/// The answer to `body` (of content type `content_type`), from `host`.
pub(super) fn answer(body: &[u8], content_type: Option<&str>, host: &str, id: u64) -> Offer {
    if body.is_empty() {
        return Offer::None;
    }
    let is_sdp = content_type.is_none_or(|t| {
        t.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case("application/sdp"))
    });
    if !is_sdp {
        return Offer::Unreadable(format!(
            "a body of type {} (only application/sdp is understood)",
            content_type.unwrap_or_default()
        ));
    }
    let offer = match SessionDescription::unmarshal(&mut std::io::Cursor::new(body)) {
        Ok(offer) => offer,
        Err(error) => {
            return Offer::Unreadable(format!("an SDP offer that does not parse: {error}"));
        }
    };
    let rejected = offer
        .media_descriptions
        .iter()
        .map(|media| MediaDescription {
            media_name: MediaName {
                media: media.media_name.media.clone(),
                port: RangedPort {
                    value: 0,
                    range: None,
                },
                protos: media.media_name.protos.clone(),
                formats: media.media_name.formats.clone(),
            },
            ..MediaDescription::default()
        })
        .collect();
    // RFC 3264 §6: the answer's t= is the offer's.
    let mut answer = session(host, id, offer.time_descriptions.clone());
    answer.media_descriptions = rejected;
    Offer::Answer(answer.marshal())
}

/// The offer of a 2xx to an INVITE that made none (see the module
/// documentation), from `host`.
pub(super) fn offer(host: &str, id: u64) -> String {
    let mut session = session(host, id, Vec::new());
    session.media_descriptions = vec![MediaDescription {
        media_name: MediaName {
            media: "audio".to_owned(),
            port: RangedPort {
                value: 0,
                range: None,
            },
            protos: vec!["RTP".to_owned(), "AVP".to_owned()],
            formats: vec!["0".to_owned()],
        },
        ..MediaDescription::default()
    }];
    session.marshal()
}

/// Our session description, from `host`, with `times` (the offer's t=, or
/// the one `t=0 0`).
fn session(host: &str, id: u64, times: Vec<TimeDescription>) -> SessionDescription {
    SessionDescription {
        origin: Origin {
            username: "cleardown".to_owned(),
            session_id: id,
            session_version: id,
            network_type: "IN".to_owned(),
            address_type: "IP4".to_owned(),
            unicast_address: host.to_owned(),
        },
        session_name: "-".to_owned(),
        connection_information: Some(ConnectionInformation {
            network_type: "IN".to_owned(),
            address_type: "IP4".to_owned(),
            address: Some(Address {
                address: "0.0.0.0".to_owned(),
                ttl: None,
                range: None,
            }),
        }),
        time_descriptions: if times.is_empty() {
            vec![TimeDescription::default()]
        } else {
            times
        },
        ..SessionDescription::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3264 §6: one rejected m= line per offered one, in order, port
    /// 0, the offered formats; the offer's t= line; and it parses back.
    #[test]
    fn rfc3264_6_every_offered_stream_is_rejected() {
        let offer = "v=0\r\no=alice 2890844526 2890844526 IN IP4 host.example\r\ns=-\r\n\
                     c=IN IP4 192.0.2.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8\r\n\
                     a=rtpmap:0 PCMU/8000\r\nm=video 51372 RTP/AVP 31\r\n";
        let Offer::Answer(text) =
            answer(offer.as_bytes(), Some("application/sdp"), "line.example", 7)
        else {
            panic!("an answer");
        };
        let parsed = SessionDescription::unmarshal(&mut std::io::Cursor::new(text.as_bytes()))
            .expect("the answer parses");
        let lines: Vec<String> = parsed
            .media_descriptions
            .iter()
            .map(|m| m.media_name.to_string())
            .collect();
        assert_eq!(lines, ["audio 0 RTP/AVP 0 8", "video 0 RTP/AVP 31"]);
        assert!(text.contains("t=0 0\r\n"), "{text}");
        assert_eq!(answer(b"", None, "h", 1), Offer::None);
        assert!(matches!(
            answer(b"not sdp at all", Some("application/sdp"), "h", 1),
            Offer::Unreadable(_)
        ));
        assert!(matches!(
            answer(b"<xml/>", Some("application/xml"), "h", 1),
            Offer::Unreadable(_)
        ));
    }

    /// RFC 3261 §13.2.1, RFC 3264 §5.1: the offer of a line without
    /// media is one audio stream with port 0; it parses, and answering it
    /// rejects that one stream.
    #[test]
    fn rfc3261_13_2_1_the_offer_of_a_line_without_media() {
        let text = offer("line.example", 3);
        let parsed = SessionDescription::unmarshal(&mut std::io::Cursor::new(text.as_bytes()))
            .expect("the offer parses");
        let lines: Vec<String> = parsed
            .media_descriptions
            .iter()
            .map(|m| m.media_name.to_string())
            .collect();
        assert_eq!(lines, ["audio 0 RTP/AVP 0"]);
        let Offer::Answer(answered) = answer(text.as_bytes(), None, "far.example", 4) else {
            panic!("an answer");
        };
        assert!(answered.contains("m=audio 0 RTP/AVP 0\r\n"), "{answered}");
    }
}
