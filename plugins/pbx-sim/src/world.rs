//! The PBX itself: calls at our station, their conference and consultation
//! links, and the rules that decide what a drop does to each of them.
//!
//! Every operation validates first and only then changes anything, so a
//! refused request leaves the world exactly as it was (SPEC S2).

use std::collections::HashMap;
use std::mem;

use cleardown_sdk::{
    AddressCaps, AddressId, CallFeatures, CallId, CallInfo, CallState, CallStatus, Capabilities,
    DisconnectCode, LineError, LineResult, ProviderInfo, Related, Relation, RemoteParty,
    RemoteState, Reporter, RequestId, Sharing,
    calls::{CallMut, Calls},
    drop::{self, Release, check_uui},
    step::Step,
};

use crate::config::{Config, MAX_UUI};
use crate::remote::{self, BridgeId, Link, Parties, PartyId, Received, Signal};

/// One extension of the PBX.
#[derive(Debug)]
pub(crate) struct Address {
    name: &'static str,
    /// Whether the configuration's `conf_drop` applies here; otherwise the
    /// address never has it, so one profile covers both C1 and C2.
    configurable_conf_drop: bool,
}

static ADDRESSES: [Address; 2] = [
    Address {
        name: "ext-100",
        configurable_conf_drop: true,
    },
    Address {
        name: "ext-200",
        configurable_conf_drop: false,
    },
];

/// The address `id` names; `InvalPointer` for one the PBX does not have.
pub(crate) fn address(id: AddressId) -> LineResult<&'static Address> {
    usize::try_from(id.0)
        .ok()
        .and_then(|index| ADDRESSES.get(index))
        .ok_or(LineError::InvalPointer)
}

/// A call's links to the other calls at our station.
#[derive(Debug, Clone, Default)]
struct Links {
    parent: Option<CallId>,
    /// In join order, which is the cascade order (SPEC C1).
    children: Vec<CallId>,
    consult: Option<CallId>,
    primary: Option<CallId>,
}

impl Links {
    /// The related calls they name: parent, children in join order,
    /// consultation call, primary call.
    fn related(&self) -> impl Iterator<Item = Related<CallId>> + '_ {
        let link = |relation| move |call| Related { relation, call };
        (self.parent.map(link(Relation::Parent)).into_iter())
            .chain(self.children.iter().copied().map(link(Relation::Child)))
            .chain(self.consult.map(link(Relation::Consult)))
            .chain(self.primary.map(link(Relation::Primary)))
    }
}

/// What pbx-sim keeps of a call appearance at our station, beside the
/// SDK table's address, state, direction and disconnect mode.
#[derive(Debug, Default)]
struct Pbx {
    /// `None` for a conference parent: it is our station's bridge, not a line.
    remote: Option<PartyId>,
    links: Links,
    /// The links as they were when the call went Idle: what call info shows
    /// from then on (SPEC Q1), whatever happens to the others. Only a
    /// conference parent's copy allocates; every other call's children are
    /// none.
    links_at_idle: Option<Links>,
    uui_received: Box<[u8]>,
    uui_sent: Box<[u8]>,
    /// The last cascade that reached the call (see [`World::cascades`]).
    visited: u64,
}

type Call = cleardown_sdk::calls::Call<Pbx>;

/// Moves `call` to `status` and reports it. Going Idle keeps the links as
/// they are now for call info (SPEC Q1); the first freeze wins.
fn enter(call: &mut CallMut<'_, Pbx>, status: CallStatus<CallId>) {
    if status.is_idle() && call.links_at_idle.is_none() {
        call.links_at_idle = Some(call.links.clone());
    }
    call.enter(status);
}

/// Still up at our station: the far end is in a call with us.
fn is_up(call: &Call) -> bool {
    !matches!(call.state(), CallState::Idle | CallState::Disconnected)
}

impl Pbx {
    /// Part of a pending conference or transfer set-up, which must finish
    /// through its own call pair before the call can join anything else.
    fn is_linked(&self) -> bool {
        self.links.consult.is_some() || self.links.primary.is_some()
    }
}

