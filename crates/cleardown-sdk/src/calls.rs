//! A provider's call table, with what the contract says about calls
//! built in: ids from a counter, a wrong id is `InvalPointer`, every state
//! is recorded and reported in one step (SPEC D4: the host hears each state
//! as it happens), a placed call goes Dialing, Proceeding and completes its
//! request (`lineMakeCall`), a far hang-up gives the disconnect mode of its
//! cause (S3, §10), and the state checks of [`crate::step`] and the drop
//! plan of [`crate::drop`] are asked of the call itself.
//!
//! `T` is the provider's own per-call data (a call reference, a party).
//!
//! ```
//! use cleardown_sdk::calls::Calls;
//! use cleardown_sdk::step::Step;
//! use cleardown_sdk::testing::Recording;
//! use cleardown_sdk::{AddressId, CallState, RequestId};
//!
//! let recording = Recording::new();
//! let mut calls: Calls<&str> = Calls::new(recording.reporter());
//! let id = calls.place(RequestId(1), AddressId(0), "to alice");
//! assert_eq!(calls.state(id), Ok(CallState::Proceeding));
//! assert!(calls.check(id, Step::FarAnswer).is_ok());
//! assert_eq!(calls.get(id).map(|c| c.data), Ok("to alice"));
//! ```

use std::collections::BTreeMap;

use crate::{
    AddressId, CallId, CallInfo, CallState, CallStatus, DisconnectCode, DisconnectMode, LineError,
    LineResult, Reporter, RequestId,
    drop::{self, Release},
    step::{self, Step},
};

/// One call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Call<T> {
    /// Its address (line, station).
    pub address: AddressId,
    /// Its state now, as last reported.
    pub status: CallStatus<CallId>,
    /// We placed it (only such a call is alerted and answered by the far end).
    pub outbound: bool,
    /// How it was disconnected, once it was (call info, Q1).
    pub disconnect_mode: Option<DisconnectMode>,
    /// The provider's own data.
    pub data: T,
}

impl<T> Call<T> {
    /// Its state now.
    pub fn state(&self) -> CallState {
        self.status.state()
    }

    /// Its call info (`lineGetCallInfo`, SPEC Q1) with the far party's
    /// name `remote`, no related calls and no UUI; set those fields on the
    /// result where the provider has them.
    pub fn info(&self, remote: impl Into<String>) -> CallInfo<CallId> {
        CallInfo {
            address: self.address,
            status: self.status,
            related: Vec::new(),
            remote: remote.into(),
            disconnect_mode: self.disconnect_mode,
            uui_received: Vec::new(),
            uui_sent: Vec::new(),
        }
    }
}

/// Every call of a provider, and the [`Reporter`] that tells the host.
#[derive(Debug)]
pub struct Calls<T> {
    events: Reporter,
    calls: BTreeMap<CallId, Call<T>>,
    last: u64,
}

impl<T> Calls<T> {
    /// An empty table reporting to `events`.
    pub fn new(events: Reporter) -> Calls<T> {
        Calls {
            events,
            calls: BTreeMap::new(),
            last: 0,
        }
    }

    /// The reporter, for what the table does not report itself
    /// (completions of other requests).
    pub fn events(&self) -> &Reporter {
        &self.events
    }

    /// Call `id`; `InvalPointer` if there is none.
    pub fn get(&self, id: CallId) -> LineResult<&Call<T>> {
        self.calls.get(&id).ok_or(LineError::InvalPointer)
    }

    /// Call `id` to change; `InvalPointer` if there is none.
    pub fn get_mut(&mut self, id: CallId) -> LineResult<&mut Call<T>> {
        self.calls.get_mut(&id).ok_or(LineError::InvalPointer)
    }

    /// The state of call `id`.
    pub fn state(&self, id: CallId) -> LineResult<CallState> {
        self.get(id).map(Call::state)
    }

    /// Whether `step` applies to call `id` now ([`step::check`], with the
    /// call's direction); `InvalPointer` or `InvalCallState` if not.
    pub fn check(&self, id: CallId, what: Step) -> LineResult<()> {
        let call = self.get(id)?;
        step::check(what, call.state(), call.outbound)
    }

    /// What dropping call `id` with `code` does ([`drop::plan`]); `closing`:
    /// the host closes it (T3).
    pub fn plan_drop(
        &self,
        id: CallId,
        code: DisconnectCode,
        reject_by_drop: bool,
        closing: bool,
    ) -> LineResult<Release> {
        let situation = drop::Situation {
            closing,
            ..drop::Situation::new(self.state(id)?, code).rejecting(reject_by_drop)
        };
        drop::plan(situation)
    }

