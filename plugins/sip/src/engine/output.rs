//! What the engine wants done, in one queue: the messages it sends and the
//! notes it takes, and the reports of its call table (new calls, states,
//! completions), which is why that queue is the table's [`Events`]. One
//! queue keeps one order: a state is reported exactly where it happened
//! between the messages (SPEC D4).

use cleardown_sdk::calls::Events;
use cleardown_sdk::{AddressId, CallId, CallStatus, LineResult, RequestId};
use rsipstack::rsip::SipMessage;

use super::Source;

/// What the engine wants done, in the order it happened.
#[derive(Debug, Clone)]
pub(crate) enum Output {
    /// Send `message` to `to` (`None`: the peer).
    Send {
        message: Box<SipMessage>,
        to: Source,
    },
    /// [`cleardown_sdk::Reporter::new_call`].
    NewCall {
        call: CallId,
        address: AddressId,
        request: Option<RequestId>,
    },
    /// [`cleardown_sdk::Reporter::state`].
    State {
        call: CallId,
        status: CallStatus<CallId>,
    },
    /// [`cleardown_sdk::Reporter::complete`].
    Complete {
        request: RequestId,
        result: LineResult<()>,
    },
    /// Something a person debugging traffic wants to know (bad input).
    Note(String),
}

/// The queue of [`Output`]s, until the transport takes them.
#[derive(Debug, Default)]
pub(super) struct Outbox(Vec<Output>);

impl Outbox {
    pub(super) fn push(&mut self, output: Output) {
        self.0.push(output);
    }

    /// Everything queued, in order; the queue is empty after.
    pub(super) fn take(&mut self) -> Vec<Output> {
        std::mem::take(&mut self.0)
    }
}

impl Events for Outbox {
    fn new_call(&mut self, call: CallId, address: AddressId, request: Option<RequestId>) {
        self.push(Output::NewCall {
            call,
            address,
            request,
        });
    }

    fn state(&mut self, call: CallId, status: CallStatus<CallId>) {
        self.push(Output::State { call, status });
    }

    fn complete(&mut self, request: RequestId, result: LineResult<()>) {
        self.push(Output::Complete { request, result });
    }
}
