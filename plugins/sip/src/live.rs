//! What the real transports (UDP, TCP) share: the engine behind one mutex,
//! on real time, with everything it produced delivered from under that
//! lock, so that reports and messages keep the engine's order whichever
//! thread caused them (a provider method, a received message, a timer).

use std::net::SocketAddr;
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use cleardown_sdk::Reporter;
use rsipstack::rsip::SipMessage;

use crate::engine::{Engine, Output};

/// The engine of a real transport. See the module documentation.
#[derive(Debug)]
pub(crate) struct Live {
    engine: Mutex<Engine>,
    reporter: Reporter,
    start: Instant,
}

impl Live {
    pub(crate) fn new(engine: Engine, reporter: Reporter) -> Live {
        Live {
            engine: Mutex::new(engine),
            reporter,
            start: Instant::now(),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Engine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `f` on the engine at the current time (which fires the timers
    /// that fell due), then hands each message it wants sent to `send`
    /// (`None`: to the peer) and each report to the host, in order, still
    /// holding the lock.
    pub(crate) fn run<T>(
        &self,
        f: impl FnOnce(&mut Engine) -> T,
        mut send: impl FnMut(&SipMessage, Option<SocketAddr>),
    ) -> T {
        let mut engine = self.lock();
        let now = u64::try_from(self.start.elapsed().as_millis()).unwrap_or(u64::MAX);
        engine.set_time(now);
        let result = f(&mut engine);
        for output in engine.take_output() {
            match output.report(&self.reporter) {
                Some(Output::Send { message, to }) => send(&message, to),
                Some(Output::Note(note)) => eprintln!("sip: {note}"),
                _ => {}
            }
        }
        result
    }
}
