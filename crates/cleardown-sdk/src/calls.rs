//! A provider's call table, with what the contract says about calls
//! built in: ids from a counter, a wrong id is `InvalPointer`, every state
//! is recorded and reported in one step (SPEC D4: the host hears each state
//! as it happens), Idle is final (S1), a placed call goes Dialing,
//! Proceeding and completes its request (`lineMakeCall`), a far hang-up
//! gives the disconnect mode of its cause (S3, §10), and the state checks
//! of [`crate::step`] and the drop plan of [`crate::drop`] are asked of the
//! call itself.
//!
//! `T` is the provider's own per-call data (a call reference, a dialog,
//! conference links); a [`Call`] derefs to it, so `call.dialog` reads the
//! provider's field and `call.status` the table's. `E` is where reports go:
//! the host's [`Reporter`], or an [`Events`] of the provider's own (a
//! sans-I/O engine queues them with what it sends).
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

use std::ops::{Deref, DerefMut};

use crate::{
    AddressId, CallId, CallInfo, CallState, CallStatus, DisconnectCode, DisconnectMode, LineError,
    LineResult, Reporter, RequestId,
    drop::{self, Release},
    seq::SeqMap,
    step::{self, Step},
};

/// Where a call table's reports go, in the order they happen: the
/// [`Reporter`]'s three calls.
pub trait Events {
    /// [`Reporter::new_call`].
    fn new_call(&mut self, call: CallId, address: AddressId, request: Option<RequestId>);
    /// [`Reporter::state`].
    fn state(&mut self, call: CallId, status: CallStatus<CallId>);
    /// [`Reporter::complete`].
    fn complete(&mut self, request: RequestId, result: LineResult<()>);
}

impl Events for Reporter {
    fn new_call(&mut self, call: CallId, address: AddressId, request: Option<RequestId>) {
        Reporter::new_call(self, call, address, request);
    }

    fn state(&mut self, call: CallId, status: CallStatus<CallId>) {
        Reporter::state(self, call, status);
    }

    fn complete(&mut self, request: RequestId, result: LineResult<()>) {
        Reporter::complete(self, request, result);
    }
}

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

/// The provider's fields read as the call's own: one record per call,
/// whichever half of it a field lives in.
impl<T> Deref for Call<T> {
    type Target = T;

    fn deref(&self) -> &T {
        &self.data
    }
}

impl<T> DerefMut for Call<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.data
    }
}

/// One call to change, with the table's reports at hand so that a state
/// it enters is reported in the same step ([`CallMut::enter`]). Derefs to
/// the [`Call`].
#[derive(Debug)]
pub struct CallMut<'a, T, E = Reporter> {
    id: CallId,
    call: &'a mut Call<T>,
    events: &'a mut E,
}

impl<T, E: Events> CallMut<'_, T, E> {
    /// Its id.
    pub fn id(&self) -> CallId {
        self.id
    }

    /// The call is now in `status`: recorded and reported at once. Nothing
    /// happens for the state it is in already, or after Idle (S1).
    pub fn enter(&mut self, status: CallStatus<CallId>) {
        if self.call.status == status || self.call.status.is_idle() {
            return;
        }
        self.call.status = status;
        self.events.state(self.id, status);
    }

    /// The far end left: Disconnected in `mode`, kept for call info (SPEC
    /// S3, Q1). For a world whose far end gives no Q.850 cause (a SIP
    /// status, a loop that opened); see [`CallMut::hung_up`].
    pub fn disconnected(&mut self, mode: DisconnectMode) {
        self.call.disconnect_mode = Some(mode);
        self.enter(CallStatus::Disconnected { mode });
    }

    /// The far end hung up with Q.850 `cause`: Disconnected in the mode the
    /// cause gives (SPEC S3, §10), kept for call info.
    pub fn hung_up(&mut self, cause: u32) {
        self.disconnected(drop::q850::mode(cause));
    }
}

impl<'a, T, E> CallMut<'a, T, E> {
    /// The call itself, for as long as the table was lent: for a helper
    /// that returns a field of it. Entering a state needs the [`CallMut`].
    pub fn into_mut(self) -> &'a mut Call<T> {
        self.call
    }
}

impl<T, E> Deref for CallMut<'_, T, E> {
    type Target = Call<T>;

    fn deref(&self) -> &Call<T> {
        self.call
    }
}

impl<T, E> DerefMut for CallMut<'_, T, E> {
    fn deref_mut(&mut self) -> &mut Call<T> {
        self.call
    }
}

/// Every call of a provider, and the [`Events`] that tell the host.
#[derive(Debug)]
pub struct Calls<T, E = Reporter> {
    events: E,
    /// Hashed by id as allocated ([`crate::seq`]): a cascade reaches its
    /// calls in id order, and so walks memory in order.
    calls: SeqMap<CallId, Call<T>>,
    last: u64,
}

impl<T, E: Events> Calls<T, E> {
    /// An empty table reporting to `events`.
    pub fn new(events: E) -> Calls<T, E> {
        Calls {
            events,
            calls: SeqMap::default(),
            last: 0,
        }
    }

    /// Where the table reports, for what it does not report itself
    /// (completions of other requests).
    pub fn events(&self) -> &E {
        &self.events
    }

