//! The host's end of the event channel: what a provider calls, from any
//! thread, to report. It only queues; routing to apps happens when the host
//! next takes its state lock (`HostState::pump`), so a provider reporting from
//! inside a host call can never deadlock on the host.
//!
//! Reports come in by one of two lanes, merged back into the order the
//! provider made them:
//!
//! * the *direct lane*, for a report made on the thread that is inside a
//!   call from this host into a provider (a drop reporting its cascade):
//!   appended to a buffer of that thread, no lock, no atomic
//!   read-modify-write. A cascade reports once per affected call, and a
//!   mutex per report was the host's largest cost (benches/README.md);
//! * the *queue*, for every other report (a provider's own threads, or
//!   reports outside a host call): under the inbox lock, as before.
//!
//! A queued report records how many direct reports the inbox had taken
//! when it was queued (`mark`). A provider that reports from two threads
//! orders its reports with its own lock, and that lock orders the mark's
//! load against the direct lane's count, so merging by mark restores the
//! provider's order exactly (D10).

use std::{
    cell::RefCell,
    sync::{
        Arc, Condvar, Mutex, PoisonError,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
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
    /// How many reports the direct lane has ever taken for this inbox.
    /// Written only by the thread inside a host call into a provider (the
    /// host's state lock makes that one thread at a time), read by queued
    /// reports as their `mark`.
    direct: AtomicU64,
}

#[derive(Debug, Default)]
struct Queued {
    /// Each with the direct lane's count when it was queued.
    reports: Vec<(u64, ProviderId, Raw)>,
    generation: u64,
    /// Apps blocked in `wait_past`: only then is there anyone to wake. A
    /// `Condvar::notify_all` is a futex system call whether or not anyone
    /// waits, and a report is otherwise only a push.
    waiting: usize,
}

/// The direct lane of this thread: the inbox whose host is calling a
/// provider on it, and the reports made for that inbox since.
struct Lane {
    inbox: *const Inbox,
    reports: Vec<(ProviderId, Raw)>,
}

thread_local! {
    static LANE: RefCell<Lane> = const {
        RefCell::new(Lane {
            inbox: std::ptr::null(),
            reports: Vec::new(),
        })
    };
}

/// The direct lane opened by [`Inbox::direct`]; closing it (on drop, so
/// also on unwinding) restores the lane of any outer call on this thread.
struct Opened {
    outer: *const Inbox,
    start: usize,
}

impl Drop for Opened {
    fn drop(&mut self) {
        LANE.with(|lane| {
            let mut lane = lane.borrow_mut();
            // Whatever was not collected (an unwinding call) is discarded
            // with the call's lane, so the outer lane's reports stay alone.
            lane.reports.truncate(self.start);
            lane.inbox = self.outer;
        });
    }
}

impl Inbox {
    fn lock(&self) -> std::sync::MutexGuard<'_, Queued> {
        self.queue.lock().unwrap_or_else(PoisonError::into_inner)
    }

    #[inline(always)]
    fn push(&self, provider: ProviderId, raw: Raw) {
        let direct = LANE.with(|lane| {
            let mut lane = lane.borrow_mut();
            if std::ptr::eq(lane.inbox, self) {
                lane.reports.push((provider, raw));
                // Only this thread writes while the lane is open: a plain
                // load and store, no read-modify-write.
                let taken = self.direct.load(Ordering::Relaxed) + 1;
                self.direct.store(taken, Ordering::Release);
                true
            } else {
                false
            }
        });
        if direct {
            return;
        }
        let mut queued = self.lock();
        let mark = self.direct.load(Ordering::Acquire);
        queued.reports.push((mark, provider, raw));
        queued.generation += 1;
        if queued.waiting > 0 {
            self.changed.notify_all();
        }
    }

    /// Runs `call` (a call into a provider) with this thread's direct lane
    /// open for this inbox, then appends what the provider reported, by
    /// either lane, to `into` in the order it reported it.
    pub(crate) fn direct<T>(
        &self,
        into: &mut Vec<(ProviderId, Raw)>,
        call: impl FnOnce() -> T,
    ) -> T {
        let opened = LANE.with(|lane| {
            let mut lane = lane.borrow_mut();
            let opened = Opened {
                outer: lane.inbox,
                start: lane.reports.len(),
            };
            lane.inbox = self;
            opened
        });
        let before = self.direct.load(Ordering::Relaxed);
        let value = call();
        LANE.with(|lane| {
            let mut lane = lane.borrow_mut();
            let mut queued = self.lock();
            if opened.start == 0 && into.is_empty() && queued.reports.is_empty() {
                // The usual case, nothing to merge: hand the buffer over
                // rather than copy a cascade's reports one by one.
                std::mem::swap(into, &mut lane.reports);
                return;
            }
            let mut direct = lane.reports.drain(opened.start..);
            let mut taken = before;
            for (mark, provider, raw) in queued.reports.drain(..) {
                while taken < mark {
                    match direct.next() {
                        Some(report) => into.push(report),
                        None => break,
                    }
                    taken += 1;
                }
                into.push((provider, raw));
            }
            into.extend(direct);
        });
        drop(opened);
        value
    }

    /// Moves every queued report into `into`, in arrival order.
    pub(crate) fn drain_into(&self, into: &mut Vec<(ProviderId, Raw)>) {
        let mut queued = self.lock();
        into.extend(
            queued
                .reports
                .drain(..)
                .map(|(_, provider, raw)| (provider, raw)),
        );
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

    #[inline(always)]
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
