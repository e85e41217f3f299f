//! The PBX itself: calls at our station, their conference and consultation
//! links, and the rules that decide what a drop does to each of them.
//!
//! Every operation validates first and only then changes anything, so a
//! refused request leaves the world exactly as it was (SPEC S2).

use std::collections::HashMap;
use std::mem;

use cleardown_sdk::{
    AddressCaps, AddressId, CallFeatures, CallId, CallInfo, CallState, CallStatus, Capabilities,
    DisconnectCode, DisconnectMode, LineError, LineResult, ProviderInfo, Related, Relation,
    RemoteParty, RemoteState, Reporter, RequestId, Sharing,
    drop::{self, Release, check_uui},
    step::{self, Step},
};

use crate::config::{Config, MAX_UUI};
use crate::remote::{BridgeId, Parties, PartyId, Signal};
use cleardown_sdk::seq::SeqMap;

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

/// Who placed the call: only the far end of an outbound call can alert
/// and answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Direction {
    Inbound,
    Outbound,
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

/// One call appearance at our station.
#[derive(Debug)]
struct Call {
    address: AddressId,
    status: CallStatus<CallId>,
    /// `None` for a conference parent: it is our station's bridge, not a line.
    remote: Option<PartyId>,
    links: Links,
    /// The links as they were when the call went Idle: what call info shows
    /// from then on (SPEC Q1), whatever happens to the others. Only a
    /// conference parent's copy allocates; every other call's children are
    /// none.
    links_at_idle: Option<Links>,
    disconnect_mode: Option<DisconnectMode>,
    uui_received: Box<[u8]>,
    uui_sent: Box<[u8]>,
    direction: Direction,
    /// The last cascade that reached the call (see [`World::cascades`]).
    visited: u64,
}

impl Call {
    fn new(address: AddressId, direction: Direction) -> Self {
        Call {
            address,
            // Never observed: every call gets its first real state before
            // the operation that created it returns.
            status: CallStatus::Unknown,
            remote: None,
            links: Links::default(),
            links_at_idle: None,
            disconnect_mode: None,
            uui_received: Box::default(),
            uui_sent: Box::default(),
            direction,
            visited: 0,
        }
    }

    fn state(&self) -> CallState {
        self.status.state()
    }

    /// Moves call `id` (this one) to `status` and reports it. Going Idle
    /// keeps the links as they are now for call info (SPEC Q1); the first
    /// freeze wins.
    fn enter(&mut self, id: CallId, status: CallStatus<CallId>, reporter: &Reporter) {
        if status.is_idle() && self.links_at_idle.is_none() {
            self.links_at_idle = Some(self.links.clone());
        }
        self.status = status;
        reporter.state(id, status);
    }

    /// Still up at our station: the far end is in a call with us.
    fn is_up(&self) -> bool {
        !matches!(self.state(), CallState::Idle | CallState::Disconnected)
    }

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

/// The simulated PBX: calls, remote parties, and the reporter every change
/// goes out through, in the order it happens (SPEC D4, D10).
#[derive(Debug)]
pub(crate) struct World {
    config: Config,
    reporter: Reporter,
    calls: SeqMap<CallId, Call>,
    last_call: u64,
    /// How many cascades have run: a call whose `visited` equals it was
    /// reached by the current one, which guards the walk against reaching
    /// a call twice without a set of its own to fill.
    cascades: u64,
    parties: Parties,
}

impl World {
    pub(crate) fn new(config: Config, reporter: Reporter) -> Self {
        World {
            config,
            reporter,
            calls: SeqMap::default(),
            last_call: 0,
            cascades: 0,
            parties: Parties::default(),
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
        self.calls.get(&id).ok_or(LineError::InvalPointer)
    }

    fn state_of(&self, id: CallId) -> LineResult<CallState> {
        self.call(id).map(Call::state)
    }

    // ---- primitives: these never fail, so callers validate first -------

    fn allocate(&mut self, call: Call) -> CallId {
        self.last_call += 1;
        let id = CallId(self.last_call);
        self.calls.insert(id, call);
        id
    }

    /// Records and reports `status` for `id`.
    fn set(&mut self, id: CallId, status: CallStatus<CallId>) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.enter(id, status, &self.reporter);
        }
    }

    fn set_remote(&mut self, id: CallId, state: RemoteState) {
        if let Some(party) = self.calls.get(&id).and_then(|call| call.remote) {
            self.parties.set_state(party, state);
        }
    }

    /// A new call reaching the party `name`, which is now in `state`.
    fn allocate_to(
        &mut self,
        address: AddressId,
        direction: Direction,
        name: &str,
        state: RemoteState,
    ) -> CallId {
        let id = self.allocate(Call::new(address, direction));
        let party = self.parties.engage(name, state, id);
        if let Some(call) = self.calls.get_mut(&id) {
            call.remote = Some(party);
        }
        id
    }

