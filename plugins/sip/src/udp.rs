//! The `udp` transport: real SIP over a UDP socket. A background thread
//! owns the receiving side: it reads datagrams (50 ms timeout, so it sees
//! the stop flag and fires the engine's timers on time), parses them with
//! rsip and hands them to the engine, which is shared with the provider's
//! own methods behind one mutex. Whatever the engine wants sent goes out
//! from under that mutex, and its reports go to the host from there too,
//! so reports keep the engine's order whichever thread caused them.
//!
//! Responses go where the request came from; new requests go to the
//! configured peer. Bad traffic never panics and never touches calls in
//! progress: what rsip cannot parse is logged to stderr and dropped.

use std::io::ErrorKind;
use std::net::{SocketAddr, UdpSocket};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use cleardown_sdk::Reporter;

use crate::engine::Engine;
use crate::live::Live;

/// How long one read waits: the stop flag and the timers are looked at
/// at least this often.
const READ_TIMEOUT: Duration = Duration::from_millis(50);
/// The largest datagram UDP carries.
const DATAGRAM: usize = 65_535;

#[derive(Debug)]
struct Shared {
    live: Live,
    socket: UdpSocket,
    peer: SocketAddr,
    stop: AtomicBool,
}

impl Shared {
    /// Runs `f` on the engine (see [`Live::run`]); what it sends goes out
    /// of the socket: responses where their request came from, the rest to
    /// the peer.
    fn run<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        self.live.run(f, |message, to| {
            let to = to.unwrap_or(self.peer);
            if let Err(error) = self.socket.send_to(message.to_string().as_bytes(), to) {
                eprintln!("sip: sending to {to} failed: {error}");
            }
        })
    }

    fn datagram(&self, bytes: &[u8], source: SocketAddr) {
        if let Err(error) = self.run(|engine| engine.receive_bytes(bytes, Some(source))) {
            eprintln!(
                "sip: ignored {} bytes from {source} that are not SIP: {error}",
                bytes.len()
            );
        }
    }

    fn serve(&self) {
        let mut buffer = vec![0u8; DATAGRAM];
        while !self.stop.load(Ordering::Relaxed) {
            match self.socket.recv_from(&mut buffer) {
                // Dropping the transport wakes the read (see `Drop`).
                Ok(_) if self.stop.load(Ordering::Relaxed) => break,
                Ok((length, source)) => {
                    let bytes = buffer.get(..length).unwrap_or_default();
                    // rsip is not ours: should it panic on some input, that
                    // datagram is lost, not the line.
                    let handled = catch_unwind(AssertUnwindSafe(|| self.datagram(bytes, source)));
                    if handled.is_err() {
                        eprintln!("sip: a datagram from {source} could not be handled; ignored");
                    }
                }
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {}
                Err(error) => {
                    // ICMP port unreachable shows up here on some systems.
                    eprintln!("sip: receiving failed: {error}");
                    std::thread::sleep(READ_TIMEOUT);
                }
            }
            // Timers (retransmissions, giving up) fire from here.
            self.run(|_| ());
        }
    }
}

/// The UDP transport. See the module documentation.
#[derive(Debug)]
pub(crate) struct Udp {
    shared: Arc<Shared>,
    local: SocketAddr,
    thread: Option<JoinHandle<()>>,
}

impl Udp {
    pub(crate) fn open(
        bind: SocketAddr,
        peer: SocketAddr,
        no_answer_ms: u64,
        reporter: Reporter,
    ) -> Result<Udp, String> {
        let socket = UdpSocket::bind(bind)
            .map_err(|error| format!("sip cannot bind UDP {bind}: {error}"))?;
        socket
            .set_read_timeout(Some(READ_TIMEOUT))
            .map_err(|error| format!("sip cannot set a read timeout on {bind}: {error}"))?;
        let local = socket
            .local_addr()
            .map_err(|error| format!("sip cannot read the address of {bind}: {error}"))?;
        let mut engine = Engine::new(local.into(), peer.into(), false);
        engine.set_no_answer(no_answer_ms);
        let shared = Arc::new(Shared {
            live: Live::new(engine, reporter),
            socket,
            peer,
            stop: AtomicBool::new(false),
        });
        let serving = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name(format!("sip-udp-{local}"))
            .spawn(move || serving.serve())
            .map_err(|error| format!("sip cannot start its UDP thread: {error}"))?;
        Ok(Udp {
            shared,
            local,
            thread: Some(thread),
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.local
    }

    pub(crate) fn run<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        self.shared.run(f)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Engine) -> T) -> T {
        f(&self.shared.live.lock())
    }
}

impl Drop for Udp {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        // Wakes the thread from its read at once rather than at the read
        // timeout: a harness that opens a provider per fixture would wait
        // that long every time. (An empty datagram; lost, the timeout
        // still ends the read.)
        let _ = self.shared.socket.send_to(&[], self.local);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}