/// What a drop that passed validation will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DropPlan {
    /// SPEC R1: an offered call is rejected with this signal.
    Reject(Signal),
    /// SPEC D7: an unanswered outbound call is cancelled.
    Cancel,
    /// A connected plain call or a conference child (SPEC C3) is released.
    Release,
    /// SPEC C1/C2/C5: a conference parent takes its tree with it.
    Conference,
    /// SPEC D6: the far end already left; nothing to tell it.
    AlreadyDisconnected,
    /// Nothing is on the line at the far end (or, for `close_call` without
    /// `reject_by_drop`, nothing may be sent): only our side goes Idle.
    Local,
}

impl DropPlan {
    /// What the far end of the dropped call itself receives, if anything.
    fn signal(self) -> Option<Signal> {
        match self {
            DropPlan::Reject(signal) => Some(signal),
            DropPlan::Cancel => Some(Signal::Cancel),
            DropPlan::Release => Some(Signal::Release),
            DropPlan::Conference | DropPlan::AlreadyDisconnected | DropPlan::Local => None,
        }
    }
}

/// Who a remote party talks to besides our station (see [`World::far_end`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
enum Group {
    Bridge(BridgeId),
    Conference(CallId),
}

/// The simulated PBX: calls (the SDK's table, whose reporter every change
/// goes out through, in the order it happens: SPEC D4, D10) and remote
/// parties.
#[derive(Debug)]
pub(crate) struct World {
    config: Config,
    calls: Calls<Pbx>,
    /// How many cascades have run: a call whose `visited` equals it was
    /// reached by the current one, which guards the walk against reaching
    /// a call twice without a set of its own to fill.
    cascades: u64,
    parties: Parties,
    /// The last bridge made ([`World::bridge`]).
    bridges: u64,
}

impl World {
    pub(crate) fn new(config: Config, reporter: Reporter) -> Self {
        World {
            config,
            calls: Calls::new(reporter),
            cascades: 0,
            parties: remote::parties(),
            bridges: 0,
        }
    }

    pub(crate) fn info(&self) -> ProviderInfo {
        let addresses = ADDRESSES
            .iter()
            .map(|address| AddressCaps {
                name: address.name.to_owned(),
                conf_drop: self.conf_drop(address),
                sharing: Sharing::Private,
                features: CallFeatures::ALL,
            })
            .collect();
        ProviderInfo {
            name: "pbx-sim".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            capabilities: Capabilities {
                uui_drop_size: self.config.uui_drop_size,
                reject_by_drop: self.config.reject_by_drop,
                close_drop: self.config.close_drop,
                addresses,
                // Q.931 release messages carry the far end's cause and its
                // user-user element, which the switch keeps whole up to the
                // largest it handles, whatever the drop size.
                far_causes: true,
                uui_received_size: MAX_UUI,
                hang_up_delay_ms: 0,
            },
        }
    }

    fn conf_drop(&self, address: &Address) -> bool {
        address.configurable_conf_drop && self.config.conf_drop
    }

    fn call(&self, id: CallId) -> LineResult<&Call> {
        self.calls.get(id)
    }

    fn state_of(&self, id: CallId) -> LineResult<CallState> {
        self.calls.state(id)
    }

    // ---- primitives: these never fail, so callers validate first -------

    /// Records and reports `status` for `id`.
    fn set(&mut self, id: CallId, status: CallStatus<CallId>) {
        if let Ok(mut call) = self.calls.get_mut(id) {
            enter(&mut call, status);
        }
    }

    fn set_remote(&mut self, id: CallId, state: RemoteState) {
        if let Some(party) = self.calls.get(id).ok().and_then(|call| call.remote) {
            self.parties.set_state(party, state);
        }
    }

    /// The party `name` is now in `state` on call `id`.
    fn engage(&mut self, id: CallId, name: &str, state: RemoteState) {
        let party = self.parties.engage(name, state, Link::to(id));
        if let Ok(mut call) = self.calls.get_mut(id) {
            call.remote = Some(party);
        }
    }

    /// Places an outbound call (also a consultation call) up to Proceeding.
    fn place(&mut self, request: RequestId, address: AddressId, destination: &str) -> CallId {
        let id = self.calls.dial(request, address, Pbx::default());
        self.engage(id, destination, RemoteState::Ringing);
        id
    }

