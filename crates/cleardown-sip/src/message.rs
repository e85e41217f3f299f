//! Building and reading SIP messages with rsipstack's message layer
//! (`rsipstack::rsip`). Nothing here parses SIP text by hand: messages and
//! headers are rsipstack's; the parameters of `Reason` (RFC 3326) and
//! `User-to-User` (RFC 7433) values are read with its parameter parser,
//! and those headers are built as strings into its `Other` header.

use rsipstack::rsip::prelude::*;
use rsipstack::rsip::{
    Header, Headers, Method, Param, Request, Response, SipMessage, StatusCode, Uri,
};

use cleardown_contract::hex_bytes;

/// The methods this user agent implements (RFC 3261 §8.2.1 `Allow`).
pub const ALLOW: &str = "INVITE, ACK, BYE, CANCEL, OPTIONS";

/// A status code with the reason phrase of RFC 3261 §21 (rsip's own
/// rendering of known codes is the variant name, e.g. `RequestTerminated`).
pub fn status(code: u16) -> StatusCode {
    let phrase = match code {
        100 => "Trying",
        180 => "Ringing",
        183 => "Session Progress",
        200 => "OK",
        400 => "Bad Request",
        404 => "Not Found",
        405 => "Method Not Allowed",
        408 => "Request Timeout",
        480 => "Temporarily Unavailable",
        481 => "Call/Transaction Does Not Exist",
        482 => "Loop Detected",
        486 => "Busy Here",
        487 => "Request Terminated",
        488 => "Not Acceptable Here",
        500 => "Server Internal Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        513 => "Message Too Large",
        603 => "Decline",
        _ => "Unknown",
    };
    StatusCode::Other(code, phrase.to_owned())
}

/// `sip:USER@HOST`.
pub fn sip_uri(user: &str, host: &rsipstack::rsip::HostWithPort) -> Uri {
    Uri {
        scheme: Some(rsipstack::rsip::Scheme::Sip),
        auth: Some(rsipstack::rsip::Auth {
            user: user.to_owned(),
            password: None,
        }),
        host_with_port: host.clone(),
        ..Default::default()
    }
}

/// Whether `name` can stand as the user part of a SIP URI as it is, with
/// nothing to escape: RFC 3261 `unreserved` and most of `user-unreserved`.
/// `;`, `?` and `/` are left out, since they would read as URI parameters
/// or headers.
pub fn is_plain_user(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.!~*'()&=+$,".contains(c))
}

/// A Via for UDP (the far user agent's, and the memory wire's).
pub fn via(host: &rsipstack::rsip::HostWithPort, branch: &str) -> Header {
    via_over(rsipstack::rsip::Transport::Udp, host, branch)
}

/// A Via naming the transport the request goes over (RFC 3261 §18.1.1).
pub fn via_over(
    transport: rsipstack::rsip::Transport,
    host: &rsipstack::rsip::HostWithPort,
    branch: &str,
) -> Header {
    rsipstack::rsip::typed::Via {
        version: rsipstack::rsip::Version::V2,
        transport,
        uri: Uri {
            host_with_port: host.clone(),
            ..Default::default()
        },
        params: vec![rsipstack::rsip::Param::Branch(
            rsipstack::rsip::param::Branch::new(branch),
        )],
    }
    .into()
}

/// The parameters of a From or To with an optional tag.
fn tag_params(tag: Option<&str>) -> Vec<rsipstack::rsip::Param> {
    tag.map(|tag| rsipstack::rsip::Param::Tag(rsipstack::rsip::param::Tag::new(tag)))
        .into_iter()
        .collect()
}

pub fn from_header(uri: &Uri, tag: Option<&str>) -> Header {
    rsipstack::rsip::typed::From {
        display_name: None,
        uri: uri.clone(),
        params: tag_params(tag),
    }
    .into()
}

pub fn to_header(uri: &Uri, tag: Option<&str>) -> Header {
    rsipstack::rsip::typed::To {
        display_name: None,
        uri: uri.clone(),
        params: tag_params(tag),
    }
    .into()
}

pub fn contact(uri: &Uri) -> Header {
    rsipstack::rsip::typed::Contact {
        display_name: None,
        uri: uri.clone(),
        params: Vec::new(),
    }
    .into()
}

pub fn cseq(seq: u32, method: Method) -> Header {
    rsipstack::rsip::typed::CSeq { seq, method }.into()
}

pub fn call_id(id: &str) -> Header {
    rsipstack::rsip::headers::CallId::new(id).into()
}

