//! RFC 4475 as a test (issue 15): every message of its section 3, kept as
//! test data in `plugins/sip/testdata/rfc4475` (see its README for where
//! the files come from), is sent to the sip provider's UDP port while a
//! call placed through the loaded plugin is up with SIPp's standard UAS.
//! Each gets the response `EXPECTED` says and nothing else, no message
//! disturbs the call, and the call ends normally at both sides afterwards
//! (SPEC X1: bad input changes nothing; D3, S1, T5 for the drop).
//!
//! What answers a message is read behind a barrier, not after a pause: an
//! OPTIONS of our own follows each message, and the provider handles the
//! datagrams of one socket in order, so everything before the OPTIONS's
//! 200 is what the message caused.

use std::{
    net::{SocketAddr, UdpSocket},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use cleardown_host::{AddressId, CallHandle, CallState, Event, Host, Privilege, locate};

use crate::scratch;

/// What a message is due, as `EXPECTED` writes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Due {
    /// This response and no other datagram.
    Response(u16),
    /// A 100 Trying, and a new call the app sees Offering.
    Offered,
    /// No datagram at all.
    Nothing,
}

#[derive(Debug)]
struct Case {
    file: String,
    section: String,
    due: Due,
    why: String,
}

fn corpus() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../plugins/sip/testdata/rfc4475")
}

/// `EXPECTED`, read strictly: a line that is not `file section due why`
/// fails the test naming the line, and every `.dat` file is listed once.
fn cases() -> Vec<Case> {
    let path = corpus().join("EXPECTED");
    let text = std::fs::read_to_string(&path).expect("EXPECTED is readable");
    let mut cases = Vec::new();
    for (index, line) in text.lines().enumerate() {
        let at = format!("{}:{}", path.display(), index + 1);
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let mut words = line.split_whitespace();
        let (Some(file), Some(section), Some(due)) = (words.next(), words.next(), words.next())
        else {
            panic!("{at}: expected `file section due why`, found `{line}`");
        };
        let due = match due {
            "offered" => Due::Offered,
            "nothing" => Due::Nothing,
            code => Due::Response(code.parse().unwrap_or_else(|_| {
                panic!("{at}: expected a status code, `offered` or `nothing`, found `{code}`")
            })),
        };
        let why = words.collect::<Vec<_>>().join(" ");
        assert!(!why.is_empty(), "{at}: expected a reason after `{due:?}`");
        cases.push(Case {
            file: file.to_owned(),
            section: section.to_owned(),
            due,
            why,
        });
    }
    let mut listed: Vec<&str> = cases.iter().map(|c| c.file.as_str()).collect();
    listed.sort_unstable();
    let mut present: Vec<String> = std::fs::read_dir(corpus())
        .expect("the corpus directory")
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|name| name.ends_with(".dat"))
        .collect();
    present.sort();
    assert_eq!(listed, present, "EXPECTED lists each .dat file once");
    assert_eq!(cases.len(), 49, "RFC 4475 section 3 has 49 messages");
    cases
}

/// Our OPTIONS behind message `n`: its 200 marks the end of what the
/// message caused.
fn probe(n: usize, provider: SocketAddr, ours: SocketAddr) -> String {
    format!(
        "OPTIONS sip:line-1@{provider} SIP/2.0\r\n\
         Via: SIP/2.0/UDP {ours};branch=z9hG4bKprobe{n}\r\n\
         From: <sip:probe@{ours}>;tag=probe{n}\r\n\
         To: <sip:line-1@{provider}>\r\n\
         Call-ID: probe-{n}@torture.invalid\r\n\
         CSeq: 1 OPTIONS\r\n\
         Max-Forwards: 70\r\n\
         Content-Length: 0\r\n\r\n"
    )
}

/// The datagrams the provider sent to `socket` before the 200 to probe `n`.
fn answers(socket: &UdpSocket, n: usize) -> Vec<String> {
    let marker = format!("probe-{n}@torture.invalid");
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut got = Vec::new();
    let mut buffer = vec![0u8; 65_535];
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(!left.is_zero(), "probe {n} was never answered; got {got:?}");
        socket.set_read_timeout(Some(left)).expect("timeout");
        let Ok((length, _)) = socket.recv_from(&mut buffer) else {
            continue;
        };
        let text = String::from_utf8_lossy(&buffer[..length]).into_owned();
        if text.contains(&marker) {
            return got;
        }
        got.push(text);
    }
}

fn status(datagram: &str) -> Option<u16> {
    datagram.strip_prefix("SIP/2.0 ")?.get(..3)?.parse().ok()
}

/// The header `name` of `datagram`, by its full name.
fn header<'a>(datagram: &'a str, name: &str) -> Option<&'a str> {
    datagram.lines().find_map(|line| {
        let (key, value) = line.split_once(':')?;
        key.trim().eq_ignore_ascii_case(name).then(|| value.trim())
    })
}

