//! What a request must be before the engine acts on it, and the response
//! due when it is not (RFC 3261 §8.2, §18.3, §21; the invalid messages of
//! RFC 4475 §3.1.2). rsipstack parses leniently and leaves these to the
//! user agent: it reads `SIP/7.0` as a version, keeps every
//! `Content-Length` as text, accepts a CSeq naming another method and an
//! unterminated quoted display name, and refuses outright a request whose
//! method it does not know, which still deserves a 501.

use rsipstack::rsip::{Header, Method, Request, SipMessage, Version};

use crate::message::Common;

/// A request refused before anything else looks at it: the response code
/// and the headers it carries.
#[derive(Debug)]
pub(super) struct Refusal {
    pub(super) code: u16,
    pub(super) extra: Vec<Header>,
    /// Why, for the note.
    pub(super) why: String,
}

fn refuse(code: u16, why: impl Into<String>) -> Option<Refusal> {
    Some(Refusal {
        code,
        extra: Vec::new(),
        why: why.into(),
    })
}

/// The values of every header called `name` (or its compact form).
fn values<'a>(request: &'a Request, names: &'a [&str]) -> impl Iterator<Item = &'a str> + 'a {
    request
        .headers
        .iter()
        .filter(move |h| names.iter().any(|n| h.name().eq_ignore_ascii_case(n)))
        .map(Header::value)
}

/// Whether every `"` opening a quoted string in `value` is closed (a
/// backslash escapes the next character inside one).
fn quotes_balanced(value: &str) -> bool {
    let (mut inside, mut escaped) = (false, false);
    for c in value.chars() {
        match (inside, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => inside = !inside,
            _ => {}
        }
    }
    !inside
}

/// The extensions this agent supports (§8.2.2.3): none.
const SUPPORTED: &[&str] = &[];

/// The response `request` gets instead of being acted on, if any.
pub(super) fn refusal(request: &Request) -> Option<Refusal> {
    if request.version != Version::V2 {
        return refuse(505, format!("version {:?}", request.version));
    }
    let common = match Common::read(request) {
        Ok(common) => common,
        Err(error) => {
            return refuse(
                400,
                format!("a mandatory header is missing or bad: {error}"),
            );
        }
    };
    if common.cseq_method != request.method {
        return refuse(
            400,
            format!(
                "its CSeq names {} for a {} request",
                common.cseq_method, request.method
            ),
        );
    }
    let lengths: Vec<&str> = values(request, &["Content-Length", "l"]).collect();
    match lengths.as_slice() {
        [] => {}
        [one] => match one.trim().parse::<usize>() {
            Ok(length) if length <= request.body.len() => {}
            Ok(length) => {
                return refuse(
                    400,
                    format!(
                        "Content-Length {length} with a body of {}",
                        request.body.len()
                    ),
                );
            }
            Err(_) => return refuse(400, format!("Content-Length `{}`", one.trim())),
        },
        _ => return refuse(400, "more than one Content-Length"),
    }
    let quoted = ["From", "f", "To", "t", "Contact", "m"];
    if let Some(bad) = values(request, &quoted).find(|v| !quotes_balanced(v)) {
        return refuse(400, format!("an unterminated quoted string in `{bad}`"));
    }
    if !matches!(request.method, Method::Ack | Method::Cancel) {
        let unsupported: Vec<&str> = values(request, &["Require"])
            .flat_map(|v| v.split(','))
            .map(str::trim)
            .filter(|option| !option.is_empty() && !SUPPORTED.contains(option))
            .collect();
        if !unsupported.is_empty() {
            let list = unsupported.join(", ");
            return Some(Refusal {
                code: 420,
                extra: vec![Header::Other("Unsupported".into(), list.clone())],
                why: format!("it requires {list}"),
            });
        }
    }
    None
}

/// RFC 3261 §25.1's `token`: a method's characters.
fn is_token(text: &str) -> bool {
    !text.is_empty()
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c))
}

/// A request rsip refused to parse, read again so that it can be answered:
/// its method unknown to rsip (`NEWMETHOD sip:… SIP/2.0`: 501, RFC 3261
/// §8.2.1), or a request line rsip cannot read with a method it knows (a
/// space in the Request-URI, no version: 400). The request line is
/// replaced by a stand-in rsip reads, so the response can be built from
/// the headers (which keep the original CSeq text). `None` for anything
/// that is not a request at all, or whose headers do not parse either.
pub(super) fn salvage(text: &str) -> Option<(Refusal, Request)> {
    let (first, rest) = text.split_once("\r\n")?;
    let method = first.split(' ').next()?;
    if !is_token(method) || first.starts_with("SIP/") {
        return None;
    }
    let (code, why) = if method.parse::<Method>().is_ok() {
        (400, format!("a request line rsip cannot read: `{first}`"))
    } else {
        (
            501,
            format!("a {method} request, a method this agent does not know"),
        )
    };
    let stand_in = format!("OPTIONS sip:stand-in.invalid SIP/2.0\r\n{rest}");
    match SipMessage::try_from(stand_in.as_str()).ok()? {
        SipMessage::Request(request) => {
            let extra = if code == 501 {
                vec![crate::message::allow()]
            } else {
                Vec::new()
            };
            Some((Refusal { code, extra, why }, request))
        }
        SipMessage::Response(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_are_balanced_with_escapes() {
        for (value, balanced) in [
            ("<sip:a@b>", true),
            ("\"Bob\" <sip:a@b>", true),
            ("\"Bob <sip:a@b>", false),
            ("\"a \\\" b\" <sip:a@b>", true),
            ("\"a \\\\\" <sip:a@b>", true),
        ] {
            assert_eq!(quotes_balanced(value), balanced, "{value}");
        }
    }
}
