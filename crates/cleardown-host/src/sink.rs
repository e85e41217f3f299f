//! The host's end of the event channel: what a provider calls, from any
//! thread, to report. It only queues; routing to apps happens when the host
//! next takes its state lock (`HostState::pump`), so a provider reporting from
//! inside a host call can never deadlock on the host.

use std::sync::{
    Arc, Condvar, Mutex, PoisonError,
    atomic::{AtomicBool, Ordering},
};

use cleardown_contract::{AddressId, CallId, RequestId, abi::EventSink};

use crate::ProviderId;

/// One report, not yet decoded.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Raw {
    NewCall {
        call: CallId,
        address: AddressId,
        request: RequestId,
    },
    State {
        call: CallId,
        state: u32,
        mode: u32,
        parent: CallId,
    },
    Complete {
        request: RequestId,
        result: u32,
    },
}

/// Reports from every provider, in arrival order, and a generation count
/// that changes whenever a report arrives or a pump routes one, so a waiting
/// app never misses an event another thread routed for it.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    queue: Mutex<Queued>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct Queued {
    reports: Vec<(ProviderId, Raw)>,
    generation: u64,
    /// Apps blocked in `wait_past`: only then is there anyone to wake. A
    /// `Condvar::notify_all` is a futex system call whether or not anyone
    /// waits, and a report is otherwise only a push.
    waiting: usize,
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queued> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, provider: ProviderId, raw: Raw) {
        let mut queued = self.lock();
        queued.reports.push((provider, raw));
        queued.generation += 1;
        if queued.waiting > 0 {
            self.changed.notify_all();
        }
    }

    /// Moves every queued report into `into` (reusing its allocation).
    pub(crate) fn drain_into(&self, into: &mut Vec<(ProviderId, Raw)>) {
        std::mem::swap(&mut self.lock().reports, into);
    }

    /// Says that reports were routed to apps: wakes apps waiting for events.
    pub(crate) fn routed(&self) {
        let mut queued = self.lock();
        queued.generation += 1;
        if queued.waiting > 0 {
            self.changed.notify_all();
        }
    }

    /// The current generation; pass it to [`Inbox::wait_past`].
    pub(crate) fn generation(&self) -> u64 {
        self.lock().generation
    }

    /// Waits until the generation moves past `seen` or `timeout` passes.
    pub(crate) fn wait_past(&self, seen: u64, timeout: std::time::Duration) {
        let mut queued = self.lock();
        // Counted under the lock before it is released by the wait, so a
        // report pushed after the check cannot miss this waiter.
        queued.waiting += 1;
        let (mut queued, _) = self
            .changed
            .wait_timeout_while(queued, timeout, |q| q.generation == seen)
            .unwrap_or_else(PoisonError::into_inner);
        queued.waiting -= 1;
    }
}

/// The sink handed to one provider: it stamps each report with the provider.
///
/// It is live only once the host has registered the provider: a provider
/// whose open failed never gets a slot, and what it (or a thread it left
/// behind) reports must not reach the provider that takes its number next.
#[derive(Debug, Clone)]
pub(crate) struct HostSink {
    inbox: Arc<Inbox>,
    provider: ProviderId,
    live: Arc<AtomicBool>,
}

impl HostSink {
    /// A sink for the provider about to be registered as `provider`, and
    /// the switch that makes it live.
    pub(crate) fn new(inbox: Arc<Inbox>, provider: ProviderId) -> (HostSink, Arc<AtomicBool>) {
        let live = Arc::new(AtomicBool::new(false));
        (
            HostSink {
                inbox,
                provider,
                live: live.clone(),
            },
            live,
        )
    }

    fn push(&self, raw: Raw) {
        if self.live.load(Ordering::Acquire) {
            self.inbox.push(self.provider, raw);
        }
    }
}

impl EventSink for HostSink {
    fn new_call(&self, call: CallId, address: AddressId, request: RequestId) {
        self.push(Raw::NewCall {
            call,
            address,
            request,
        });
    }
    fn call_state(&self, call: CallId, state: u32, mode: u32, parent: CallId) {
        self.push(Raw::State {
            call,
            state,
            mode,
            parent,
        });
    }
    fn complete(&self, request: RequestId, result: u32) {
        self.push(Raw::Complete { request, result });
    }
}
