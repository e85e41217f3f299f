//! What a request must be before the engine acts on it, and the response
//! due when it is not (RFC 3261 §8.2, §18.3, §21; the invalid messages of
//! RFC 4475 §3.1.2). rsipstack parses leniently and leaves these to the
//! user agent: it reads `SIP/7.0` as a version, keeps every
//! `Content-Length` as text, accepts a CSeq naming another method and an
//! unterminated quoted display name, and refuses outright a request whose
//! method it does not know, which still deserves a 501.

use rsipstack::rsip::{Header, Method, Request, Scheme, SipMessage, Version};

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

/// `value` with what its quoted strings hold left out (each written `""`,
/// a backslash escaping the next character inside one), so that it is not
/// read as separators; and whether every quoted string is closed.
fn strip_quotes(value: &str) -> (String, bool) {
    let (mut out, mut inside, mut escaped) = (String::new(), false, false);
    for c in value.chars() {
        match (inside, escaped, c) {
            (true, true, _) => escaped = false,
            (true, false, '\\') => escaped = true,
            (_, false, '"') => {
                inside = !inside;
                out.push('"');
            }
            (false, _, c) => out.push(c),
            (true, false, _) => {}
        }
    }
    (out, !inside)
}

/// Whether every `"` opening a quoted string in `value` is closed.
fn quotes_balanced(value: &str) -> bool {
    strip_quotes(value).1
}

