//! The SIP load run: SIPp's standard UAC (`-sn uac`: INVITE with SDP, ACK,
//! a pause, BYE) calls the sip provider over UDP at a set rate, and an app
//! on the loaded plugin answers every offered call, drops it when the far
//! end hangs up (SPEC D6) and deallocates it at Idle. At the end: SIPp's
//! count of successful and failed calls, the calls the host still tracks
//! (must be 0: every call cleared at our end too), and resident memory
//! before, at the peak and after.
//!
//! ```text
//! cargo run --release -p cleardown-benches --bin sip_load -- --rate 500 --calls 20000
//! cargo run --release -p cleardown-benches --bin sip_load -- --sipp-only --rate 500 --calls 20000
//! ```
//!
//! `--sipp-only` runs SIPp's UAS in place of the provider, for the figure
//! beside it: what the same machine does SIPp to SIPp at that rate.

use std::{
    net::UdpSocket,
    process::{Child, Command, ExitCode, Stdio},
    time::{Duration, Instant},
};

use cleardown_benches::resident_bytes;
use cleardown_host::{AddressId, CallState, Event, Host, Privilege, locate};

struct Args {
    rate: u32,
    calls: u32,
    sipp_only: bool,
}

fn args() -> Result<Args, String> {
    let mut args = Args {
        rate: 200,
        calls: 5_000,
        sipp_only: false,
    };
    let mut given = std::env::args().skip(1);
    while let Some(flag) = given.next() {
        let mut number = |name: &str| -> Result<u32, String> {
            given
                .next()
                .and_then(|v| v.parse().ok())
                .filter(|n| *n > 0)
                .ok_or_else(|| format!("{name} needs a positive number"))
        };
        match flag.as_str() {
            "--rate" => args.rate = number("--rate")?,
            "--calls" => args.calls = number("--calls")?,
            "--sipp-only" => args.sipp_only = true,
            other => {
                return Err(format!(
                    "unknown argument `{other}`; expected --rate N, --calls N, --sipp-only"
                ));
            }
        }
    }
    Ok(args)
}

fn free_port() -> u16 {
    UdpSocket::bind("127.0.0.1:0")
        .and_then(|s| s.local_addr())
        .map(|a| a.port())
        .unwrap_or(5070)
}

/// SIPp, run in the temporary directory: it writes its logs where it
/// runs, never into the checkout.
fn sipp() -> Command {
    let mut command = Command::new("sipp");
    command.current_dir(std::env::temp_dir());
    command
}

/// SIPp's UAC at `rate` calls per second to `target`, `calls` in all.
fn uac(port: u16, target: u16, rate: u32, calls: u32) -> std::io::Result<Child> {
    sipp()
        .args(["-sn", "uac", "-i", "127.0.0.1", "-p", &port.to_string()])
        .args([
            "-r",
            &rate.to_string(),
            "-m",
            &calls.to_string(),
            "-l",
            "100000",
        ])
        .args(["-d", "100", "-timeout", "600s", "-nostdin"])
        .arg(format!("127.0.0.1:{target}"))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
}

/// SIPp's own verdict: its final `Successful call` and `Failed call`
/// counts (the cumulative column of its last screen), and its exit status.
fn outcome(child: Child) -> String {
    match child.wait_with_output() {
        Ok(output) => {
            let screen = String::from_utf8_lossy(&output.stdout);
            let count = |label: &str| {
                screen
                    .lines()
                    .rfind(|l| l.trim_start().starts_with(label))
                    .and_then(|l| l.split('|').nth(2))
                    .map_or_else(|| "?".to_owned(), |v| v.trim().to_owned())
            };
            format!(
                "SIPp: {} successful, {} failed (exit {})",
                count("Successful call"),
                count("Failed call"),
                output
                    .status
                    .code()
                    .map_or_else(|| "by a signal".to_owned(), |c| c.to_string())
            )
        }
        Err(error) => format!("SIPp could not be waited for: {error}"),
    }
}