    /// Puts `members` in a new bridge: from now on they talk to each other.
    fn bridge(&mut self, members: &[PartyId]) {
        self.bridges += 1;
        for &id in members {
            if let Some(party) = self.parties.get_mut(id) {
                party.link.bridge = Some(BridgeId(self.bridges));
            }
        }
    }

    fn link_consult(&mut self, primary: CallId, consult: CallId) {
        if let Ok(mut call) = self.calls.get_mut(primary) {
            call.links.consult = Some(consult);
        }
        if let Ok(mut call) = self.calls.get_mut(consult) {
            call.links.primary = Some(primary);
        }
    }

    /// Clears the consultation links of `id`, which just went Idle, in both
    /// directions. Where `id` was a consultation call whose primary still
    /// waits for it, the primary is back in conversation (SPEC D8).
    fn unlink_consult(&mut self, id: CallId) {
        let (primary, consult) = match self.calls.get_mut(id).ok() {
            Some(mut call) => (call.links.primary.take(), call.links.consult.take()),
            None => return,
        };
        if let Some(mut consult) = consult.and_then(|consult| self.calls.get_mut(consult).ok()) {
            consult.links.primary = None;
        }
        if let Some(primary) = primary {
            let waiting = match self.calls.get_mut(primary) {
                Ok(mut call) => {
                    call.links.consult = None;
                    matches!(
                        call.state(),
                        CallState::OnHoldPendConf | CallState::OnHoldPendTransfer
                    )
                }
                Err(_) => false,
            };
            if waiting {
                self.set(primary, CallStatus::connected());
            }
        }
    }

    /// Takes `id` out of its conference, then applies SPEC C4 to what is left.
    fn leave_parent(&mut self, id: CallId) {
        let Some(parent) = self
            .calls
            .get_mut(id)
            .ok()
            .and_then(|mut call| call.links.parent.take())
        else {
            return;
        };
        if let Ok(mut call) = self.calls.get_mut(parent) {
            call.links.children.retain(|child| *child != id);
        }
        self.collapse(parent);
    }

    /// SPEC C4: a live conference down to one party ends; that party's call
    /// is a plain call again. Where the conference was itself a party of an
    /// outer one (SPEC C5), the remaining call takes its place there, since
    /// that party is still talking to the outer conference.
    fn collapse(&mut self, parent: CallId) {
        let (remaining, outer) = match self.calls.get_mut(parent).ok() {
            Some(mut call) if is_up(&call) => match *call.links.children.as_slice() {
                [remaining] => {
                    // The parent goes Idle below, after its links are gone;
                    // call info keeps showing them as they are now.
                    let outer = call.links.parent.take();
                    call.links_at_idle = Some(Links {
                        parent: outer,
                        children: mem::take(&mut call.links.children),
                        consult: call.links.consult,
                        primary: call.links.primary,
                    });
                    (remaining, outer)
                }
                _ => return,
            },
            _ => return,
        };
        let outer = outer.filter(|&outer| self.replace_child(outer, parent, remaining));
        if let Ok(mut call) = self.calls.get_mut(remaining) {
            call.links.parent = outer;
        }
        let status = outer.map_or(CallStatus::connected(), |parent| CallStatus::Conferenced {
            parent,
        });
        self.set(remaining, status);
        self.set(parent, CallStatus::Idle);
        self.unlink_consult(parent);
    }

    /// Puts `new` in the place of `old` among the children of `parent`, so
    /// the join order, which is the cascade order, is kept.
    fn replace_child(&mut self, parent: CallId, old: CallId, new: CallId) -> bool {
        let Ok(mut call) = self.calls.get_mut(parent) else {
            return false;
        };
        match call.links.children.iter_mut().find(|child| **child == old) {
            Some(slot) => {
                *slot = new;
                true
            }
            None => false,
        }
    }

    // ---- outbound calls -------------------------------------------------

    pub(crate) fn make_call(
        &mut self,
        request: RequestId,
        address_id: AddressId,
        destination: &str,
    ) -> LineResult<CallId> {
        address(address_id)?;
        if destination.is_empty() {
            return Err(LineError::InvalPointer);
        }
        let id = self.place(request, address_id, destination);
        self.calls.complete(request);
        Ok(id)
    }

