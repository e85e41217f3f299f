//! The host's state behind its one lock: providers, apps, handles, calls and
//! pending requests, and the routing of provider reports to apps.

use std::collections::{HashMap, VecDeque, hash_map::Entry};

use slab::Slab;
use smallvec::SmallVec;

use abi_stable::std_types::{ROption, RResult};
use cleardown_contract::{
    AddressId, CallHandle, CallId, CallInfo, CallStatus, DisconnectCode, Event, LineError,
    LineResult, Privilege, ProviderInfo, Related, RequestId,
    abi::{ProviderBox, ProviderResult, decode_status},
};

use crate::{
    AppId, ProviderId,
    ids::IdMap,
    load::Library,
    sink::{Inbox, Raw},
};

pub(crate) struct Slot {
    pub(crate) label: String,
    pub(crate) config: String,
    pub(crate) path: Option<std::path::PathBuf>,
    pub(crate) info: ProviderInfo,
    pub(crate) library: Library,
    pub(crate) provider: ProviderBox,
    pub(crate) fault: Option<String>,
    /// How many apps have each address open.
    pub(crate) open_lines: HashMap<AddressId, u32>,
    /// How many calls it has reported new, and the last of them: how a far
    /// end on the wire learns which call its offer became.
    pub(crate) new_calls: u64,
    pub(crate) newest_call: Option<CallId>,
}

pub(crate) struct AppState {
    pub(crate) name: String,
    pub(crate) lines: HashMap<(ProviderId, AddressId), Privilege>,
    pub(crate) queue: VecDeque<Event>,
    /// Whether a handle was deallocated while events were queued for this
    /// app: only then can a queued state event be for a handle it no longer
    /// holds (D10), so only then is each one checked at delivery.
    stale: bool,
}

impl AppState {
    pub(crate) fn new(name: &str) -> AppState {
        AppState {
            name: name.to_owned(),
            lines: HashMap::new(),
            queue: VecDeque::new(),
            stale: false,
        }
    }
}

/// A call the host tracks, with every handle to it.
pub(crate) struct CallRecord {
    pub(crate) provider: ProviderId,
    pub(crate) call: CallId,
    pub(crate) address: AddressId,
    pub(crate) status: CallStatus<CallId>,
    /// Every handle to this call, one per app at most, in issue order. Kept
    /// here rather than only in the handle map, because routing a state
    /// report needs them all and a cascade routes one report per call.
    pub(crate) holders: SmallVec<[Holder; 1]>,
}

/// One app's handle to a call.
#[derive(Clone, Copy)]
pub(crate) struct Holder {
    pub(crate) handle: CallHandle,
    pub(crate) app: AppId,
    pub(crate) privilege: Privilege,
}

/// Where a handle's call record is, and whose handle it is.
#[derive(Clone, Copy)]
struct HandleSlot {
    app: AppId,
    slot: usize,
}

#[derive(Clone, Copy)]
pub(crate) struct HandleEntry {
    pub(crate) app: AppId,
    pub(crate) provider: ProviderId,
    pub(crate) call: CallId,
    pub(crate) privilege: Privilege,
    slot: usize,
}

struct Pending {
    /// `None` for the host's own requests (drops made by closing a line).
    app: Option<AppId>,
    provider: ProviderId,
}

#[derive(Default)]
pub(crate) struct HostState {
    pub(crate) providers: Vec<Slot>,
    pub(crate) apps: Vec<AppState>,
    /// Call records in a slab: the calls a cascade reports were made one
    /// after another, so their records sit next to each other and a cascade
    /// walks memory in order rather than at hashed positions (at 10 000
    /// calls the records outgrow the L2 cache, see benches/README.md).
    calls: Slab<CallRecord>,
    // Keyed by ids (handles and requests are sequence numbers, call ids a
    // provider's), hashed so that ids made in sequence stay together (see
    // `IdHasher`). The maps hold slab positions, so they stay small.
    slots: IdMap<(ProviderId, CallId), usize>,
    handles: IdMap<CallHandle, HandleSlot>,
    requests: IdMap<RequestId, Pending>,
    next_handle: u32,
    next_request: u64,
    /// Reports collected from a provider call, waiting to be routed.
    reported: Vec<(ProviderId, Raw)>,
    /// The slab position of the last call a state report was routed to
    /// (see `find_slot`).
    last_slot: usize,
    /// Calls that went Idle with no handle (on an address no app had open):
    /// closed in their provider once routing is done, as T3 closes a call
    /// whose last handle goes, so the provider can forget them.
    orphans: Vec<(ProviderId, CallId)>,
}