fn mib(bytes: Option<u64>) -> String {
    bytes.map_or_else(
        || "?".to_owned(),
        |b| format!("{:.1} MiB", b as f64 / (1024.0 * 1024.0)),
    )
}

fn main() -> ExitCode {
    let args = match args() {
        Ok(args) => args,
        Err(error) => {
            eprintln!("sip_load: {error}");
            return ExitCode::from(2);
        }
    };
    let (ours, theirs) = (free_port(), free_port());
    if args.sipp_only {
        let uas = sipp()
            .args([
                "-sn",
                "uas",
                "-i",
                "127.0.0.1",
                "-p",
                &ours.to_string(),
                "-nostdin",
            ])
            .args(["-m", &args.calls.to_string()])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let Ok(mut uas) = uas else {
            eprintln!("sip_load: SIPp does not start (install sip-tester)");
            return ExitCode::from(2);
        };
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let result = uac(theirs, ours, args.rate, args.calls).map(outcome);
        let _ = uas.kill();
        println!(
            "SIPp to SIPp: {} calls at {}/s in {:.1} s; {}",
            args.calls,
            args.rate,
            started.elapsed().as_secs_f64(),
            result.unwrap_or_else(|e| e.to_string())
        );
        return ExitCode::SUCCESS;
    }
    let host = Host::new();
    let library = match locate::find("sip") {
        Ok(library) => library,
        Err(error) => {
            eprintln!("sip_load: {error}");
            return ExitCode::from(2);
        }
    };
    let config = format!("transport=udp;bind=127.0.0.1:{ours};peer=127.0.0.1:{theirs}");
    let sip = match host.load(&library, &config) {
        Ok(sip) => sip,
        Err(error) => {
            eprintln!("sip_load: {error}");
            return ExitCode::from(2);
        }
    };
    let app = host.app("answering app");
    if let Err(error) = app.open_line(sip, AddressId(0), Privilege::Owner) {
        eprintln!("sip_load: open: {error}");
        return ExitCode::from(2);
    }
    let before = resident_bytes();
    let mut peak = before;
    let started = Instant::now();
    let far = match uac(theirs, ours, args.rate, args.calls) {
        Ok(far) => far,
        Err(error) => {
            eprintln!("sip_load: SIPp does not start (install sip-tester): {error}");
            return ExitCode::from(2);
        }
    };
    let mut far = Some(far);
    let (mut answered, mut ended) = (0u64, 0u64);
    let mut sipp_result = String::new();
    let mut quiet_since: Option<Instant> = None;
    loop {
        let event = app.next_event(Duration::from_millis(100));
        match event {
            Some(Event::CallState { handle, status, .. }) => match status.state() {
                CallState::Offering if app.answer(handle).is_ok() => answered += 1,
                CallState::Disconnected => {
                    let _ = app.drop(handle, &[]);
                }
                CallState::Idle => {
                    ended += 1;
                    let _ = app.deallocate(handle);
                }
                _ => {}
            },
            Some(Event::Reply { .. }) => {}
            None => {}
        }
        if ended % 1_000 == 0 {
            peak = peak.max(resident_bytes());
        }
        if let Some(child) = far.as_mut() {
            if let Ok(Some(_)) = child.try_wait() {
                if let Some(child) = far.take() {
                    sipp_result = outcome(child);
                }
                quiet_since = Some(Instant::now());
            }
        }
        // After SIPp is done, wait for the wire to go quiet (bounded).
        if let Some(since) = quiet_since {
            if host.tracked_calls(sip) == 0 || since.elapsed() > Duration::from_secs(40) {
                break;
            }
        }
    }
    let took = started.elapsed();
    let after = resident_bytes();
    println!(
        "sip over UDP, SIPp UAC at {}/s: {} calls; {sipp_result}; answered {answered}, ended {ended}; \
         still tracked by the host: {}; in {:.1} s; resident memory {} before, {} peak, {} after",
        args.rate,
        args.calls,
        host.tracked_calls(sip),
        took.as_secs_f64(),
        mib(before),
        mib(peak),
        mib(after),
    );
    ExitCode::SUCCESS
}
