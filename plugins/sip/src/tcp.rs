//! The `tcp` transport (RFC 3261 §18: a UA MUST implement both UDP and
//! TCP): the same engine over TCP connections, which lose nothing, so only
//! a 2xx is ever sent again.
//!
//! * **Framing** (§18.3): a stream carries messages back to back, each its
//!   header section up to the blank line, then exactly `Content-Length`
//!   bytes of body (a stream message without one has no body). CRLFs
//!   between messages (keep-alives) are skipped. A header section that
//!   does not end within [`MAX_MESSAGE`] bytes, or a `Content-Length` that
//!   is not a number, leaves the stream unframeable: that connection is
//!   closed, and nothing else is touched.
//! * **Connections** (§18.1.1, §18.2.2): one per remote address. A
//!   response goes back over the connection its request came on; a
//!   request goes over the connection already open to its destination (a
//!   new one to the peer otherwise), and its responses come back on it.
//! * **Threads**: one accepts, one reads each connection, one ticks the
//!   engine's timers every [`TICK`]; all of them run the engine through
//!   [`Live`], so reports keep the engine's order.

use std::collections::HashMap;
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, RecvTimeoutError, Sender};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::Duration;

use cleardown_sdk::Reporter;
use rsipstack::rsip::SipMessage;

use crate::engine::Engine;
use crate::live::Live;

/// How often the engine's timers are looked at, and how long a read waits
/// before it looks at the stop flag.
const TICK: Duration = Duration::from_millis(50);
/// The largest message a connection may carry (header section and body).
pub(crate) const MAX_MESSAGE: usize = 256 * 1024;
/// How long connecting to the peer may take.
const CONNECT: Duration = Duration::from_secs(2);

/// Where the next message in `buffer` ends, if it is all there: `Ok(None)`
/// while more is needed, `Err` when the stream cannot be framed.
pub(crate) fn frame(buffer: &[u8]) -> Result<Option<usize>, String> {
    let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") else {
        if buffer.len() > MAX_MESSAGE {
            return Err(format!("no end of headers within {MAX_MESSAGE} bytes"));
        }
        return Ok(None);
    };
    let head = String::from_utf8_lossy(&buffer[..end]);
    let mut length = 0usize;
    for line in head.split("\r\n").skip(1) {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        let name = name.trim();
        if name.eq_ignore_ascii_case("content-length") || name.eq_ignore_ascii_case("l") {
            length = value
                .trim()
                .parse()
                .map_err(|_| format!("Content-Length `{}` on a stream", value.trim()))?;
        }
    }
    let total = end + 4 + length;
    if total > MAX_MESSAGE {
        return Err(format!(
            "a message of {total} bytes (at most {MAX_MESSAGE})"
        ));
    }
    Ok((buffer.len() >= total).then_some(total))
}

#[derive(Debug)]
struct Shared {
    live: Live,
    local: SocketAddr,
    peer: SocketAddr,
    stop: AtomicBool,
    /// The writing side of each open connection, by remote address.
    connections: Mutex<HashMap<SocketAddr, TcpStream>>,
    readers: Mutex<Vec<JoinHandle<()>>>,
}

impl Shared {
    /// Runs `f` on the engine; what it sends goes over the connection to
    /// its destination (see the module documentation).
    fn run<T>(self: &Arc<Self>, f: impl FnOnce(&mut Engine) -> T) -> T {
        self.live.run(f, |message, to| {
            let to = to.unwrap_or(self.peer);
            if let Err(error) = self.send(message, to) {
                eprintln!("sip: sending to {to} over TCP failed: {error}");
            }
        })
    }