/// `value` with its quoted strings emptied ([`strip_quotes`]).
fn without_quotes(value: &str) -> String {
    strip_quotes(value).0
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
    if let Some(names) = SINGLE
        .iter()
        .find(|names| values(request, names).nth(1).is_some())
    {
        return refuse(400, format!("more than one {}", names[0]));
    }
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
    if let Some(bad) = values(request, &["Via", "v", "Contact", "m"]).find(|v| has_empty_element(v))
    {
        return refuse(
            400,
            format!("an empty parameter or value in `{}`", bad.trim()),
        );
    }
    let single = values(request, &["From", "f", "To", "t"]).map(|v| (v, false));
    let listed = values(request, &["Contact", "m"]).map(|v| (v, true));
    if let Some((bad, _)) = single
        .chain(listed)
        .find(|(value, list)| !addresses_well_formed(value, *list))
    {
        return refuse(
            400,
            format!("a malformed name-addr or addr-spec in `{}`", bad.trim()),
        );
    }
    // RFC 3261 §8.2.2.1: a scheme this agent does not serve is a 416.
    if !matches!(request.uri.scheme, Some(Scheme::Sip | Scheme::Sips)) {
        return refuse(
            416,
            format!("the Request-URI `{}` is not a SIP URI", request.uri),
        );
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
    if request.method == Method::Invite {
        return session_refusal(request);
    }
    None
}

/// An INVITE whose session this agent cannot take part in: a body that is
/// not SDP is a 415 naming what it accepts (§8.2.3, §21.4.13; RFC 4475
/// §3.3.6 invut); an `Accept` without SDP leaves it nothing to answer or
/// offer in, a 406 (§21.4.7; RFC 4475 §3.3.15 sdp01).
fn session_refusal(request: &Request) -> Option<Refusal> {
    let sdp = Header::Other("Accept".into(), "application/sdp".into());
    if !request.body.is_empty() {
        let content_type = values(request, &["Content-Type", "c"]).next().unwrap_or("");
        let media = content_type.split(';').next().unwrap_or("").trim();
        if !media.eq_ignore_ascii_case("application/sdp") {
            return Some(Refusal {
                code: 415,
                extra: vec![sdp],
                why: format!("a body of type `{media}`"),
            });
        }
    }
    let mut accepts = values(request, &["Accept"]).peekable();
    if accepts.peek().is_some() {
        let ranges: Vec<String> = accepts
            .flat_map(|value| value.split(','))
            .map(|range| {
                range
                    .split(';')
                    .next()
                    .unwrap_or("")
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let takes_sdp = ranges
            .iter()
            .any(|range| matches!(range.as_str(), "application/sdp" | "application/*" | "*/*"));
        if !takes_sdp {
            return refuse(406, format!("it accepts only `{}`", ranges.join(", ")));
        }
    }
    None
}

/// The headers a request carries at most once (RFC 3261 §7.3.1, §20),
/// each with its compact form: two of one are a 400 (RFC 4475 §3.3.8
/// multi01). Content-Length has a check of its own.
const SINGLE: &[&[&str]] = &[
    &["Call-ID", "i"],
    &["CSeq"],
    &["From", "f"],
    &["To", "t"],
    &["Max-Forwards"],
    &["Content-Type", "c"],
];

/// Whether a Via or Contact value has an empty element: `;;`, `,,`, a
/// separator with nothing after it (RFC 4475 §3.1.2.1 badinv01).
fn has_empty_element(value: &str) -> bool {
    let bare: String = without_quotes(value)
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    bare.is_empty()
        || [";;", ";,", ",;", ",,"]
            .iter()
            .any(|pair| bare.contains(pair))
        || bare.starts_with([';', ','])
        || bare.ends_with([';', ','])
}

/// Whether each address in a From, To or Contact value (`list`: several,
/// comma-separated) is a name-addr or an addr-spec (RFC 3261 §25.1): the
/// display name a quoted string or tokens (RFC 4475 §3.1.2.15 baddn), and
/// no whitespace inside the URI (§3.1.2.14 badaspec).
fn addresses_well_formed(value: &str, list: bool) -> bool {
    let bare = without_quotes(value);
    let mut elements = Vec::new();
    if list {
        let (mut start, mut depth) = (0, 0);
        for (at, c) in bare.char_indices() {
            match c {
                '<' => depth += 1,
                '>' => depth -= 1,
                ',' if depth == 0 => {
                    elements.push(&bare[start..at]);
                    start = at + 1;
                }
                _ => {}
            }
        }
        elements.push(&bare[start..]);
    } else {
        elements.push(&bare);
    }
    elements.into_iter().all(|element| {
        let element = element.trim();
        if element == "*" {
            return true;
        }
        match element.split_once('<') {
            Some((display, rest)) => {
                let display = display.trim();
                let display_ok = display.is_empty()
                    || display == "\"\""
                    || display.split_whitespace().all(is_token);
                let uri_ok = rest
                    .split_once('>')
                    .is_some_and(|(uri, _)| !uri.is_empty() && !uri.contains(char::is_whitespace));
                display_ok && uri_ok
            }
            None => {
                let spec = element.split(';').next().unwrap_or("").trim();
                !spec.is_empty() && !spec.contains(char::is_whitespace)
            }
        }
    })
}

/// What the raw request line says that rsip does not keep: a Request-URI
/// inside `<>` is a 400 (RFC 4475 §3.1.2.7 ltgtruri; rsip drops them).
pub(super) fn request_line_refusal(bytes: &[u8]) -> Option<Refusal> {
    let end = bytes.iter().position(|b| *b == b'\r' || *b == b'\n')?;
    let line = String::from_utf8_lossy(&bytes[..end]);
    let uri = line.split(' ').nth(1)?;
    if uri.starts_with('<') || uri.ends_with('>') {
        return refuse(400, format!("a Request-URI in angle brackets: `{uri}`"));
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
    fn empty_elements_of_via_and_contact() {
        for (value, empty) in [
            ("SIP/2.0/UDP h;branch=z9hG4bK1", false),
            (
                "SIP/2.0/UDP a ;\r\n branch = z9hG4bK1 ,\r\n SIP/2.0/UDP b",
                false,
            ),
            ("\"a;;b\" <sip:a@b>;q=0.5", false),
            ("SIP/2.0/UDP 192.0.2.15;;,;,,", true),
            ("\"Joe\" <sip:joe@example.org>;;;;", true),
            ("SIP/2.0/UDP h;", true),
            ("", true),
        ] {
            assert_eq!(has_empty_element(value), empty, "{value}");
        }
    }

    #[test]
    fn name_addrs_and_addr_specs() {
        for (value, list, good) in [
            ("<sip:a@b>;tag=1", false, true),
            ("sip:a@b ;  tag = 1", false, true),
            ("caller<sip:caller@example.com>;tag=323", false, true),
            ("\"Bell, Alexander\" <sip:a@b>", false, true),
            ("A B C <sip:a@b>", false, true),
            ("Bell, Alexander <sip:a@b>;tag=43", false, false),
            ("\"Watson\" < sip:t@b >", false, false),
            ("<sip:a@b>, \"x, y\" <sip:c@d>;q=1", true, true),
            ("*", true, true),
            ("<>", false, false),
        ] {
            assert_eq!(addresses_well_formed(value, list), good, "{value}");
        }
    }

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