impl HostState {
    pub(crate) fn slot(&self, provider: ProviderId) -> LineResult<&Slot> {
        self.providers
            .get(provider.0 as usize)
            .ok_or(LineError::InvalPointer)
    }

    /// The record of `provider`'s `call`, if the host tracks it.
    pub(crate) fn record(&self, provider: ProviderId, call: CallId) -> Option<&CallRecord> {
        self.slots
            .get(&(provider, call))
            .and_then(|&slot| self.calls.get(slot))
    }

    /// The provider and call behind any app's handle.
    pub(crate) fn call_of(&self, handle: CallHandle) -> Option<(ProviderId, CallId)> {
        let record = self.calls.get(self.handles.get(&handle)?.slot)?;
        Some((record.provider, record.call))
    }

    /// How many of `provider`'s calls the host tracks.
    pub(crate) fn tracked(&self, provider: ProviderId) -> usize {
        self.slots.keys().filter(|(p, _)| *p == provider).count()
    }

    /// Routes every provider report not yet routed to the apps, in the order
    /// each provider made them (D10).
    pub(crate) fn pump(&mut self, inbox: &Inbox) {
        let mut batch = std::mem::take(&mut self.reported);
        inbox.drain_into(&mut batch);
        let routed = !batch.is_empty();
        for (provider, raw) in batch.drain(..) {
            if self
                .slot(provider)
                .map_or(true, |slot| slot.fault.is_some())
            {
                continue;
            }
            match raw {
                Raw::NewCall {
                    call,
                    address,
                    request,
                } => {
                    if self.providers[provider.0 as usize]
                        .info
                        .capabilities
                        .address(address)
                        .is_none()
                    {
                        self.fault(
                            provider,
                            format!("reported {call} on unknown address {}", address.0),
                        );
                        continue;
                    }
                    let creator = self.requests.get(&request).and_then(|r| r.app);
                    self.ensure_call(provider, call, address, creator);
                    let slot = &mut self.providers[provider.0 as usize];
                    slot.new_calls += 1;
                    slot.newest_call = Some(call);
                }
                Raw::State {
                    call,
                    state,
                    mode,
                    parent,
                } => match decode_status(state, mode, parent) {
                    Ok(status) => self.route_state(provider, call, status),
                    Err(garbage) => {
                        self.fault(provider, format!("state report for {call}: {}", garbage.0))
                    }
                },
                Raw::Complete { request, result } => self.route_reply(provider, request, result),
            }
        }
        // Kept for the next pump: its allocation is reused.
        self.reported = batch;
        if routed {
            inbox.routed();
        }
        for (provider, call) in std::mem::take(&mut self.orphans) {
            let Some(&slot) = self.slots.get(&(provider, call)) else {
                continue;
            };
            if self.calls[slot].holders.is_empty() {
                self.forget(slot);
                // Nobody holds it: a provider that fails to close it is its
                // own problem, and a panic faults it (X2).
                let _ = self.call_now(inbox, provider, |p| p.close_call(call));
            }
        }
    }