    pub(crate) fn remote_alert(&mut self, id: CallId) -> LineResult<()> {
        self.calls.check(id, Step::FarAlert)?;
        self.set(id, CallStatus::Ringback);
        Ok(())
    }

    pub(crate) fn remote_answer(&mut self, id: CallId) -> LineResult<()> {
        self.calls.check(id, Step::FarAnswer)?;
        self.set(id, CallStatus::connected());
        self.set_remote(id, RemoteState::Connected);
        Ok(())
    }

    // ---- inbound calls --------------------------------------------------

    pub(crate) fn remote_offer(
        &mut self,
        address_id: AddressId,
        from: &str,
        uui: &[u8],
    ) -> LineResult<CallId> {
        address(address_id)?;
        if from.is_empty() {
            return Err(LineError::InvalPointer);
        }
        check_uui(uui, MAX_UUI)?;
        let pbx = Pbx {
            uui_received: uui.into(),
            ..Pbx::default()
        };
        let id = self.calls.offer(address_id, pbx);
        self.engage(id, from, RemoteState::Calling);
        Ok(id)
    }

    pub(crate) fn accept(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        self.calls.check(id, Step::Accept)?;
        self.set(id, CallStatus::Accepted);
        self.calls.complete(request);
        Ok(())
    }

    pub(crate) fn answer(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        self.calls.check(id, Step::Answer)?;
        self.set(id, CallStatus::connected());
        self.set_remote(id, RemoteState::Connected);
        self.calls.complete(request);
        Ok(())
    }

    // ---- hold, conference, transfer -------------------------------------

    /// Moves `id` from `from` to `to`: hold and unhold.
    pub(crate) fn switch(
        &mut self,
        request: RequestId,
        id: CallId,
        from: CallState,
        to: CallStatus<CallId>,
    ) -> LineResult<()> {
        if self.state_of(id)? != from {
            return Err(LineError::InvalCallState);
        }
        self.set(id, to);
        self.calls.complete(request);
        Ok(())
    }

    /// SPEC D8's set-up side: holds `id` in `pending` and places the
    /// consultation call. A conference parent may consult (to add a party);
    /// a transfer needs a plain call.
    pub(crate) fn setup_consult(
        &mut self,
        request: RequestId,
        id: CallId,
        destination: &str,
        pending: CallStatus<CallId>,
    ) -> LineResult<CallId> {
        let call = self.call(id)?;
        if destination.is_empty() {
            return Err(LineError::InvalPointer);
        }
        let transfer = pending == CallStatus::OnHoldPendTransfer;
        if call.state() != CallState::Connected
            || call.links.parent.is_some()
            || call.is_linked()
            || (transfer && !call.links.children.is_empty())
        {
            return Err(LineError::InvalCallState);
        }
        let address = call.address;
        self.set(id, pending);
        let consult = self.place(request, address, destination);
        self.link_consult(id, consult);
        self.calls.complete(request);
        Ok(consult)
    }

    pub(crate) fn add_to_conference(
        &mut self,
        request: RequestId,
        id: CallId,
        consult: CallId,
    ) -> LineResult<CallId> {
        if id == consult {
            return Err(LineError::InvalPointer);
        }
        let (call, joining) = (self.call(id)?, self.call(consult)?);
        let pending = call.state() == CallState::OnHoldPendConf;
        // (a) the consultation call set up for this conference;
        let finishing_setup = pending
            && call.links.consult == Some(consult)
            && joining.links.primary == Some(id)
            && joining.state() == CallState::Connected;
        // (b) any two connected top-level calls, so tests and benchmarks can
        // build large and nested conferences (SPEC C5) directly.
        let top_level = |call: &Call| {
            call.state() == CallState::Connected && call.links.parent.is_none() && !call.is_linked()
        };
        let direct = top_level(call) && top_level(joining);
        if !finishing_setup && !direct {
            return Err(LineError::InvalCallState);
        }
        let (address, is_parent) = (call.address, !call.links.children.is_empty());
        self.unlink_consult_pair(id, consult);

        let parent = if is_parent {
            self.join(id, consult);
            self.set(consult, CallStatus::Conferenced { parent: id });
            if pending {
                self.set(id, CallStatus::connected());
            }
            id
        } else {
            // Our station's bridge: it is ours, as a call we placed is.
            let parent = self.calls.add(address, true, Some(request), Pbx::default());
            self.join(parent, id);
            self.join(parent, consult);
            self.set(id, CallStatus::Conferenced { parent });
            self.set(consult, CallStatus::Conferenced { parent });
            self.set(parent, CallStatus::connected());
            parent
        };
        self.calls.complete(request);
        Ok(parent)
    }

