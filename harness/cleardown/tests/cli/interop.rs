//! Interop against SIPp, the standard SIP test tool (Debian's `sip-tester`;
//! `.ci/run` installs it). Each test pairs a SIPp scenario with a fixture
//! of app-side steps (`fixtures/interop/NAME.{xml,toml}`): SIPp plays the far
//! end on loopback, over UDP and over TCP (SIPp's `-t t1`, one connection),
//! and checks what it receives; `cleardown replay` drives the sip provider
//! with `transport=udp` (or `tcp`) and compares its transcript with
//! `fixtures/interop/snapshots/NAME.snap`, the same over either. Both must
//! succeed, each within a bounded time. Without SIPp these tests fail,
//! saying so.

use std::{
    net::{TcpListener, UdpSocket},
    path::{Path, PathBuf},
    process::{Child, Command, Output, Stdio},
    time::{Duration, Instant},
};

use crate::scratch;

/// How long one interop exchange may take, end to end.
const LIMIT: Duration = Duration::from_secs(30);

fn interop_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/interop")
}

pub(crate) fn sipp() -> PathBuf {
    let found = std::env::var_os("PATH").and_then(|path| {
        std::env::split_paths(&path)
            .map(|dir| dir.join("sipp"))
            .find(|candidate| candidate.is_file())
    });
    match found {
        Some(path) => path,
        None => panic!(
            "SIPp is not installed, so the SIP interop tests cannot run: install Debian's \
             `sip-tester` package (apt-get install sip-tester), as .ci/run does"
        ),
    }
}

/// SIPp's standard UAS (`-sn uas`) on loopback UDP `port`, answering
/// `calls` calls and ending each when it is hung up; its errors go to
/// `work/sipp-errors.log`, and it runs in `work` (SIPp writes its files into
/// its working directory). Started, and given 300 ms to bind.
pub(crate) fn standard_uas(work: &Path, port: u16, calls: usize, timeout: &str) -> Child {
    let child = Command::new(sipp())
        .args(["-sn", "uas", "-i", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-t",
            "u1",
            "-m",
            &calls.to_string(),
            "-timeout",
            timeout,
            "-timeout_error",
        ])
        .args(["-nostdin", "-trace_err", "-error_file"])
        .arg(work.join("sipp-errors.log"))
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("SIPp starts");
    std::thread::sleep(Duration::from_millis(300));
    child
}

/// A loopback port nobody is using right now, for UDP and TCP.
pub(crate) fn free_port() -> u16 {
    loop {
        let port = UdpSocket::bind("127.0.0.1:0")
            .and_then(|s| s.local_addr())
            .map(|a| a.port())
            .expect("a free loopback port");
        if TcpListener::bind(("127.0.0.1", port)).is_ok() {
            return port;
        }
    }
}