/// New calls the app learned of since the last look (their first event).
fn offered(
    app: &cleardown_host::App,
    known: &mut Vec<CallHandle>,
    wait: Duration,
) -> Vec<CallHandle> {
    let deadline = Instant::now() + wait;
    let mut new = Vec::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        // Once a call has come, only what is already queued is read.
        let wait = if new.is_empty() {
            left.max(Duration::from_millis(1))
        } else {
            Duration::from_millis(20)
        };
        let event = app.next_event(wait);
        match event {
            Some(Event::CallState { handle, status, .. }) if !known.contains(&handle) => {
                assert_eq!(status.state(), CallState::Offering, "{handle} is new");
                known.push(handle);
                new.push(handle);
            }
            Some(_) => {}
            None if left.is_zero() || !new.is_empty() => return new,
            None => {}
        }
    }
}

/// RFC 4475 §3 (RFC 3261 §8.2, §12.2.2, §17, §18.3, §21; SPEC X1): each
/// torture message gets its due, the call that is up is unaffected, and
/// it ends normally at both sides.
#[test]
fn x1_rfc4475_torture_messages_get_their_due_and_leave_the_call_up() {
    let cases = cases();
    let work = scratch("torture");
    let (provider_port, sipp_port) = (crate::interop::free_port(), crate::interop::free_port());
    let provider: SocketAddr = ([127, 0, 0, 1], provider_port).into();
    let sipp_addr: SocketAddr = ([127, 0, 0, 1], sipp_port).into();
    let far_end = crate::interop::standard_uas(&work, sipp_port, 1, "60s");

    let host = Host::new();
    let sip = host
        .load(
            &locate::find("sip").expect("sip builds"),
            &format!("transport=udp;bind={provider};peer={sipp_addr}"),
        )
        .expect("loads on UDP");
    let app = host.app("app");
    app.open_line(sip, AddressId(0), Privilege::Owner)
        .expect("open");
    let (_, call) = app
        .make_call(sip, AddressId(0), "service")
        .expect("dialled");
    let mut known = vec![call];
    let deadline = Instant::now() + Duration::from_secs(10);
    while app.call_info(call).map(|i| i.status.state()) != Ok(CallState::Connected) {
        assert!(Instant::now() < deadline, "SIPp never answered");
        let _ = app.next_event(Duration::from_millis(50));
    }

    let torture = UdpSocket::bind("127.0.0.1:0").expect("torture socket");
    let ours = torture.local_addr().expect("address");
    let mut failures = Vec::new();
    let mut rejected = Vec::new();
    for (n, case) in cases.iter().enumerate() {
        let bytes = std::fs::read(corpus().join(&case.file)).expect("a corpus file");
        torture.send_to(&bytes, provider).expect("sent");
        torture
            .send_to(probe(n, provider, ours).as_bytes(), provider)
            .expect("probe sent");
        let got = answers(&torture, n);
        let codes: Vec<Option<u16>> = got.iter().map(|d| status(d)).collect();
        let wait = if case.due == Due::Offered {
            Duration::from_secs(5)
        } else {
            Duration::from_millis(20)
        };
        let new_calls = offered(&app, &mut known, wait);
        let label = format!("{} (RFC 4475 §{}, {})", case.file, case.section, case.why);
        let ok = match case.due {
            Due::Response(code) => codes == [Some(code)] && new_calls.is_empty(),
            Due::Nothing => got.is_empty() && new_calls.is_empty(),
            Due::Offered => codes == [Some(100)] && new_calls.len() == 1,
        };
        if !ok {
            failures.push(format!(
                "{label}: due {:?}, got {codes:?} and {} new call(s)",
                case.due,
                new_calls.len()
            ));
        }
        match (case.due, got.first()) {
            (Due::Response(420), Some(d)) => {
                let unsupported = header(d, "Unsupported").unwrap_or("");
                if !unsupported.contains("nothingSupportsThis") {
                    failures.push(format!("{label}: Unsupported `{unsupported}`"));
                }
            }
            (Due::Response(415), Some(d)) => {
                let accept = header(d, "Accept").unwrap_or("");
                if !accept.contains("application/sdp") {
                    failures.push(format!("{label}: Accept `{accept}`"));
                }
            }
            _ => {}
        }
        if app.call_info(call).map(|i| i.status.state()) != Ok(CallState::Connected) {
            failures.push(format!("{label}: the call that was up is not Connected"));
        }
        rejected.extend(new_calls);
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));

    // The offered calls are rejected, the call that was up is dropped: a
    // Reply each and Idle each (D3), and nothing stays (T5).
    let drops: Vec<_> = rejected
        .iter()
        .chain([&call])
        .map(|h| (*h, app.drop(*h, &[]).expect("drop accepted")))
        .collect();
    let deadline = Instant::now() + Duration::from_secs(40);
    let mut replied = Vec::new();
    while replied.len() < drops.len() {
        assert!(Instant::now() < deadline, "some drop never got its Reply");
        if let Some(Event::Reply { request, .. }) = app.next_event(Duration::from_millis(100)) {
            replied.push(request);
        }
    }
    for (handle, _) in &drops {
        assert_eq!(
            app.call_info(*handle).map(|i| i.status.state()),
            Ok(CallState::Idle),
            "{handle} Idle"
        );
        app.deallocate(*handle).expect("deallocate");
    }
    assert!(host.leaks().is_empty(), "nothing stays up (T5)");

    let output = crate::interop::finish(far_end, Instant::now() + Duration::from_secs(30), "SIPp");
    let errors = std::fs::read_to_string(work.join("sipp-errors.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "SIPp did not see its call end ({}): {}\n{errors}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(work);
}
