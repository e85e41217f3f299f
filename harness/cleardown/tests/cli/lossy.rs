//! A lossy network (issue 15): the sip provider over UDP against SIPp's
//! standard UAS (`-sn uas`), with a loopback relay between them that drops,
//! duplicates and reorders datagrams at set rates, seeded and bounded. The
//! app places calls through the loaded plugin, waits for each to be
//! answered and drops it. Under 10 % loss each way every call still ends at
//! both sides (SIPp counts every call successful), every drop gets its
//! Reply (SPEC D3) and nothing stays up (T5: the host keeps no call).

use std::{
    net::{SocketAddr, UdpSocket},
    sync::{
        Arc,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

use cleardown_host::{AddressId, CallState, Event, Host, Privilege, RequestId, locate};

use crate::scratch;

/// How the relay mistreats datagrams, in percent, each way.
#[derive(Debug, Clone, Copy)]
struct Mistreat {
    drop: u32,
    duplicate: u32,
    reorder: u32,
}

/// A small seeded generator (xorshift64*): the same seed, the same fate
/// for the same sequence of datagrams.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, percent: u32) -> bool {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        let n = self.0.wrapping_mul(0x2545_f491_4f6c_dd1d);
        (n >> 33) % 100 < u64::from(percent)
    }
}

/// Relays datagrams between `a` (the provider's side) and `b` (SIPp's), in
/// both directions, mistreating them, until `stop`. A datagram held back
/// for reordering goes out after the next one in its direction (or at the
/// next quiet moment).
fn relay(
    near: UdpSocket,
    far: UdpSocket,
    provider: SocketAddr,
    sipp: SocketAddr,
    how: Mistreat,
    seed: u64,
    stop: Arc<AtomicBool>,
) {
    let _ = near.set_read_timeout(Some(Duration::from_millis(5)));
    let _ = far.set_read_timeout(Some(Duration::from_millis(5)));
    let mut dice = Dice(seed | 1);
    let mut held: [Option<Vec<u8>>; 2] = [None, None];
    let mut buffer = vec![0u8; 65_535];
    while !stop.load(Ordering::Relaxed) {
        for (index, (from, to, dest)) in [(&near, &far, sipp), (&far, &near, provider)]
            .into_iter()
            .enumerate()
        {
            let Ok((length, _)) = from.recv_from(&mut buffer) else {
                // Quiet: whatever was held back goes now.
                if let Some(late) = held[index].take() {
                    let _ = to.send_to(&late, dest);
                }
                continue;
            };
            let datagram = buffer[..length].to_vec();
            if dice.roll(how.drop) {
                continue;
            }
            if dice.roll(how.reorder) && held[index].is_none() {
                held[index] = Some(datagram);
                continue;
            }
            let _ = to.send_to(&datagram, dest);
            if dice.roll(how.duplicate) {
                let _ = to.send_to(&datagram, dest);
            }
            if let Some(late) = held[index].take() {
                let _ = to.send_to(&late, dest);
            }
        }
    }
}

/// Waits for `app`'s events until `done` says so or `deadline` passes.
fn wait_for(
    app: &cleardown_host::App,
    deadline: Instant,
    seen: &mut Vec<Event>,
    done: impl Fn(&[Event]) -> bool,
) -> bool {
    while !done(seen) {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return false;
        }
        if let Some(event) = app.next_event(left.min(Duration::from_millis(100))) {
            seen.push(event);
        }
    }
    true
}

/// The calls still without `state` among `handles`, per `seen`.
fn missing(handles: &[cleardown_host::CallHandle], seen: &[Event], state: CallState) -> usize {
    handles
        .iter()
        .filter(|h| {
            !seen.iter().any(|e| {
                matches!(e, Event::CallState { handle, status, .. }
                    if handle == *h && status.state() == state)
            })
        })
        .count()
}

/// SPEC D3, S1, T5 over a network that loses, duplicates and reorders
/// (RFC 3261 §17: Timers A, E, G and the 2xx/ACK retransmissions): 20
/// calls at once, 10 % loss, 5 % duplicates, 5 % reordering, each way.
#[test]
fn d3_t5_every_call_ends_at_both_sides_over_a_lossy_network() {
    const CALLS: usize = 20;
    let work = scratch("lossy");
    let near = UdpSocket::bind("127.0.0.1:0").expect("relay socket");
    let far = UdpSocket::bind("127.0.0.1:0").expect("relay socket");
    let near_addr = near.local_addr().expect("address");
    let (provider_port, sipp_port) = (crate::interop::free_port(), crate::interop::free_port());
    let provider: SocketAddr = ([127, 0, 0, 1], provider_port).into();
    let sipp_addr: SocketAddr = ([127, 0, 0, 1], sipp_port).into();
    let stop = Arc::new(AtomicBool::new(false));
    let how = Mistreat {
        drop: 10,
        duplicate: 5,
        reorder: 5,
    };
    let relaying = {
        let stop = Arc::clone(&stop);
        std::thread::spawn(move || relay(near, far, provider, sipp_addr, how, 0x10_55, stop))
    };
    let far_end = crate::interop::standard_uas(&work, sipp_port, CALLS, "90s");

    let host = Host::new();
    let sip = host
        .load(
            &locate::find("sip").expect("sip builds"),
            &format!("transport=udp;bind={provider};peer={near_addr}"),
        )
        .expect("loads on UDP");
    let app = host.app("app");
    app.open_line(sip, AddressId(0), Privilege::Owner)
        .expect("open");
    let handles: Vec<_> = (0..CALLS)
        .map(|_| {
            app.make_call(sip, AddressId(0), "service")
                .expect("dialled")
                .1
        })
        .collect();
    let mut seen = Vec::new();
    let answered = wait_for(
        &app,
        Instant::now() + Duration::from_secs(40),
        &mut seen,
        |seen| missing(&handles, seen, CallState::Connected) == 0,
    );
    assert!(
        answered,
        "{} of {CALLS} calls were never answered through the lossy relay",
        missing(&handles, &seen, CallState::Connected)
    );
    let drops: Vec<RequestId> = handles
        .iter()
        .map(|h| app.drop(*h, &[]).expect("drop accepted"))
        .collect();
    // Timer F (64·T1 = 32 s) bounds the wait for each BYE's answer.
    let replied = wait_for(
        &app,
        Instant::now() + Duration::from_secs(45),
        &mut seen,
        |seen| {
            drops.iter().all(|r| {
                seen.iter()
                    .any(|e| matches!(e, Event::Reply { request, .. } if request == r))
            })
        },
    );
    assert!(replied, "some drop never got its Reply (SPEC D3)");
    assert_eq!(
        missing(&handles, &seen, CallState::Idle),
        0,
        "every call Idle"
    );
    for handle in &handles {
        app.deallocate(*handle).expect("deallocate");
    }
    assert!(host.leaks().is_empty(), "nothing stays up (T5)");
    assert_eq!(host.tracked_calls(sip), 0, "the host keeps no call");

    let deadline = Instant::now() + Duration::from_secs(60);
    let output = crate::interop::finish(far_end, deadline, "SIPp");
    stop.store(true, Ordering::Relaxed);
    let _ = relaying.join();
    let errors = std::fs::read_to_string(work.join("sipp-errors.log")).unwrap_or_default();
    assert!(
        output.status.success(),
        "SIPp did not see every call end ({}): {}\n{errors}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let _ = std::fs::remove_dir_all(work);
}