/// `Reason: Q.850;cause=N` (RFC 3326).
pub fn reason(cause: u32) -> Header {
    Header::Other("Reason".into(), format!("Q.850;cause={cause}"))
}

/// `User-to-User: HEX;encoding=hex` (RFC 7433), lower-case hex.
pub fn user_to_user(uui: &[u8]) -> Header {
    Header::Other(
        "User-to-User".into(),
        format!("{};encoding=hex", hex_bytes::encode(uui)),
    )
}

pub fn allow() -> Header {
    rsipstack::rsip::headers::Allow::new(ALLOW).into()
}

/// The headers every request starts with, in RFC 3261 §8.1.1 order; the
/// caller appends its own and then [`finish`].
#[derive(Debug)]
pub struct RequestParts<'a> {
    pub method: Method,
    pub uri: &'a Uri,
    pub via: Header,
    pub from: Header,
    pub to: Header,
    pub call_id: &'a str,
    pub cseq: u32,
}

pub fn request(parts: RequestParts<'_>, extra: Vec<Header>) -> Request {
    let mut headers = Headers::default();
    headers.push(parts.via);
    headers.push(rsipstack::rsip::headers::MaxForwards::new("70").into());
    headers.push(parts.from);
    headers.push(parts.to);
    headers.push(call_id(parts.call_id));
    headers.push(cseq(parts.cseq, parts.method));
    headers.extend(extra);
    headers.push(rsipstack::rsip::headers::ContentLength::new("0").into());
    Request {
        method: parts.method,
        uri: parts.uri.clone(),
        version: rsipstack::rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// A response to `request` (RFC 3261 §8.2.6.2): its Vias, From, To (with
/// `to_tag` added when it has none), Call-ID and CSeq, then `extra`.
pub fn response(
    request: &Request,
    code: u16,
    to_tag: Option<&str>,
    extra: Vec<Header>,
) -> Response {
    let mut headers = Headers::default();
    for header in request.headers.iter() {
        match header {
            Header::Via(_) | Header::From(_) | Header::CallId(_) | Header::CSeq(_) => {
                headers.push(header.clone());
            }
            Header::To(to) => {
                let tagged = match (to_tag, to.typed()) {
                    (Some(tag), Ok(typed)) if typed.tag().is_none() => {
                        typed.with_tag(rsipstack::rsip::param::Tag::new(tag)).into()
                    }
                    _ => header.clone(),
                };
                headers.push(tagged);
            }
            _ => {}
        }
    }
    headers.extend(extra);
    headers.push(rsipstack::rsip::headers::ContentLength::new("0").into());
    Response {
        status_code: status(code),
        wire_reason: None,
        version: rsipstack::rsip::Version::V2,
        headers,
        body: Vec::new(),
    }
}

/// `response` carrying `body` of `content_type` (its Content-Length
/// made to match).
pub fn with_body(mut response: Response, content_type: &str, body: Vec<u8>) -> Response {
    attach(
        &mut response.headers,
        &mut response.body,
        content_type,
        body,
    );
    response
}

/// `request` carrying `body` of `content_type`, likewise.
pub fn request_with_body(mut request: Request, content_type: &str, body: Vec<u8>) -> Request {
    attach(&mut request.headers, &mut request.body, content_type, body);
    request
}

fn attach(headers: &mut Headers, into: &mut Vec<u8>, content_type: &str, body: Vec<u8>) {
    headers.retain(|h| !matches!(h, Header::ContentLength(_)));
    headers.push(Header::Other(
        "Content-Type".into(),
        content_type.to_owned(),
    ));
    headers.push(rsipstack::rsip::headers::ContentLength::new(body.len().to_string()).into());
    *into = body;
}

/// The value of the first header called `name` or its compact `short`
/// form (RFC 3261 §7.3.3), as it came.
pub fn header_value<'a>(headers: &'a Headers, name: &str, short: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|h| h.name().eq_ignore_ascii_case(name) || h.name().eq_ignore_ascii_case(short))
        .map(Header::value)
}

/// What every message we act on must carry, read with rsip's typed headers.
#[derive(Debug, Clone)]
pub struct Common {
    pub call_id: String,
    pub from_uri: Uri,
    pub from_tag: Option<String>,
    pub to_uri: Uri,
    pub to_tag: Option<String>,
    pub cseq_method: Method,
    /// The CSeq's sequence number.
    pub cseq: u32,
    /// The branch of the top Via (the transaction, RFC 3261 §17.2.3).
    pub branch: Option<String>,
    /// The sent-by of the top Via (`host[:port]`): with the branch and the
    /// method, what a server transaction is matched by (§17.2.3).
    pub sent_by: String,
}