    /// The same, to change (a provider's own queue of what it sends).
    pub fn events_mut(&mut self) -> &mut E {
        &mut self.events
    }

    /// Call `id`; `InvalPointer` if there is none.
    pub fn get(&self, id: CallId) -> LineResult<&Call<T>> {
        self.calls.get(&id).ok_or(LineError::InvalPointer)
    }

    /// Call `id` to change; `InvalPointer` if there is none.
    pub fn get_mut(&mut self, id: CallId) -> LineResult<CallMut<'_, T, E>> {
        let call = self.calls.get_mut(&id).ok_or(LineError::InvalPointer)?;
        Ok(CallMut {
            id,
            call,
            events: &mut self.events,
        })
    }

    /// Whether there is a call `id`.
    pub fn contains(&self, id: CallId) -> bool {
        self.calls.contains_key(&id)
    }

    /// How many calls there are.
    pub fn len(&self) -> usize {
        self.calls.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.calls.is_empty()
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
    pub fn complete(&mut self, request: RequestId) {
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

    /// A new call at `address`, announced (for `request`, the request that
    /// made it, if any) and not yet in any state: the provider enters its
    /// first before the operation returns. For calls that are neither
    /// placed nor offered, such as a conference's parent.
    pub fn add(
        &mut self,
        address: AddressId,
        outbound: bool,
        request: Option<RequestId>,
        data: T,
    ) -> CallId {
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
        self.events.new_call(id, address, request);
        id
    }

    /// A call placed for `request` at `address`, announced, Dialing then
    /// Proceeding; the request is the caller's to complete (a consultation
    /// call is linked first). See [`Calls::place`].
    pub fn dial(&mut self, request: RequestId, address: AddressId, data: T) -> CallId {
        let id = self.add(address, true, Some(request), data);
        self.enter(id, CallStatus::Dialing);
        self.enter(id, CallStatus::Proceeding);
        id
    }

    /// `lineMakeCall` accepted: [`Calls::dial`], and the request completed
    /// (the call is placed; its answer comes later).
    pub fn place(&mut self, request: RequestId, address: AddressId, data: T) -> CallId {
        let id = self.dial(request, address, data);
        self.complete(request);
        id
    }

    /// The far end's call offered at `address`: a new call, announced,
    /// Offering.
    pub fn offer(&mut self, address: AddressId, data: T) -> CallId {
        let id = self.add(address, false, None, data);
        self.enter(id, CallStatus::Offering);
        id
    }

    /// Call `id` is now in `status` ([`CallMut::enter`]).
    pub fn enter(&mut self, id: CallId, status: CallStatus<CallId>) {
        if let Ok(mut call) = self.get_mut(id) {
            call.enter(status);
        }
    }

    /// The far end hung up call `id` ([`CallMut::hung_up`]).
    pub fn hung_up(&mut self, id: CallId, cause: u32) {
        if let Ok(mut call) = self.get_mut(id) {
            call.hung_up(cause);
        }
    }

    /// Forgets call `id` (`TSPI_lineCloseCall`, once it is dealt with).
    pub fn remove(&mut self, id: CallId) -> Option<Call<T>> {
        self.calls.remove(&id)
    }

    /// Every call, in no particular order: for a search whose answer does
    /// not depend on order (whether any call is busy), without the sort of
    /// [`Calls::iter`].
    pub fn unordered(&self) -> impl Iterator<Item = (CallId, &Call<T>)> {
        self.calls.iter().map(|(&id, call)| (id, call))
    }

    /// Every call, by id (sorted on each call: for views, not hot paths).
    pub fn iter(&self) -> impl Iterator<Item = (CallId, &Call<T>)> {
        let mut calls: Vec<(CallId, &Call<T>)> =
            self.calls.iter().map(|(&id, call)| (id, call)).collect();
        calls.sort_unstable_by_key(|&(id, _)| id);
        calls.into_iter()
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

    /// A provider's own queue of reports, as a sans-I/O engine keeps.
    #[derive(Debug, Default)]
    struct Queue(Vec<String>);

    impl Events for Queue {
        fn new_call(&mut self, call: CallId, _: AddressId, _: Option<RequestId>) {
            self.0.push(format!("new {}", call.0));
        }
        fn state(&mut self, call: CallId, status: CallStatus<CallId>) {
            self.0.push(format!("{} {:?}", call.0, status.state()));
        }
        fn complete(&mut self, request: RequestId, _: LineResult<()>) {
            self.0.push(format!("complete {}", request.0));
        }
    }

    #[test]
    fn idle_is_final_and_a_state_is_reported_once() {
        let mut calls: Calls<u8, Queue> = Calls::new(Queue::default());
        let id = calls.dial(RequestId(3), AddressId(0), 7);
        calls.enter(id, CallStatus::Proceeding);
        let mut call = calls.get_mut(id).expect("just made");
        // The provider's fields read through the call (Deref).
        call.data += 1;
        call.enter(CallStatus::Idle);
        call.enter(CallStatus::connected());
        assert_eq!(call.state(), CallState::Idle, "SPEC S1: Idle is final");
        calls.complete(RequestId(3));
        assert_eq!(calls.get(id).map(|call| **call), Ok(8));
        assert_eq!(
            calls.events().0,
            ["new 1", "1 Dialing", "1 Proceeding", "1 Idle", "complete 3"]
        );
    }
}
