//! The host's end of the event channel: what a provider calls, from any
//! thread, to report. It only queues; routing to apps happens when the host
//! next takes its state lock (`HostState::pump`), so a provider reporting from
//! inside a host call can never deadlock on the host.

use std::sync::{Arc, Condvar, Mutex, PoisonError};

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

/// Reports from every provider, in arrival order.
#[derive(Debug, Default)]
pub(crate) struct Inbox {
    queue: Mutex<Vec<(ProviderId, Raw)>>,
    arrived: Condvar,
}

impl Inbox {
    fn push(&self, provider: ProviderId, raw: Raw) {
        self.queue
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push((provider, raw));
        self.arrived.notify_all();
    }

    /// Moves every queued report into `into` (reusing its allocation).
    pub(crate) fn drain_into(&self, into: &mut Vec<(ProviderId, Raw)>) {
        let mut queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        std::mem::swap(&mut *queue, into);
    }

    /// Waits until a report is queued or `timeout` passes; true if one is.
    pub(crate) fn wait(&self, timeout: std::time::Duration) -> bool {
        let queue = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        if !queue.is_empty() {
            return true;
        }
        let (queue, _) = self
            .arrived
            .wait_timeout(queue, timeout)
            .unwrap_or_else(PoisonError::into_inner);
        !queue.is_empty()
    }
}

/// The sink handed to one provider: it stamps each report with the provider.
#[derive(Debug, Clone)]
pub(crate) struct HostSink {
    pub(crate) inbox: Arc<Inbox>,
    pub(crate) provider: ProviderId,
}

impl EventSink for HostSink {
    fn new_call(&self, call: CallId, address: AddressId, request: RequestId) {
        self.inbox.push(
            self.provider,
            Raw::NewCall {
                call,
                address,
                request,
            },
        );
    }
    fn call_state(&self, call: CallId, state: u32, mode: u32, parent: CallId) {
        self.inbox.push(
            self.provider,
            Raw::State {
                call,
                state,
                mode,
                parent,
            },
        );
    }
    fn complete(&self, request: RequestId, result: u32) {
        self.inbox
            .push(self.provider, Raw::Complete { request, result });
    }
}