    /// Where the record of `provider`'s `call` is. A cascade reports its
    /// calls in the order they were made, and their records were put in the
    /// slab in that order (forwards or backwards: a slab reuses the last
    /// freed position first), so the neighbours of the last record routed
    /// are tried before the id map, whose lookup is a cache miss once a
    /// cascade outgrows the cache.
    fn find_slot(&self, provider: ProviderId, call: CallId) -> Option<usize> {
        let is = |slot: usize| {
            self.calls
                .get(slot)
                .is_some_and(|r| r.call == call && r.provider == provider)
        };
        let last = self.last_slot;
        [last.wrapping_add(1), last.wrapping_sub(1)]
            .into_iter()
            .find(|&slot| is(slot))
            .or_else(|| self.slots.get(&(provider, call)).copied())
    }

    fn forget(&mut self, slot: usize) {
        let record = self.calls.remove(slot);
        self.slots.remove(&(record.provider, record.call));
    }

    fn route_state(&mut self, provider: ProviderId, call: CallId, status: CallStatus<CallId>) {
        // A report for a call the host no longer tracks (closed, never
        // announced) reaches nobody.
        let Some(slot) = self.find_slot(provider, call) else {
            return;
        };
        self.last_slot = slot;
        let record = &mut self.calls[slot];
        record.status = status;
        if record.holders.is_empty() && status.is_idle() {
            self.orphans.push((provider, call));
        }
        let record = &self.calls[slot];
        for holder in &record.holders {
            let status = status.map_parent(|parent| self.handle_of(holder.app, provider, parent));
            self.apps[holder.app.0 as usize]
                .queue
                .push_back(Event::CallState {
                    handle: holder.handle,
                    status,
                    privilege: holder.privilege,
                });
        }
    }
    fn route_reply(&mut self, provider: ProviderId, request: RequestId, result: u32) {
        let Some(pending) = self.requests.remove(&request) else {
            self.fault(
                provider,
                format!("completed {request}, which it was not given or already completed"),
            );
            return;
        };
        if pending.provider != provider {
            self.fault(
                provider,
                format!("completed {request}, which belongs to another provider"),
            );
            return;
        }
        let result = match result {
            0 => Ok(()),
            code => match LineError::from_code(code) {
                Some(error) => Err(error),
                None => {
                    self.reply(pending.app, request, Err(LineError::OperationFailed));
                    self.fault(
                        provider,
                        format!("completed {request} with undefined code {code:#x}"),
                    );
                    return;
                }
            },
        };
        self.reply(pending.app, request, result);
    }

    fn reply(&mut self, app: Option<AppId>, request: RequestId, result: LineResult<()>) {
        if let Some(app) = app {
            self.apps[app.0 as usize]
                .queue
                .push_back(Event::Reply { request, result });
        }
    }

    /// Marks `provider` faulted (X2): it is never called again, and every
    /// request it still owes gets its one Reply, `OperationFailed` (D3).
    pub(crate) fn fault(&mut self, provider: ProviderId, reason: String) {
        let slot = &mut self.providers[provider.0 as usize];
        if slot.fault.is_some() {
            return;
        }
        slot.fault = Some(reason);
        let mut owed: Vec<RequestId> = self
            .requests
            .iter()
            .filter(|(_, p)| p.provider == provider)
            .map(|(r, _)| *r)
            .collect();
        owed.sort();
        for request in owed {
            if let Some(pending) = self.requests.remove(&request) {
                self.reply(pending.app, request, Err(LineError::OperationFailed));
            }
        }
    }

    /// Every handle to an Idle call (SPEC T5), by app then handle.
    pub(crate) fn leaked(&self) -> Vec<(AppId, CallHandle)> {
        let mut leaked: Vec<(AppId, CallHandle)> = self
            .calls
            .iter()
            .filter(|(_, record)| record.status.is_idle())
            .flat_map(|(_, record)| record.holders.iter().map(|h| (h.app, h.handle)))
            .collect();
        leaked.sort();
        leaked
    }

    /// The next event for `app`, skipping state events of handles it has
    /// deallocated since they were queued (D10). Replies always go out (T4).
    pub(crate) fn next_event(&mut self, app: AppId) -> Option<Event> {
        let state = &mut self.apps[app.0 as usize];
        while let Some(event) = state.queue.pop_front() {
            match event {
                Event::CallState { handle, .. }
                    if state.stale && !self.handles.contains_key(&handle) =>
                {
                    continue;
                }
                event => return Some(event),
            }
        }
        state.stale = false;
        None
    }