    fn send(self: &Arc<Self>, message: &SipMessage, to: SocketAddr) -> std::io::Result<()> {
        let bytes = message.to_string();
        let mut connections = self
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(stream) = connections.get_mut(&to) {
            match stream.write_all(bytes.as_bytes()) {
                Ok(()) => return Ok(()),
                // A connection the other side closed: a new one below.
                Err(_) => {
                    connections.remove(&to);
                }
            }
        }
        let mut stream = TcpStream::connect_timeout(&to, CONNECT)?;
        stream.write_all(bytes.as_bytes())?;
        let reading = stream.try_clone()?;
        connections.insert(to, stream);
        drop(connections);
        self.read_in_background(reading, to);
        Ok(())
    }

    fn read_in_background(self: &Arc<Self>, stream: TcpStream, remote: SocketAddr) {
        let shared = Arc::clone(self);
        let spawned = std::thread::Builder::new()
            .name(format!("sip-tcp-{remote}"))
            .spawn(move || shared.read(stream, remote));
        match spawned {
            Ok(handle) => self
                .readers
                .lock()
                .unwrap_or_else(PoisonError::into_inner)
                .push(handle),
            Err(error) => eprintln!("sip: cannot read from {remote}: {error}"),
        }
    }

    /// Reads messages off one connection until it closes or cannot be framed.
    fn read(self: &Arc<Self>, mut stream: TcpStream, remote: SocketAddr) {
        let _ = stream.set_read_timeout(Some(TICK));
        let mut buffer: Vec<u8> = Vec::new();
        let mut chunk = vec![0u8; 16 * 1024];
        while !self.stop.load(Ordering::Relaxed) {
            match stream.read(&mut chunk) {
                Ok(0) => break,
                Ok(n) => buffer.extend_from_slice(&chunk[..n]),
                Err(error)
                    if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) =>
                {
                    continue;
                }
                Err(_) => break,
            }
            loop {
                // Keep-alives and stray line ends between messages.
                let skip = buffer
                    .iter()
                    .take_while(|b| matches!(b, b'\r' | b'\n'))
                    .count();
                buffer.drain(..skip);
                match frame(&buffer) {
                    Ok(Some(length)) => {
                        let message: Vec<u8> = buffer.drain(..length).collect();
                        self.handle(&message, remote);
                    }
                    Ok(None) => break,
                    Err(why) => {
                        eprintln!("sip: closed the TCP connection from {remote}: {why}");
                        self.forget(remote);
                        let _ = stream.shutdown(Shutdown::Both);
                        return;
                    }
                }
            }
        }
        self.forget(remote);
    }

    fn handle(self: &Arc<Self>, bytes: &[u8], remote: SocketAddr) {
        // rsip is not ours: should it panic on some input, that message is
        // lost, not the line.
        let handled = catch_unwind(AssertUnwindSafe(|| {
            self.run(|engine| engine.receive_bytes(bytes, Some(remote)))
        }));
        match handled {
            Ok(Ok(())) => {}
            Ok(Err(error)) => eprintln!(
                "sip: ignored {} bytes from {remote} that are not SIP: {error}",
                bytes.len()
            ),
            Err(_) => eprintln!("sip: a message from {remote} could not be handled; ignored"),
        }
    }

    fn forget(&self, remote: SocketAddr) {
        self.connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .remove(&remote);
    }

    fn accept(self: &Arc<Self>, listener: TcpListener) {
        for incoming in listener.incoming() {
            if self.stop.load(Ordering::Relaxed) {
                break;
            }
            let Ok(stream) = incoming else { continue };
            let Ok(remote) = stream.peer_addr() else {
                continue;
            };
            match stream.try_clone() {
                Ok(writing) => {
                    self.connections
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .insert(remote, writing);
                    self.read_in_background(stream, remote);
                }
                Err(error) => eprintln!("sip: cannot use the connection from {remote}: {error}"),
            }
        }
    }
}