    fn join(&mut self, parent: CallId, child: CallId) {
        if let Ok(mut call) = self.calls.get_mut(parent) {
            call.links.children.push(child);
        }
        if let Ok(mut call) = self.calls.get_mut(child) {
            call.links.parent = Some(parent);
        }
    }

    /// Ends a consultation pair without the D8 side effect: the set-up
    /// completed, it was not abandoned.
    fn unlink_consult_pair(&mut self, primary: CallId, consult: CallId) {
        if let Ok(mut call) = self.calls.get_mut(primary) {
            call.links.consult = None;
        }
        if let Ok(mut call) = self.calls.get_mut(consult) {
            call.links.primary = None;
        }
    }

    pub(crate) fn complete_transfer(
        &mut self,
        request: RequestId,
        id: CallId,
        consult: CallId,
    ) -> LineResult<()> {
        if id == consult {
            return Err(LineError::InvalPointer);
        }
        let (call, target) = (self.call(id)?, self.call(consult)?);
        if call.state() != CallState::OnHoldPendTransfer
            || call.links.consult != Some(consult)
            || target.state() != CallState::Connected
        {
            return Err(LineError::InvalCallState);
        }
        let parties: Vec<PartyId> = [call.remote, target.remote].into_iter().flatten().collect();
        self.bridge(&parties);
        self.set(consult, CallStatus::Idle);
        self.set(id, CallStatus::Idle);
        self.unlink_consult_pair(id, consult);
        self.calls.complete(request);
        Ok(())
    }

    // ---- drop and close -------------------------------------------------

    pub(crate) fn drop_call(
        &mut self,
        request: RequestId,
        id: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        let call = self.call(id)?;
        check_uui(uui, self.config.uui_drop_size)?;
        let plan = self.plan_drop(call, code, false)?;
        self.execute_drop(id, plan, uui);
        self.calls.complete(request);
        Ok(())
    }

    /// `TSPI_lineCloseCall` (SPEC T3): a call nobody holds any more is
    /// dropped as a plain drop without UUI, then forgotten.
    pub(crate) fn close_call(&mut self, id: CallId) -> LineResult<()> {
        let call = self.call(id)?;
        if !call.status.is_idle() {
            let plan = self.plan_drop(call, DisconnectCode::Normal, true)?;
            self.execute_drop(id, plan, &[]);
        }
        self.forget(id);
        Ok(())
    }

    /// Decides what dropping `call` does, or why it is refused: the SDK's
    /// plan of SPEC §2, then this world's shape of it (a conference parent
    /// cascades, C1).
    fn plan_drop(&self, call: &Call, code: DisconnectCode, closing: bool) -> LineResult<DropPlan> {
        let situation = drop::Situation {
            closing,
            ..drop::Situation::new(call.state(), code).rejecting(self.config.reject_by_drop)
        };
        Ok(match drop::plan(situation)? {
            Release::Reject { cause } => DropPlan::Reject(Signal::reject(cause)),
            Release::Cancel => DropPlan::Cancel,
            Release::Release if !call.links.children.is_empty() => DropPlan::Conference,
            Release::Release => DropPlan::Release,
            Release::Nothing if call.state() == CallState::Disconnected => {
                DropPlan::AlreadyDisconnected
            }
            Release::Nothing => DropPlan::Local,
        })
    }

