//! What an app sees: its handles, its events, and the outcomes of
//! operations that are more than success or failure.
//!
//! These are the host's side of the contract (SPEC §0, D3, D4, D10, R3, B5);
//! they live here so that every host, transcript and report speaks them.

use serde::{Deserialize, Serialize};

use crate::{CallStatus, LineResult, Privilege, RequestId};

/// An app's reference to a call (TAPI `HCALL`). Valid from the moment the
/// app learns of the call until the app deallocates it (T2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct CallHandle(pub u32);

impl std::fmt::Display for CallHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "h{}", self.0)
    }
}

/// What an app receives, in order (D10).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Event {
    /// A call the app holds changed state (TAPI `LINE_CALLSTATE`). The first
    /// event for a handle the app has not seen announces a new call.
    CallState {
        /// The app's handle to the call.
        handle: CallHandle,
        /// The new state; a `Conferenced` parent is the app's own handle to
        /// it, if it holds one.
        status: CallStatus<Option<CallHandle>>,
        /// The app's privilege on the call.
        privilege: Privilege,
    },
    /// An asynchronous request completed (TAPI `LINE_REPLY`), after every
    /// state event it caused (D4). Exactly one per request (D3).
    Reply {
        /// The id the operation returned.
        request: RequestId,
        /// How it ended.
        result: LineResult<()>,
    },
}

/// What an app's TAPI 3 disconnect did (TAPI 3 `Disconnect`, SPEC R3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Disconnected {
    /// A drop was started; its Reply follows.
    Requested(RequestId),
    /// The call was already Idle: nothing to do (TAPI 3's `S_FALSE`).
    AlreadyIdle,
}

/// What closing a line did to the closing app's calls (SPEC B5). The app's
/// handles stay valid, now with Monitor privilege, until it deallocates them.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct LineClosed {
    /// Calls the app solely owned that were dropped (`close_drop`).
    pub dropped: Vec<CallHandle>,
    /// Calls the app solely owned that are still up (no `close_drop`, or a
    /// drop the provider refused): warn the user.
    pub still_active: Vec<CallHandle>,
}