    /// Places an outbound call (also a consultation call) up to Proceeding.
    fn place(&mut self, request: RequestId, address: AddressId, destination: &str) -> CallId {
        let id = self.allocate_to(
            address,
            Direction::Outbound,
            destination,
            RemoteState::Ringing,
        );
        self.reporter.new_call(id, address, Some(request));
        self.set(id, CallStatus::Dialing);
        self.set(id, CallStatus::Proceeding);
        id
    }

    fn link_consult(&mut self, primary: CallId, consult: CallId) {
        if let Some(call) = self.calls.get_mut(&primary) {
            call.links.consult = Some(consult);
        }
        if let Some(call) = self.calls.get_mut(&consult) {
            call.links.primary = Some(primary);
        }
    }

    /// Clears the consultation links of `id`, which just went Idle, in both
    /// directions. Where `id` was a consultation call whose primary still
    /// waits for it, the primary is back in conversation (SPEC D8).
    fn unlink_consult(&mut self, id: CallId) {
        let (primary, consult) = match self.calls.get_mut(&id) {
            Some(call) => (call.links.primary.take(), call.links.consult.take()),
            None => return,
        };
        if let Some(consult) = consult.and_then(|consult| self.calls.get_mut(&consult)) {
            consult.links.primary = None;
        }
        if let Some(primary) = primary {
            let waiting = match self.calls.get_mut(&primary) {
                Some(call) => {
                    call.links.consult = None;
                    matches!(
                        call.state(),
                        CallState::OnHoldPendConf | CallState::OnHoldPendTransfer
                    )
                }
                None => false,
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
            .get_mut(&id)
            .and_then(|call| call.links.parent.take())
        else {
            return;
        };
        if let Some(call) = self.calls.get_mut(&parent) {
            call.links.children.retain(|child| *child != id);
        }
        self.collapse(parent);
    }

    /// SPEC C4: a live conference down to one party ends; that party's call
    /// is a plain call again. Where the conference was itself a party of an
    /// outer one (SPEC C5), the remaining call takes its place there, since
    /// that party is still talking to the outer conference.
    fn collapse(&mut self, parent: CallId) {
        let (remaining, outer) = match self.calls.get_mut(&parent) {
            Some(call) if call.is_up() => match *call.links.children.as_slice() {
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
        if let Some(call) = self.calls.get_mut(&remaining) {
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
        let slot = self
            .calls
            .get_mut(&parent)
            .and_then(|call| call.links.children.iter_mut().find(|child| **child == old));
        match slot {
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
        self.reporter.complete(request, Ok(()));
        Ok(id)
    }

    pub(crate) fn remote_alert(&mut self, id: CallId) -> LineResult<()> {
        let call = self.call(id)?;
        step::check(
            Step::FarAlert,
            call.state(),
            call.direction == Direction::Outbound,
        )?;
        self.set(id, CallStatus::Ringback);
        Ok(())
    }

    pub(crate) fn remote_answer(&mut self, id: CallId) -> LineResult<()> {
        let call = self.call(id)?;
        step::check(
            Step::FarAnswer,
            call.state(),
            call.direction == Direction::Outbound,
        )?;
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
        let id = self.allocate_to(address_id, Direction::Inbound, from, RemoteState::Calling);
        if let Some(call) = self.calls.get_mut(&id) {
            call.uui_received = uui.into();
        }
        self.reporter.new_call(id, address_id, None);
        self.set(id, CallStatus::Offering);
        Ok(id)
    }

    pub(crate) fn accept(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        step::check(Step::Accept, self.state_of(id)?, false)?;
        self.set(id, CallStatus::Accepted);
        self.reporter.complete(request, Ok(()));
        Ok(())
    }

    pub(crate) fn answer(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        step::check(Step::Answer, self.state_of(id)?, false)?;
        self.set(id, CallStatus::connected());
        self.set_remote(id, RemoteState::Connected);
        self.reporter.complete(request, Ok(()));
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
        self.reporter.complete(request, Ok(()));
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
        self.reporter.complete(request, Ok(()));
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
            let parent = self.allocate(Call::new(address, Direction::Outbound));
            self.join(parent, id);
            self.join(parent, consult);
            self.reporter.new_call(parent, address, Some(request));
            self.set(id, CallStatus::Conferenced { parent });
            self.set(consult, CallStatus::Conferenced { parent });
            self.set(parent, CallStatus::connected());
            parent
        };
        self.reporter.complete(request, Ok(()));
        Ok(parent)
    }

    fn join(&mut self, parent: CallId, child: CallId) {
        if let Some(call) = self.calls.get_mut(&parent) {
            call.links.children.push(child);
        }
        if let Some(call) = self.calls.get_mut(&child) {
            call.links.parent = Some(parent);
        }
    }

    /// Ends a consultation pair without the D8 side effect: the set-up
    /// completed, it was not abandoned.
    fn unlink_consult_pair(&mut self, primary: CallId, consult: CallId) {
        if let Some(call) = self.calls.get_mut(&primary) {
            call.links.consult = None;
        }
        if let Some(call) = self.calls.get_mut(&consult) {
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
        self.parties.bridge(&parties);
        self.set(consult, CallStatus::Idle);
        self.set(id, CallStatus::Idle);
        self.unlink_consult_pair(id, consult);
        self.reporter.complete(request, Ok(()));
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
        self.reporter.complete(request, Ok(()));
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
        if let Some(call) = self.calls.get_mut(&id) {
            if plan != DropPlan::Conference {
                if let (Some(signal), Some(party)) = (plan.signal(), call.remote) {
                    self.parties.send(party, signal, uui);
                }
                call.enter(id, CallStatus::Idle, &self.reporter);
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
        let Some(call) = self.calls.get_mut(&root) else {
            return;
        };
        call.visited = cascade;
        let children = mem::take(&mut call.links.children);
        let conf_drop = address(call.address).is_ok_and(|address| self.conf_drop(address));
        let mut bridged = Vec::new();
        // One call of the tree, once its subtree is done.
        let mut finish = |id: CallId, call: &mut Call| {
            if id != root {
                match call.remote {
                    Some(party) if conf_drop => {
                        call.uui_sent = uui.into();
                        self.parties.send(party, Signal::Release, uui);
                    }
                    Some(party) => bridged.push(party),
                    None => {}
                }
            }
            call.enter(id, CallStatus::Idle, &self.reporter);
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
                let Some(call) = self.calls.get_mut(&child) else {
                    continue;
                };
                if call.visited == cascade {
                    continue;
                }
                call.visited = cascade;
                if call.links.children.is_empty() {
                    // Its subtree is done as soon as it is reached.
                    finish(child, call);
                } else {
                    let children = mem::take(&mut call.links.children);
                    stack.push((child, children, 0));
                }
                continue;
            }
            let Some((id, children, _)) = stack.pop() else {
                break;
            };
            if let Some(call) = self.calls.get_mut(&id) {
                call.links.children = children;
                finish(id, call);
            }
        }
        if !conf_drop {
            self.parties.bridge(&bridged);
        }
    }

    /// Removes `id` and every link other calls hold to it.
    fn forget(&mut self, id: CallId) {
        let Some(call) = self.calls.remove(&id) else {
            return;
        };
        if let Some(party) = call.remote {
            let calls = &self.calls;
            self.parties
                .retire(party, id, |call| calls.contains_key(&call));
        }
        let links = call.links;
        if let Some(parent) = links.parent.and_then(|parent| self.calls.get_mut(&parent)) {
            parent.links.children.retain(|child| *child != id);
        }
        for child in &links.children {
            if let Some(child) = self.calls.get_mut(child) {
                child.links.parent = None;
            }
        }
        if let Some(primary) = links
            .primary
            .and_then(|primary| self.calls.get_mut(&primary))
        {
            primary.links.consult = None;
        }
        if let Some(consult) = links
            .consult
            .and_then(|consult| self.calls.get_mut(&consult))
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
        step::check(Step::FarHangUp, call.state(), false)?;
        let mode = DisconnectMode::from_q850(cause);
        self.set_remote(id, RemoteState::Released);
        if let Some(call) = self.calls.get_mut(&id) {
            call.disconnect_mode = Some(mode);
            call.uui_received = uui.into();
        }
        self.set(id, CallStatus::Disconnected { mode });
        self.leave_parent(id);
        Ok(())
    }

    pub(crate) fn call_info(&self, id: CallId) -> LineResult<CallInfo<CallId>> {
        let call = self.call(id)?;
        let related = match &call.links_at_idle {
            // Calls forgotten since (their last handle went, T3) drop out.
            Some(frozen) => frozen
                .related()
                .filter(|r| self.calls.contains_key(&r.call))
                .collect(),
            None => call.links.related().collect(),
        };
        Ok(CallInfo {
            address: call.address,
            status: call.status,
            related,
            remote: call
                .remote
                .and_then(|party| self.parties.name(party))
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
        let parties = self.parties.in_order();
        let mut roots = HashMap::new();
        let groups: Vec<Option<Group>> = parties
            .iter()
            .map(|party| match party.bridge {
                Some(bridge) => Some(Group::Bridge(bridge)),
                None => self
                    .calls
                    .get(&party.call)
                    .filter(|call| call.is_up() && call.links.parent.is_some())
                    .map(|_| Group::Conference(self.root_of(party.call, &mut roots))),
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
                    let station = self.calls.get(&party.call).filter(|call| call.is_up());
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
                    received: party.received(),
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
            match self.calls.get(&current).and_then(|call| call.links.parent) {
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