/// The TCP transport. See the module documentation.
#[derive(Debug)]
pub(crate) struct Tcp {
    shared: Arc<Shared>,
    ticking: Option<Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Tcp {
    pub(crate) fn open(
        bind: SocketAddr,
        peer: SocketAddr,
        no_answer_ms: u64,
        reporter: Reporter,
    ) -> Result<Tcp, String> {
        let listener = TcpListener::bind(bind)
            .map_err(|error| format!("sip cannot listen on TCP {bind}: {error}"))?;
        let local = listener
            .local_addr()
            .map_err(|error| format!("sip cannot read the address of {bind}: {error}"))?;
        let mut engine = Engine::new(local.into(), peer.into(), true);
        engine.over_tcp();
        engine.set_no_answer(no_answer_ms);
        let shared = Arc::new(Shared {
            live: Live::new(engine, reporter),
            local,
            peer,
            stop: AtomicBool::new(false),
            connections: Mutex::new(HashMap::new()),
            readers: Mutex::new(Vec::new()),
        });
        let accepting = Arc::clone(&shared);
        let accept = std::thread::Builder::new()
            .name(format!("sip-tcp-accept-{local}"))
            .spawn(move || accepting.accept(listener))
            .map_err(|error| format!("sip cannot start its TCP thread: {error}"))?;
        let (ticking, ticks) = mpsc::channel::<()>();
        let timing = Arc::clone(&shared);
        let tick = std::thread::Builder::new()
            .name(format!("sip-tcp-timers-{local}"))
            .spawn(move || {
                // Timers fire from here; a dropped sender ends the thread.
                while let Err(RecvTimeoutError::Timeout) = ticks.recv_timeout(TICK) {
                    timing.run(|_| ());
                }
            })
            .map_err(|error| format!("sip cannot start its TCP timer thread: {error}"))?;
        Ok(Tcp {
            shared,
            ticking: Some(ticking),
            threads: vec![accept, tick],
        })
    }

    pub(crate) fn local_addr(&self) -> SocketAddr {
        self.shared.local
    }

    pub(crate) fn run<T>(&self, f: impl FnOnce(&mut Engine) -> T) -> T {
        self.shared.run(f)
    }

    pub(crate) fn read<T>(&self, f: impl FnOnce(&Engine) -> T) -> T {
        f(&self.shared.live.lock())
    }
}

impl Drop for Tcp {
    fn drop(&mut self) {
        self.shared.stop.store(true, Ordering::Relaxed);
        self.ticking = None;
        // Wakes the accepting thread, which then sees the stop flag.
        let _ = TcpStream::connect_timeout(&self.shared.local, CONNECT);
        for stream in self
            .shared
            .connections
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .values()
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
        let readers: Vec<JoinHandle<()>> = self
            .shared
            .readers
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
            .collect();
        for reader in readers {
            let _ = reader.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 3261 §18.3: a stream is framed by Content-Length; the compact
    /// form counts; a message is taken only when it is all there; a
    /// Content-Length that is not a number cannot be framed.
    #[test]
    fn rfc3261_18_3_stream_framing_by_content_length() {
        let one = b"OPTIONS sip:a SIP/2.0\r\nl: 3\r\n\r\nabc";
        assert_eq!(frame(one), Ok(Some(one.len())));
        assert_eq!(frame(&one[..one.len() - 1]), Ok(None));
        let two = [&one[..], b"BYE sip:a SIP/2.0\r\n"].concat();
        assert_eq!(frame(&two), Ok(Some(one.len())));
        let none = b"ACK sip:a SIP/2.0\r\nCSeq: 1 ACK\r\n\r\nBYE";
        assert_eq!(frame(none), Ok(Some(none.len() - 3)));
        assert!(frame(b"INVITE sip:a SIP/2.0\r\nContent-Length: x\r\n\r\n").is_err());
        assert!(frame(&vec![b'a'; MAX_MESSAGE + 1]).is_err());
        let huge = b"INVITE sip:a SIP/2.0\r\nContent-Length: 99999999\r\n\r\n";
        assert!(frame(huge).is_err());
    }
}