    /// The id the next new call will get (to link it before it exists).
    pub fn next_id(&self) -> CallId {
        CallId(self.last + 1)
    }

    /// Completes `request` successfully, after the states it caused (D4).
    pub fn complete(&self, request: RequestId) {
        self.events.complete(request, Ok(()));
    }

    /// Checks that `what` applies to call `id` ([`Calls::check`]), then
    /// enters `status` and, for an app's operation, completes its
    /// `request`: answer, accept, hold and unhold, and the far end's alert
    /// and answer, in one step.
    pub fn apply(
        &mut self,
        request: Option<RequestId>,
        id: CallId,
        what: Step,
        status: CallStatus<CallId>,
    ) -> LineResult<()> {
        self.check(id, what)?;
        self.enter(id, status);
        if let Some(request) = request {
            self.complete(request);
        }
        Ok(())
    }

    fn insert(&mut self, address: AddressId, outbound: bool, data: T) -> CallId {
        self.last += 1;
        let id = CallId(self.last);
        let call = Call {
            address,
            status: CallStatus::Unknown,
            outbound,
            disconnect_mode: None,
            data,
        };
        self.calls.insert(id, call);
        id
    }

    /// `lineMakeCall` accepted: a new call at `address`, announced for
    /// `request`, Dialing then Proceeding, and the request completed (the
    /// call is placed; its answer comes later).
    pub fn place(&mut self, request: RequestId, address: AddressId, data: T) -> CallId {
        let id = self.insert(address, true, data);
        self.events.new_call(id, address, Some(request));
        self.enter(id, CallStatus::Dialing);
        self.enter(id, CallStatus::Proceeding);
        self.events.complete(request, Ok(()));
        id
    }

    /// The far end's call offered at `address`: a new call, announced,
    /// Offering.
    pub fn offer(&mut self, address: AddressId, data: T) -> CallId {
        let id = self.insert(address, false, data);
        self.events.new_call(id, address, None);
        self.enter(id, CallStatus::Offering);
        id
    }

    /// Call `id` is now in `status`: recorded and reported at once.
    pub fn enter(&mut self, id: CallId, status: CallStatus<CallId>) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.status = status;
            self.events.state(id, status);
        }
    }

    /// The far end hung up call `id` with Q.850 `cause`: Disconnected in
    /// the mode the cause gives (SPEC S3, §10), kept for call info.
    pub fn hung_up(&mut self, id: CallId, cause: u32) {
        let mode = drop::q850::mode(cause);
        if let Some(call) = self.calls.get_mut(&id) {
            call.disconnect_mode = Some(mode);
        }
        self.enter(id, CallStatus::Disconnected { mode });
    }

    /// Forgets call `id` (`TSPI_lineCloseCall`, once it is dealt with).
    pub fn remove(&mut self, id: CallId) -> Option<Call<T>> {
        self.calls.remove(&id)
    }

    /// Every call, by id.
    pub fn iter(&self) -> impl Iterator<Item = (CallId, &Call<T>)> {
        self.calls.iter().map(|(&id, call)| (id, call))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::Recording;

    #[test]
    fn placed_offered_hung_up_and_refused() {
        let recording = Recording::new();
        let mut calls: Calls<()> = Calls::new(recording.reporter());
        let out = calls.place(RequestId(7), AddressId(0), ());
        let into = calls.offer(AddressId(1), ());
        assert_eq!(calls.state(out), Ok(CallState::Proceeding));
        assert_eq!(calls.state(into), Ok(CallState::Offering));
        assert_eq!(
            calls.check(into, Step::FarAnswer),
            Err(LineError::InvalCallState)
        );
        assert_eq!(calls.check(into, Step::Answer), Ok(()));
        calls.hung_up(out, 17);
        assert_eq!(
            calls.get(out).map(|c| c.disconnect_mode),
            Ok(Some(DisconnectMode::Busy))
        );
        assert_eq!(
            calls.plan_drop(into, DisconnectCode::Busy, true, false),
            Ok(Release::Reject { cause: 17 })
        );
        assert_eq!(calls.state(CallId(99)), Err(LineError::InvalPointer));
        assert!(calls.remove(out).is_some() && calls.get(out).is_err());
        // Every state reported as it was entered, the placing completed
        // after its states (SPEC D4).
        recording.assert_reported(&[
            "new call#1 at 0 by request#7",
            "state call#1 Dialing",
            "state call#1 Proceeding",
            "complete request#7 Ok",
            "new call#2 at 1",
            "state call#2 Offering",
            "state call#1 Disconnected/Busy",
        ]);
    }
}