/// Waits (bounded by `deadline`) until something listens on loopback TCP
/// `port`, read from the kernel's socket table rather than by connecting,
/// which the listener would see as a call.
fn wait_listening(port: u16, deadline: Instant) {
    let listening = || {
        let table = std::fs::read_to_string("/proc/net/tcp").unwrap_or_default();
        table.lines().skip(1).any(|line| {
            let fields: Vec<&str> = line.split_whitespace().collect();
            // local_address is HEXIP:HEXPORT; state 0A is LISTEN.
            fields.get(3) == Some(&"0A")
                && fields
                    .get(1)
                    .and_then(|local| local.rsplit(':').next())
                    .and_then(|hex| u16::from_str_radix(hex, 16).ok())
                    == Some(port)
        })
    };
    while !listening() {
        assert!(
            Instant::now() < deadline,
            "nothing listens on TCP port {port}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// What carries the SIP messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Over {
    Udp,
    Tcp,
}

/// Waits for `child` until `deadline`, killing it if it runs past.
pub(crate) fn finish(mut child: Child, deadline: Instant, what: &str) -> Output {
    loop {
        match child.try_wait() {
            Ok(Some(_)) => return child.wait_with_output().expect("collect output"),
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                let output = child.wait_with_output().expect("collect output");
                panic!(
                    "{what} did not finish within {LIMIT:?}\nstdout:\n{}\nstderr:\n{}",
                    String::from_utf8_lossy(&output.stdout),
                    String::from_utf8_lossy(&output.stderr)
                );
            }
        }
    }
}

/// Runs scenario `name` against the app's fixture. `sipp_calls` says who
/// starts: SIPp as the caller (it sends the INVITE) or as the called party.
fn check(name: &str, sipp_calls: bool, over: Over) {
    let sipp = sipp();
    let dir = interop_dir();
    let work = scratch(&format!("interop-{name}-{over:?}"));
    let (ours, theirs) = (free_port(), free_port());
    let transport = match over {
        Over::Udp => "udp",
        Over::Tcp => "tcp",
    };
    let config = format!("transport={transport};bind=127.0.0.1:{ours};peer=127.0.0.1:{theirs}");
    let deadline = Instant::now() + LIMIT;
    let start_sipp = || {
        let mut command = Command::new(&sipp);
        command
            .arg("-sf")
            .arg(dir.join(format!("{name}.xml")))
            .args(["-i", "127.0.0.1", "-p", &theirs.to_string()])
            .args(["-m", "1", "-timeout", "20s", "-timeout_error", "-nostdin"])
            .args(match over {
                Over::Udp => &["-t", "u1"][..],
                Over::Tcp => &["-t", "t1"][..],
            })
            .args(["-trace_err", "-error_file"])
            .arg(work.join("sipp-errors.log"))
            .current_dir(&work)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if sipp_calls {
            command.arg(format!("127.0.0.1:{ours}"));
        }
        command.spawn().expect("SIPp starts")
    };
    let start_app = || {
        Command::new(env!("CARGO_BIN_EXE_cleardown"))
            .arg("replay")
            .arg(dir.join(format!("{name}.toml")))
            .args(["--plugin", "sip", "--config", &config])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("cleardown starts")
    };
    // The listening side first, so the first message finds it. Over UDP
    // both sides retransmit anyway; over TCP a connection refused is not
    // retried, so the caller starts only once the other side listens.
    let ready = |port: u16| match over {
        Over::Udp => std::thread::sleep(Duration::from_millis(300)),
        Over::Tcp => wait_listening(port, deadline),
    };
    let (app, far) = if sipp_calls {
        let app = start_app();
        ready(ours);
        (app, start_sipp())
    } else {
        let far = start_sipp();
        ready(theirs);
        (start_app(), far)
    };
    let app = finish(app, deadline, "cleardown replay");
    let far = finish(far, deadline, "SIPp");
    let errors = std::fs::read_to_string(work.join("sipp-errors.log")).unwrap_or_default();
    assert!(
        far.status.success(),
        "SIPp failed ({}): {}\n{errors}\nthe app's transcript:\n{}{}",
        far.status,
        String::from_utf8_lossy(&far.stderr),
        String::from_utf8_lossy(&app.stdout),
        String::from_utf8_lossy(&app.stderr)
    );
    assert!(
        app.status.success(),
        "the app's side failed ({}):\n{}{}",
        app.status,
        String::from_utf8_lossy(&app.stdout),
        String::from_utf8_lossy(&app.stderr)
    );
    assert!(
        String::from_utf8_lossy(&app.stderr).contains(&format!("matches snapshot {name}")),
        "the transcript has a snapshot and matches it: {}",
        String::from_utf8_lossy(&app.stderr)
    );
    let _ = std::fs::remove_dir_all(work);
}

#[test]
fn r1_u3_sipp_calls_in_and_the_app_rejects_with_uui() {
    check("sipp-calls-in-app-rejects-with-uui", true, Over::Udp);
}

#[test]
fn d5_u3_the_app_calls_sipp_and_drops_with_uui() {
    check("app-calls-sipp-then-drops-with-uui", false, Over::Udp);
}

#[test]
fn s3_u5_sipp_hangs_up_with_uui() {
    check("sipp-hangs-up-with-uui", true, Over::Udp);
}

#[test]
fn d7_the_app_cancels_a_call_sipp_only_rings() {
    check("app-calls-sipp-which-only-rings", false, Over::Udp);
}

// RFC 3261 §18: the same four over TCP, the same transcripts.

#[test]
fn r1_u3_over_tcp_sipp_calls_in_and_the_app_rejects_with_uui() {
    check("sipp-calls-in-app-rejects-with-uui", true, Over::Tcp);
}

#[test]
fn d5_u3_over_tcp_the_app_calls_sipp_and_drops_with_uui() {
    check("app-calls-sipp-then-drops-with-uui", false, Over::Tcp);
}

#[test]
fn s3_u5_over_tcp_sipp_hangs_up_with_uui() {
    check("sipp-hangs-up-with-uui", true, Over::Tcp);
}

#[test]
fn d7_over_tcp_the_app_cancels_a_call_sipp_only_rings() {
    check("app-calls-sipp-which-only-rings", false, Over::Tcp);
}