    /// Every event queued for `app`, as [`HostState::next_event`] gives them.
    pub(crate) fn take_events(&mut self, app: AppId) -> Vec<Event> {
        let state = &mut self.apps[app.0 as usize];
        if !state.stale {
            return state.queue.drain(..).collect();
        }
        let mut events = Vec::with_capacity(state.queue.len());
        events.extend(std::iter::from_fn(|| self.next_event(app)));
        events
    }

    /// The handle `app` holds to `call`, if any.
    pub(crate) fn handle_of(
        &self,
        app: AppId,
        provider: ProviderId,
        call: CallId,
    ) -> Option<CallHandle> {
        self.record(provider, call)?
            .holders
            .iter()
            .find(|h| h.app == app)
            .map(|h| h.handle)
    }

    /// Makes sure the host tracks `call`, giving handles to the apps with its
    /// line open: the creating app as Owner and the others as Monitors, or,
    /// for an offered call, each with the privilege it opened the line with.
    pub(crate) fn ensure_call(
        &mut self,
        provider: ProviderId,
        call: CallId,
        address: AddressId,
        creator: Option<AppId>,
    ) {
        let slot = match self.slots.entry((provider, call)) {
            Entry::Occupied(occupied) => *occupied.get(),
            Entry::Vacant(vacant) => {
                let slot = self.calls.insert(CallRecord {
                    provider,
                    call,
                    address,
                    status: CallStatus::Unknown,
                    holders: SmallVec::new(),
                });
                vacant.insert(slot);
                for index in 0..self.apps.len() {
                    let app = AppId(index as u32);
                    let Some(&line) = self.apps[index].lines.get(&(provider, address)) else {
                        continue;
                    };
                    let privilege = match creator {
                        Some(creator) if creator == app => Privilege::Owner,
                        Some(_) => Privilege::Monitor,
                        None => line,
                    };
                    self.issue_handle(app, slot, privilege);
                }
                slot
            }
        };
        if let Some(creator) = creator {
            if self.handle_of(creator, provider, call).is_none() {
                self.issue_handle(creator, slot, Privilege::Owner);
            }
        }
    }

    fn issue_handle(&mut self, app: AppId, slot: usize, privilege: Privilege) {
        self.next_handle += 1;
        let handle = CallHandle(self.next_handle);
        self.handles.insert(handle, HandleSlot { app, slot });
        self.calls[slot].holders.push(Holder {
            handle,
            app,
            privilege,
        });
    }

    /// The entry of `handle` if `app` holds it (T2).
    pub(crate) fn entry(&self, app: AppId, handle: CallHandle) -> LineResult<HandleEntry> {
        match self.handles.get(&handle) {
            Some(held) if held.app == app => {
                let record = &self.calls[held.slot];
                let privilege = record
                    .holders
                    .iter()
                    .find(|h| h.handle == handle)
                    .map_or(Privilege::Monitor, |h| h.privilege);
                Ok(HandleEntry {
                    app,
                    provider: record.provider,
                    call: record.call,
                    privilege,
                    slot: held.slot,
                })
            }
            _ => Err(LineError::InvalCallHandle),
        }
    }

    /// The entry of `handle` if `app` holds it as Owner (D1).
    pub(crate) fn owned(&self, app: AppId, handle: CallHandle) -> LineResult<HandleEntry> {
        let entry = self.entry(app, handle)?;
        match entry.privilege {
            Privilege::Owner => Ok(entry),
            Privilege::Monitor => Err(LineError::NotOwner),
        }
    }

    /// Gives `handle`, which `entry` describes, `privilege` (B5 revokes
    /// ownership).
    pub(crate) fn set_privilege(
        &mut self,
        entry: &HandleEntry,
        handle: CallHandle,
        privilege: Privilege,
    ) {
        if let Some(holder) = self.calls[entry.slot]
            .holders
            .iter_mut()
            .find(|h| h.handle == handle)
        {
            holder.privilege = privilege;
        }
    }

