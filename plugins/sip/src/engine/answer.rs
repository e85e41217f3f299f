//! The SDP answer to an INVITE's offer (RFC 3261 §13.3.1: a 2xx to an
//! INVITE with an offer MUST carry the answer). This line has no media:
//! RFC 3264 §6 answers such an offer with every stream rejected, one
//! `m=` line per offered one, in order, with port 0 and the offered
//! formats. SDP is read and written with the `sdp` crate (webrtc-rs),
//! never by hand.

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
    let answer = SessionDescription {
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
        // RFC 3264 §6: the answer's t= is the offer's.
        time_descriptions: if offer.time_descriptions.is_empty() {
            vec![TimeDescription::default()]
        } else {
            offer.time_descriptions.clone()
        },
        media_descriptions: rejected,
        ..SessionDescription::default()
    };
    Offer::Answer(answer.marshal())
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
}