impl Common {
    pub fn read(message: &impl HeadersExt) -> Result<Common, rsipstack::rsip::Error> {
        let from = message.from_header()?.typed()?;
        let to = message.to_header()?.typed()?;
        let cseq = message.cseq_header()?.typed()?;
        let via = message.via_header()?.typed()?;
        Ok(Common {
            call_id: message.call_id_header()?.value().to_owned(),
            from_tag: tag_of(&from.params),
            from_uri: from.uri,
            to_tag: tag_of(&to.params),
            to_uri: to.uri,
            cseq_method: cseq.method,
            cseq: cseq.seq,
            branch: via.branch().map(|branch| branch.value().to_owned()),
            sent_by: via.uri.host_with_port.to_string(),
        })
    }
}

/// The `tag` among a From or To header's parameters, read with the LWS
/// RFC 3261 allows around `=` (`tag = 98asjd8`, RFC 4475 §3.1.1.1 wsinv),
/// which rsip keeps in the parameter's name and value.
fn tag_of(params: &[Param]) -> Option<String> {
    params.iter().find_map(|param| match param {
        Param::Tag(tag) => Some(tag.value().to_owned()),
        Param::Other(name, Some(value)) if name.value().trim().eq_ignore_ascii_case("tag") => {
            Some(value.value().trim().to_owned())
        }
        _ => None,
    })
}

fn others<'a>(headers: &'a Headers, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    // rsipstack knows Reason (RFC 3326) and User-to-User (RFC 7433) as
    // typed headers; read any header by its name and raw value.
    headers
        .iter()
        .filter(move |header| header.name().eq_ignore_ascii_case(name))
        .map(Header::value)
}

/// A `name;param=value;…` header value (Reason, User-to-User): its name
/// and its parameters, read with rsip's parameter parser.
fn name_and_params(value: &str) -> Option<(&str, Vec<Param>)> {
    let (name, params) = value.split_once(';').unwrap_or((value, ""));
    Some((name.trim(), rsipstack::rsip::parse_params(params).ok()?))
}

/// The value of parameter `key` among `params`, if it has one.
fn param<'a>(params: &'a [Param], key: &str) -> Option<&'a str> {
    params.iter().find_map(|param| match param {
        Param::Other(name, value) if name.value().eq_ignore_ascii_case(key) => {
            value.as_ref().map(|v| v.value())
        }
        _ => None,
    })
}

/// The Q.850 cause of the `Reason` header(s), if any (RFC 3326). A header
/// may list several reasons, comma-separated.
pub fn q850_cause(headers: &Headers) -> Option<u32> {
    others(headers, "Reason")
        .flat_map(|value| value.split(','))
        .find_map(|reason| {
            let (protocol, params) = name_and_params(reason)?;
            if !protocol.eq_ignore_ascii_case("Q.850") {
                return None;
            }
            param(&params, "cause")?.trim().parse().ok()
        })
}

/// The user-to-user information of the `User-to-User` header (RFC 7433),
/// hex-decoded; `None` without one, or when it is not hex.
pub fn uui(headers: &Headers) -> Option<Vec<u8>> {
    others(headers, "User-to-User").find_map(|value| {
        let (data, params) = name_and_params(value)?;
        match param(&params, "encoding") {
            Some(encoding) if !encoding.trim().eq_ignore_ascii_case("hex") => None,
            _ => hex_bytes::decode(data).ok(),
        }
    })
}

/// The URI of the first Contact, if there is one that rsip can read.
pub fn contact_uri(message: &impl HeadersExt) -> Option<Uri> {
    let contact = message.contact_header().ok()?.typed().ok()?;
    Some(contact.uri)
}

/// The size of the header section as it would cross the wire.
pub fn header_bytes(headers: &Headers) -> usize {
    headers.to_string().len()
}

/// The text of a message as it crosses the wire.
pub fn wire_text(message: &SipMessage) -> String {
    message.to_string()
}

/// Serializes and parses back with rsip: what the far end receives is what
/// a real SIP stack would read from these bytes.
pub fn round_trip(message: &SipMessage) -> Result<(String, SipMessage), rsipstack::rsip::Error> {
    let text = wire_text(message);
    let parsed = SipMessage::try_from(text.as_str())?;
    Ok((text, parsed))
}