    /// Whether any handle to the call `entry` names is an Owner's.
    pub(crate) fn has_owner(&self, entry: &HandleEntry) -> bool {
        self.calls[entry.slot]
            .holders
            .iter()
            .any(|h| h.privilege == Privilege::Owner)
    }

    /// Every handle `app` holds to a call on `provider`'s `address`, in
    /// issue order.
    pub(crate) fn handles_on(
        &self,
        app: AppId,
        provider: ProviderId,
        address: AddressId,
    ) -> Vec<CallHandle> {
        let mut handles: Vec<CallHandle> = self
            .calls
            .iter()
            .filter(|(_, r)| r.provider == provider && r.address == address)
            .flat_map(|(_, r)| r.holders.iter().filter(|h| h.app == app).map(|h| h.handle))
            .collect();
        handles.sort();
        handles
    }

    pub(crate) fn status(&self, entry: &HandleEntry) -> CallStatus<CallId> {
        self.calls
            .get(entry.slot)
            .map_or(CallStatus::Unknown, |r| r.status)
    }

    /// The address of the call `entry` names.
    pub(crate) fn address(&self, entry: &HandleEntry) -> Option<AddressId> {
        self.calls.get(entry.slot).map(|r| r.address)
    }

    /// Calls into a provider. A faulted provider is not called; a panic or an
    /// undefined error code faults it (X2).
    fn call<T>(
        &mut self,
        inbox: &Inbox,
        provider: ProviderId,
        f: impl FnOnce(&mut ProviderBox) -> ProviderResult<T>,
    ) -> LineResult<T> {
        let target = live(&mut self.providers, provider)?;
        let outcome = inbox.direct(&mut self.reported, || f(target));
        self.settle(provider, outcome)
    }

    /// Turns what a provider returned into the app's result, faulting the
    /// provider for a panic or an undefined error code (X2). Any request of
    /// the caller's own must already be withdrawn, so the fault's replies
    /// skip it.
    fn settle<T>(&mut self, provider: ProviderId, outcome: ProviderResult<T>) -> LineResult<T> {
        let error = match outcome {
            RResult::ROk(value) => return Ok(value),
            RResult::RErr(error) => error,
        };
        if let ROption::RSome(message) = error.panic {
            self.fault(provider, format!("panicked: {message}"));
            return Err(LineError::OperationFailed);
        }
        match LineError::from_code(error.code) {
            Some(error) => Err(error),
            None => {
                let reason = format!("returned undefined error code {:#x}", error.code);
                self.fault(provider, reason);
                Err(LineError::OperationFailed)
            }
        }
    }

    /// Calls into a provider for something that is not a request, then
    /// routes whatever it reported.
    pub(crate) fn call_now<T>(
        &mut self,
        inbox: &Inbox,
        provider: ProviderId,
        f: impl FnOnce(&mut ProviderBox) -> ProviderResult<T>,
    ) -> LineResult<T> {
        let outcome = self.call(inbox, provider, f);
        self.pump(inbox);
        outcome
    }

    /// Starts an asynchronous request for `app` (D3): registered before the
    /// provider sees it so that its completion can arrive at any time, and
    /// withdrawn if the provider refuses it synchronously (then no Reply).
    pub(crate) fn request<T>(
        &mut self,
        inbox: &Inbox,
        app: Option<AppId>,
        provider: ProviderId,
        f: impl FnOnce(&mut ProviderBox, RequestId) -> ProviderResult<T>,
    ) -> LineResult<(RequestId, T)> {
        let target = live(&mut self.providers, provider)?;
        self.next_request += 1;
        let request = RequestId(self.next_request);
        self.requests.insert(request, Pending { app, provider });
        let outcome = inbox.direct(&mut self.reported, || f(target, request));
        if let RResult::RErr(_) = &outcome {
            // Refused: the request never existed for the app. Withdraw it
            // before anything is routed, so neither a fault nor a stray
            // completion can reply to it.
            self.requests.remove(&request);
        }
        let outcome = self.settle(provider, outcome);
        self.pump(inbox);
        outcome.map(|value| (request, value))
    }