    fn execute_drop(&mut self, id: CallId, plan: DropPlan, uui: &[u8]) {
        if plan == DropPlan::Conference {
            self.cascade(id, uui);
        }
        if let Ok(mut call) = self.calls.get_mut(id) {
            if plan != DropPlan::Conference {
                if let (Some(signal), Some(party)) = (plan.signal(), call.remote) {
                    self.parties.receive(party, Received::new(signal, uui));
                }
                enter(&mut call, CallStatus::Idle);
            }
            if plan != DropPlan::AlreadyDisconnected {
                call.uui_sent = uui.into();
            }
        }
        self.leave_parent(id);
        self.unlink_consult(id);
    }

    /// SPEC C1, C2, C5: every call of the tree under `root` goes Idle,
    /// depth first in join order, each after its own subtree, the root
    /// last. With `conf_drop` every party is released with the drop's UUI;
    /// without it no party hears anything, and they stay connected to each
    /// other in a bridge. The tree links stay in place so call info still
    /// shows them (SPEC Q1).
    fn cascade(&mut self, root: CallId, uui: &[u8]) {
        self.cascades += 1;
        let cascade = self.cascades;
        let Ok(address) = self.call(root).map(|call| address(call.address)) else {
            return;
        };
        let conf_drop = address.is_ok_and(|address| self.conf_drop(address));
        let Ok(mut call) = self.calls.get_mut(root) else {
            return;
        };
        call.visited = cascade;
        let children = mem::take(&mut call.links.children);
        let mut bridged = Vec::new();
        // One call of the tree, once its subtree is done.
        let mut finish = |id: CallId, call: &mut CallMut<'_, Pbx>| {
            if id != root {
                match call.remote {
                    Some(party) if conf_drop => {
                        call.uui_sent = uui.into();
                        let signal = Received::new(Signal::Release, uui);
                        self.parties.receive(party, signal);
                    }
                    Some(party) => bridged.push(party),
                    None => {}
                }
            }
            enter(call, CallStatus::Idle);
        };
        // Explicit stack: nesting depth is up to the caller, the thread's
        // stack is not. Each frame holds its call's children, taken out of
        // the call while its subtree is walked so that reaching the next
        // child needs no lookup of the call, and put back before it goes
        // Idle.
        let mut stack = vec![(root, children, 0)];
        while let Some((_, children, next)) = stack.last_mut() {
            if let Some(&child) = children.get(*next) {
                *next += 1;
                let Ok(mut call) = self.calls.get_mut(child) else {
                    continue;
                };
                if call.visited == cascade {
                    continue;
                }
                call.visited = cascade;
                if call.links.children.is_empty() {
                    // Its subtree is done as soon as it is reached.
                    finish(child, &mut call);
                } else {
                    let children = mem::take(&mut call.links.children);
                    stack.push((child, children, 0));
                }
                continue;
            }
            let Some((id, children, _)) = stack.pop() else {
                break;
            };
            if let Ok(mut call) = self.calls.get_mut(id) {
                call.links.children = children;
                finish(id, &mut call);
            }
        }
        if !conf_drop {
            self.bridge(&bridged);
        }
    }

    /// Removes `id` and every link other calls hold to it.
    fn forget(&mut self, id: CallId) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        if let Some(party) = call.remote {
            let calls = &self.calls;
            self.parties.retire(party, |link| calls.contains(link.call));
        }
        let links = call.data.links;
        if let Some(mut parent) = links
            .parent
            .and_then(|parent| self.calls.get_mut(parent).ok())
        {
            parent.links.children.retain(|child| *child != id);
        }
        for child in &links.children {
            if let Ok(mut child) = self.calls.get_mut(*child) {
                child.links.parent = None;
            }
        }
        if let Some(mut primary) = links
            .primary
            .and_then(|primary| self.calls.get_mut(primary).ok())
        {
            primary.links.consult = None;
        }
        if let Some(mut consult) = links
            .consult
            .and_then(|consult| self.calls.get_mut(consult).ok())
        {
            consult.links.primary = None;
        }
    }

    // ---- far end ---------------------------------------------------------

    /// SPEC S3, U5: the far end left; our side waits in Disconnected for the
    /// owner's drop.
    pub(crate) fn remote_hang_up(&mut self, id: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        let call = self.call(id)?;
        check_uui(uui, MAX_UUI)?;
        if call.remote.is_none() {
            return Err(LineError::InvalCallState);
        }
        self.calls.check(id, Step::FarHangUp)?;
        self.set_remote(id, RemoteState::Released);
        if let Ok(mut call) = self.calls.get_mut(id) {
            call.uui_received = uui.into();
            call.hung_up(cause);
        }
        self.leave_parent(id);
        Ok(())
    }

    pub(crate) fn call_info(&self, id: CallId) -> LineResult<CallInfo<CallId>> {
        let call = self.call(id)?;
        let related = match &call.links_at_idle {
            // Calls forgotten since (their last handle went, T3) drop out.
            Some(frozen) => frozen
                .related()
                .filter(|r| self.calls.contains(r.call))
                .collect(),
            None => call.links.related().collect(),
        };
        Ok(CallInfo {
            address: call.address,
            status: call.status,
            related,
            remote: call
                .remote
                .and_then(|party| self.parties.get(party))
                .map(|party| party.name.as_str())
                .unwrap_or_default()
                .to_owned(),
            disconnect_mode: call.disconnect_mode,
            uui_received: call.uui_received.to_vec(),
            uui_sent: call.uui_sent.to_vec(),
        })
    }

    /// The far-end view. `connected_to` is computed here, not stored: a
    /// conference of N parties would otherwise keep N² names up to date.
    /// A connected party talks to our station while its call is up there,
    /// and to the other connected parties of its conference tree or bridge.
    pub(crate) fn far_end(&self) -> Vec<RemoteParty> {
        let parties: Vec<_> = self.parties.iter().collect();
        let mut roots = HashMap::new();
        let groups: Vec<Option<Group>> = parties
            .iter()
            .map(|party| match party.link.bridge {
                Some(bridge) => Some(Group::Bridge(bridge)),
                None => self
                    .calls
                    .get(party.link.call)
                    .ok()
                    .filter(|call| is_up(call) && call.links.parent.is_some())
                    .map(|_| Group::Conference(self.root_of(party.link.call, &mut roots))),
            })
            .collect();
        let mut members: HashMap<Group, Vec<usize>> = HashMap::new();
        for (index, (party, group)) in parties.iter().zip(&groups).enumerate() {
            if let (RemoteState::Connected, Some(group)) = (party.state, group) {
                members.entry(*group).or_default().push(index);
            }
        }
        let names: Vec<&str> = parties.iter().map(|party| party.name.as_str()).collect();
        parties
            .iter()
            .zip(&groups)
            .enumerate()
            .map(|(index, (party, group))| {
                let mut connected_to = Vec::new();
                if party.state == RemoteState::Connected {
                    let station = self
                        .calls
                        .get(party.link.call)
                        .ok()
                        .filter(|call| is_up(call));
                    if let Some(address) = station.and_then(|call| address(call.address).ok()) {
                        connected_to.push(address.name.to_owned());
                    }
                    let peers = group
                        .and_then(|group| members.get(&group))
                        .into_iter()
                        .flatten();
                    connected_to.extend(
                        peers
                            .filter(|&&peer| peer != index)
                            .filter_map(|&peer| names.get(peer))
                            .map(|name| (*name).to_owned()),
                    );
                }
                RemoteParty {
                    name: party.name.clone(),
                    state: party.state,
                    connected_to,
                    received: party.signals(),
                }
            })
            .collect()
    }

    /// The outermost conference `id` belongs to, memoised across one
    /// far-end query so deep nesting stays linear.
    fn root_of(&self, id: CallId, roots: &mut HashMap<CallId, CallId>) -> CallId {
        let mut path = Vec::new();
        let mut current = id;
        let root = loop {
            if let Some(&root) = roots.get(&current) {
                break root;
            }
            path.push(current);
            match self
                .calls
                .get(current)
                .ok()
                .and_then(|call| call.links.parent)
            {
                // Links form a tree; the length bound only guards the loop.
                Some(parent) if path.len() <= self.calls.len() => current = parent,
                _ => break current,
            }
        };
        for call in path {
            roots.insert(call, root);
        }
        root
    }
}