    /// Validates what the app got wrong (D2, R3) and starts a drop; the
    /// provider refuses what its capabilities do not allow (U2, U4, R2).
    pub(crate) fn drop_call(
        &mut self,
        inbox: &Inbox,
        app: Option<AppId>,
        entry: HandleEntry,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<RequestId> {
        self.pump(inbox);
        let status = self.status(&entry);
        let state = status.state();
        if status.is_idle() {
            return Err(LineError::InvalCallState);
        }
        if matches!(code, DisconnectCode::Rejected | DisconnectCode::Busy) && !state.is_offered() {
            return Err(LineError::InvalCallState);
        }
        // What a capability allows (UUI size U2/U4, reject by drop R2) is the
        // provider's to refuse, as in TAPI where the service provider returns
        // LINEERR_USERUSERINFOTOOBIG: checking it here would hide a provider
        // that ignores its own declaration from the conformance suite.
        let call = entry.call;
        self.request(inbox, app, entry.provider, |p, request| {
            p.drop_call(request, call, code.code(), uui.into())
        })
        .map(|(request, ())| request)
    }

    /// Frees `handle` (T1, T2); closes the call in the provider when it was
    /// the last handle to it (T3). Queued events for it are never delivered (D10).
    pub(crate) fn deallocate(
        &mut self,
        inbox: &Inbox,
        app: AppId,
        handle: CallHandle,
    ) -> LineResult<()> {
        let entry = self.entry(app, handle)?;
        self.pump(inbox);
        // Events already queued for the handle are skipped at delivery
        // (`next_event`): handles are never reused, so that is exact, and it
        // keeps deallocation O(1) however long the queue is.
        self.handles.remove(&handle);
        let state = &mut self.apps[app.0 as usize];
        state.stale |= !state.queue.is_empty();
        let record = &mut self.calls[entry.slot];
        record.holders.retain(|h| h.handle != handle);
        if record.holders.is_empty() {
            self.forget(entry.slot);
            // Deallocation itself never fails (T1); a provider that fails to
            // close is its own problem, and a panic faults it (X2).
            let _ = self.call_now(inbox, entry.provider, |p| p.close_call(entry.call));
        }
        Ok(())
    }

    /// Call info for `app` (Q1): the provider's answer, other calls renamed
    /// to `app`'s handles.
    pub(crate) fn call_info(
        &mut self,
        inbox: &Inbox,
        entry: HandleEntry,
    ) -> LineResult<CallInfo<Option<CallHandle>>> {
        let raw = self.call_now(inbox, entry.provider, |p| p.call_info(entry.call))?;
        let info = match raw.decode() {
            Ok(info) => info,
            Err(garbage) => {
                self.fault(
                    entry.provider,
                    format!("call info for {}: {}", entry.call, garbage.0),
                );
                return Err(LineError::OperationFailed);
            }
        };
        let rename = |call: CallId| self.handle_of(entry.app, entry.provider, call);
        Ok(CallInfo {
            address: info.address,
            status: info.status.map_parent(rename),
            related: info
                .related
                .iter()
                .map(|r| Related {
                    relation: r.relation,
                    call: rename(r.call),
                })
                .collect(),
            remote: info.remote,
            disconnect_mode: info.disconnect_mode,
            uui_received: info.uui_received,
            uui_sent: info.uui_sent,
        })
    }
}

/// The provider `id` if it exists and is not faulted: faulted providers are
/// never called again (X2).
fn live(providers: &mut [Slot], id: ProviderId) -> LineResult<&mut ProviderBox> {
    let slot = providers
        .get_mut(id.0 as usize)
        .ok_or(LineError::InvalPointer)?;
    match slot.fault {
        Some(_) => Err(LineError::OperationFailed),
        None => Ok(&mut slot.provider),
    }
}
