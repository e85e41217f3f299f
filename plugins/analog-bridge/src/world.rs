//! The line card itself: the loop (or, in private mode, one loop per
//! station), the calls it carries, each call's appearances at the stations,
//! and the rules that decide what a drop or a hook change does to them.
//!
//! Every operation validates first and only then changes anything, so a
//! refused request leaves the world exactly as it was (SPEC S2, X1).

use std::collections::BTreeMap;

use cleardown_sdk::{
    AddressCaps, AddressId, CallFeatures, CallId, CallInfo, CallState, CallStatus, Capabilities,
    ConnectedMode, DisconnectCode, DisconnectMode, LineError, LineResult, ProviderInfo,
    RemoteParty, RemoteState, Reporter, RequestId, Sharing,
    calls::{Call, Calls},
    drop::{Release, check_uui},
    step::Step,
};

use crate::config::{Config, Mode};
use crate::remote::{Parties, PartyId, Signal};

/// One call on a loop, whatever stations have an appearance of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct TalkId(u64);

/// A call on a loop.
#[derive(Debug)]
struct Talk {
    /// The loop: 0 on a bridged card, the station's index in private mode.
    line: usize,
    /// We placed it: only then can the far end alert and answer. Each of
    /// its appearances carries this into the call table.
    outbound: bool,
    /// `None` for a local call (a station off-hook hearing dial tone).
    party: Option<PartyId>,
    /// Its appearances, in creation order; forgotten ones are removed.
    appearances: Vec<CallId>,
    /// Without supervision: the simulated time at which the card will
    /// recognise the tone that follows the far end's hang-up.
    tone_due: Option<u64>,
}

/// One appearance of a call at one station: what the host calls a call.
/// The call table keeps its address, state, direction and disconnect mode
/// (kept after Idle, SPEC Q1); this is the line card's side of it.
#[derive(Debug)]
struct Appearance {
    station: usize,
    talk: TalkId,
    /// The station is off-hook on this call (it answered, dialled, bridged
    /// in, or hears dial tone); on-hook while Offering or Connected/Inactive.
    off_hook: bool,
}

/// The station of `call` talks on it.
fn is_active(call: &Call<Appearance>) -> bool {
    call.status == CallStatus::connected()
}

/// What a drop that passed validation will do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum DropPlan {
    /// SPEC B1: another station is still active; this one goes on-hook and
    /// its appearance Connected/Inactive.
    StepOut,
    /// SPEC B2, D7: the loop opens; the far end hears it (unless it already
    /// left), and every appearance of the call goes Idle.
    Clear(Option<Signal>),
    /// SPEC B3, D6, and dial tone: only this appearance goes Idle.
    Local,
}

fn inactive() -> CallStatus<CallId> {
    CallStatus::Connected {
        mode: ConnectedMode::Inactive,
    }
}

/// The simulated line card: calls, remote parties and simulated time. The
/// call table reports every change of a call as it happens (SPEC D4, D10).
#[derive(Debug)]
pub(crate) struct World {
    config: Config,
    calls: Calls<Appearance>,
    talks: BTreeMap<TalkId, Talk>,
    last_talk: u64,
    parties: Parties,
    /// Simulated milliseconds since the card was opened.
    now: u64,
}

impl World {
    pub(crate) fn new(config: Config, reporter: Reporter) -> Self {
        World {
            config,
            calls: Calls::new(reporter),
            talks: BTreeMap::new(),
            last_talk: 0,
            parties: Parties::default(),
            now: 0,
        }
    }

    pub(crate) fn info(&self) -> ProviderInfo {
        let sharing = match self.config.mode {
            Mode::Shared => Sharing::BridgedShared,
            Mode::Exclusive => Sharing::BridgedExclusive,
            Mode::New => Sharing::BridgedNew,
            Mode::Private => Sharing::Private,
        };
        let addresses = (0..self.stations())
            .map(|station| AddressCaps {
                name: station_name(station),
                conf_drop: false,
                sharing,
                features: CallFeatures::ACCEPT | CallFeatures::ANSWER | CallFeatures::DROP,
            })
            .collect();
        ProviderInfo {
            name: "analog-bridge".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            capabilities: Capabilities {
                // An analog loop carries no user-user information (SPEC U4)
                // and cannot reject a ringing call (SPEC R2).
                uui_drop_size: 0,
                reject_by_drop: false,
                // An off-hook phone keeps talking when the app lets go (B5).
                close_drop: false,
                addresses,
                // The loop hears no cause and no UUI from the far end; with
                // supervision the hang-up is loop current dropping at once,
                // without it the tone the card detects `tone_ms` later.
                far_causes: false,
                uui_received_size: 0,
                hang_up_delay_ms: if self.config.supervision {
                    0
                } else {
                    u32::try_from(self.config.tone_ms).unwrap_or(u32::MAX)
                },
            },
        }
    }

    fn stations(&self) -> usize {
        self.config.stations as usize
    }

    /// The station `address` names; `InvalPointer` for one the card lacks.
    pub(crate) fn station(&self, address: AddressId) -> LineResult<usize> {
        usize::try_from(address.0)
            .ok()
            .filter(|&station| station < self.stations())
            .ok_or(LineError::InvalPointer)
    }

    /// The loop `station` is on.
    fn line_of(&self, station: usize) -> usize {
        match self.config.mode {
            Mode::Private => station,
            Mode::Shared | Mode::Exclusive | Mode::New => 0,
        }
    }

    fn talk_of(&self, id: CallId) -> Option<&Talk> {
        self.calls
            .get(id)
            .ok()
            .and_then(|call| self.talks.get(&call.talk))
    }

    fn party_of(&self, id: CallId) -> Option<PartyId> {
        self.talk_of(id).and_then(|talk| talk.party)
    }

    /// Whether the far end of `id` is still on the line (not gone, not
    /// released by us): only then does it hear anything.
    fn far_end_present(&self, id: CallId) -> bool {
        self.party_of(id)
            .is_some_and(|party| self.parties.present(party))
    }

    /// The loop carries a call: some appearance on it is not Idle.
    fn line_busy(&self, line: usize) -> bool {
        self.calls
            .unordered()
            .any(|(_, call)| !call.status.is_idle() && self.line_of(call.station) == line)
    }

    /// The call the loop carries, if any (on a bridged card in shared or
    /// exclusive mode there is at most one).
    fn live_talk(&self, line: usize) -> Option<TalkId> {
        self.talks
            .iter()
            .find(|(_, talk)| {
                talk.line == line
                    && talk
                        .appearances
                        .iter()
                        .any(|&id| self.calls.get(id).is_ok_and(|call| !call.status.is_idle()))
            })
            .map(|(&id, _)| id)
    }

    /// The appearances of `talk` that are not Idle, in station order.
    fn live_appearances(&self, talk: TalkId) -> Vec<CallId> {
        let mut live: Vec<(usize, CallId)> = self
            .talks
            .get(&talk)
            .into_iter()
            .flat_map(|talk| talk.appearances.iter())
            .filter_map(|&id| {
                self.calls
                    .get(id)
                    .ok()
                    .filter(|call| !call.status.is_idle())
                    .map(|call| (call.station, id))
            })
            .collect();
        live.sort_unstable();
        live.into_iter().map(|(_, id)| id).collect()
    }

    /// The call `station` is off-hook on, if it is off-hook.
    fn off_hook_call(&self, station: usize) -> Option<CallId> {
        self.calls
            .iter()
            .find(|(_, call)| call.station == station && call.off_hook && !call.status.is_idle())
            .map(|(id, _)| id)
    }

    /// The call ringing at `station`, if any.
    fn offered_call(&self, station: usize) -> Option<CallId> {
        self.calls
            .iter()
            .find(|(_, call)| call.station == station && call.state().is_offered())
            .map(|(id, _)| id)
    }

    // ---- primitives: these never fail, so callers validate first -------

    /// A new call on `line`, reaching the party `far` (name and state) if any.
    fn allocate_talk(
        &mut self,
        line: usize,
        outbound: bool,
        far: Option<(&str, RemoteState)>,
    ) -> TalkId {
        self.last_talk += 1;
        let id = TalkId(self.last_talk);
        let party = far.map(|(name, state)| self.parties.engage(name, state, id));
        self.talks.insert(
            id,
            Talk {
                line,
                outbound,
                party,
                appearances: Vec::new(),
                tone_due: None,
            },
        );
        id
    }

    /// A new appearance of `talk` at `station`, reported with its first state.
    fn appear(
        &mut self,
        talk: TalkId,
        station: usize,
        request: Option<RequestId>,
        status: CallStatus<CallId>,
        off_hook: bool,
    ) -> CallId {
        let outbound = self.talks.get(&talk).is_some_and(|talk| talk.outbound);
        let appearance = Appearance {
            station,
            talk,
            off_hook,
        };
        let id = self
            .calls
            .add(address_id(station), outbound, request, appearance);
        self.calls.enter(id, status);
        if let Some(talk) = self.talks.get_mut(&talk) {
            talk.appearances.push(id);
        }
        id
    }

    fn set_off_hook(&mut self, id: CallId, off_hook: bool) {
        if let Ok(mut call) = self.calls.get_mut(id) {
            call.off_hook = off_hook;
        }
    }

    fn set_party(&mut self, id: CallId, state: RemoteState) {
        if let Some(party) = self.party_of(id) {
            self.parties.set_state(party, state);
        }
    }

    /// `station` goes off-hook on an idle loop (or, in BridgedNew mode, on
    /// a busy one): a call of its own, hearing dial tone.
    fn dial_tone(&mut self, station: usize) {
        let talk = self.allocate_talk(self.line_of(station), false, None);
        self.appear(talk, station, None, CallStatus::Dialtone, true);
    }

    /// The station of `id` picks up a ringing call; in shared mode every
    /// other station still ringing now shows the call up elsewhere.
    fn pick_up(&mut self, id: CallId) {
        self.calls.enter(id, CallStatus::connected());
        self.set_off_hook(id, true);
        if self.config.mode == Mode::Shared {
            if let Ok(talk) = self.calls.get(id).map(|call| call.talk) {
                for other in self.live_appearances(talk) {
                    let ringing = self
                        .calls
                        .get(other)
                        .is_ok_and(|call| call.state().is_offered());
                    if other != id && ringing {
                        self.calls.enter(other, inactive());
                    }
                }
            }
        }
        // A caller that already hung up (no supervision, not yet detected)
        // stays gone: picking up finds nobody.
        if self.far_end_present(id) {
            self.set_party(id, RemoteState::Connected);
        }
    }

    /// Shared mode: `station` goes off-hook while the loop's call is up and
    /// joins it.
    fn bridge_in(&mut self, talk: TalkId, station: usize) {
        let own = self
            .live_appearances(talk)
            .into_iter()
            .find(|&id| self.calls.get(id).is_ok_and(|call| call.station == station));
        match own {
            Some(id) => {
                self.calls.enter(id, CallStatus::connected());
                self.set_off_hook(id, true);
            }
            // Its appearance was dropped (SPEC B3) or forgotten: a new one.
            None => {
                self.appear(talk, station, None, CallStatus::connected(), true);
            }
        }
    }

    /// Every appearance of `talk` not yet Idle learns that the far end left.
    fn disconnect_all(&mut self, talk: TalkId, mode: DisconnectMode) {
        if let Some(talk) = self.talks.get_mut(&talk) {
            talk.tone_due = None;
        }
        // The mode is the line's own (loop current or tone), not one of a
        // Q.850 cause: an analog line hears none, so not the table's
        // `hung_up`.
        for id in self.live_appearances(talk) {
            if let Ok(mut call) = self.calls.get_mut(id) {
                call.disconnected(mode);
            }
        }
    }

    // ---- outbound calls -------------------------------------------------

    pub(crate) fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<CallId> {
        let station = self.station(address)?;
        if destination.is_empty() {
            return Err(LineError::InvalPointer);
        }
        let line = self.line_of(station);
        if self.line_busy(line) {
            return Err(LineError::ResourceUnavail);
        }
        let talk = self.allocate_talk(line, true, Some((destination, RemoteState::Ringing)));
        // The station hears dial tone before it dials, so not the table's
        // `place`, which starts at Dialing.
        let id = self.appear(talk, station, Some(request), CallStatus::Dialtone, true);
        self.calls.enter(id, CallStatus::Dialing);
        self.calls.enter(id, CallStatus::Proceeding);
        self.calls.complete(request);
        Ok(id)
    }

    /// The appearance `id` of an outbound call, still unanswered, whose far
    /// end has not hung up: what the far end's alert and answer need.
    fn check_outbound(&self, id: CallId, what: Step) -> LineResult<()> {
        self.calls.check(id, what)?;
        if !self.far_end_present(id) {
            return Err(LineError::InvalCallState);
        }
        Ok(())
    }

    pub(crate) fn remote_alert(&mut self, id: CallId) -> LineResult<()> {
        self.check_outbound(id, Step::FarAlert)?;
        self.calls.enter(id, CallStatus::Ringback);
        Ok(())
    }

    pub(crate) fn remote_answer(&mut self, id: CallId) -> LineResult<()> {
        self.check_outbound(id, Step::FarAnswer)?;
        self.calls.enter(id, CallStatus::connected());
        self.set_party(id, RemoteState::Connected);
        if self.config.mode == Mode::Shared {
            let Ok((talk, station)) = self.calls.get(id).map(|call| (call.talk, call.station))
            else {
                return Ok(());
            };
            for other in (0..self.stations()).filter(|&other| other != station) {
                self.appear(talk, other, None, inactive(), false);
            }
        }
        Ok(())
    }

    // ---- inbound calls --------------------------------------------------

    pub(crate) fn remote_offer(
        &mut self,
        address: AddressId,
        from: &str,
        uui: &[u8],
    ) -> LineResult<CallId> {
        let station = self.station(address)?;
        if from.is_empty() {
            return Err(LineError::InvalPointer);
        }
        if !uui.is_empty() {
            // An analog line has no way to carry it.
            return Err(LineError::OperationUnavail);
        }
        let line = self.line_of(station);
        if self.line_busy(line) {
            return Err(LineError::ResourceUnavail);
        }
        let talk = self.allocate_talk(line, false, Some((from, RemoteState::Calling)));
        if self.config.mode != Mode::Shared {
            return Ok(self.appear(talk, station, None, CallStatus::Offering, false));
        }
        // Shared: the call rings at every station, in station order; the
        // offered station's appearance is the one returned.
        let mut offered = CallId(0);
        for other in 0..self.stations() {
            let id = self.appear(talk, other, None, CallStatus::Offering, false);
            if other == station {
                offered = id;
            }
        }
        Ok(offered)
    }

    pub(crate) fn accept(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        self.calls
            .apply(Some(request), id, Step::Accept, CallStatus::Accepted)
    }

    pub(crate) fn answer(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        self.calls.check(id, Step::Answer)?;
        self.pick_up(id);
        self.calls.complete(request);
        Ok(())
    }

    // ---- stations -------------------------------------------------------

    pub(crate) fn station_hook(&mut self, address: AddressId, off_hook: bool) -> LineResult<()> {
        let station = self.station(address)?;
        if !off_hook {
            // On-hook is a drop of the call the station is off-hook on.
            let id = self
                .off_hook_call(station)
                .ok_or(LineError::InvalCallState)?;
            let plan = self.plan_drop(id, DisconnectCode::Normal, false)?;
            self.execute_drop(id, plan);
            return Ok(());
        }
        if self.off_hook_call(station).is_some() {
            return Err(LineError::InvalCallState);
        }
        if let Some(id) = self.offered_call(station) {
            self.pick_up(id);
            return Ok(());
        }
        if self.config.mode == Mode::New {
            // BridgedNew: a new call of its own, whatever the loop carries.
            self.dial_tone(station);
            return Ok(());
        }
        match self.live_talk(self.line_of(station)) {
            None => self.dial_tone(station),
            Some(talk) if self.config.mode == Mode::Shared && self.is_up(talk) => {
                self.bridge_in(talk, station);
            }
            // Exclusive: the call belongs to the station that holds it, no
            // barging in; shared: nothing to join yet (ringing elsewhere,
            // dialling, dial tone, or the far end gone).
            Some(_) => return Err(LineError::ResourceUnavail),
        }
        Ok(())
    }

    /// The call is up: some appearance of it is connected.
    fn is_up(&self, talk: TalkId) -> bool {
        self.live_appearances(talk).iter().any(|&id| {
            self.calls
                .get(id)
                .is_ok_and(|call| call.state() == CallState::Connected)
        })
    }

    // ---- drop and close -------------------------------------------------

    pub(crate) fn drop_call(
        &mut self,
        request: RequestId,
        id: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        self.calls.get(id)?;
        // An analog line carries no UUI (uui_drop_size 0).
        check_uui(uui, 0)?;
        let plan = self.plan_drop(id, code, false)?;
        self.execute_drop(id, plan);
        self.calls.complete(request);
        Ok(())
    }

    /// `TSPI_lineCloseCall` (SPEC T3): a call nobody holds any more is
    /// dropped as a plain drop, then forgotten. A ringing call cannot be
    /// refused on an analog line (SPEC R2): it goes Idle here only, and the
    /// caller, told nothing, keeps ringing.
    pub(crate) fn close_call(&mut self, id: CallId) -> LineResult<()> {
        if !self.calls.get(id)?.status.is_idle() {
            let plan = self.plan_drop(id, DisconnectCode::Normal, true)?;
            self.execute_drop(id, plan);
        }
        self.forget(id);
        Ok(())
    }

    /// Decides what dropping `id` does, or why it is refused: the SDK's
    /// plan of SPEC §2 for a line that cannot reject a ringing call (R2),
    /// then this line's shape of it (a station stepping out of a call
    /// another station keeps, B1; the loop freed, B2).
    fn plan_drop(&self, id: CallId, code: DisconnectCode, closing: bool) -> LineResult<DropPlan> {
        let status = self.calls.get(id)?.status;
        let release = self.calls.plan_drop(id, code, false, closing)?;
        let far = |signal| self.far_end_present(id).then_some(signal);
        Ok(match (release, status) {
            (
                Release::Release,
                CallStatus::Connected {
                    mode: ConnectedMode::Active,
                },
            ) => {
                let others_active = self.talk_of(id).is_some_and(|talk| {
                    talk.appearances
                        .iter()
                        .any(|&other| other != id && self.calls.get(other).is_ok_and(is_active))
                });
                if others_active {
                    DropPlan::StepOut
                } else {
                    DropPlan::Clear(far(Signal::Release))
                }
            }
            (Release::Cancel, _) => DropPlan::Clear(far(Signal::Cancel)),
            // SPEC D6 and B2: the far end has gone; once no other station is
            // off-hook on the call, this drop frees the loop and every
            // appearance clears: the last station off-hook going on-hook,
            // or, for a call the caller gave up while it rang, any drop of
            // an appearance (nobody ever picked up, so no other station
            // holds the loop; left Disconnected, the appearances nobody
            // holds would keep the loop busy for good).
            (Release::Nothing, CallStatus::Disconnected { .. }) if !self.others_off_hook(id) => {
                DropPlan::Clear(None)
            }
            // Never planned: this line declares no reject_by_drop.
            (Release::Reject { .. }, _) => return Err(LineError::OperationUnavail),
            _ => DropPlan::Local,
        })
    }

    /// Whether another station is off-hook on `id`'s call.
    fn others_off_hook(&self, id: CallId) -> bool {
        self.talk_of(id).is_some_and(|talk| {
            talk.appearances.iter().any(|&other| {
                other != id
                    && self
                        .calls
                        .get(other)
                        .is_ok_and(|call| call.off_hook && !call.status.is_idle())
            })
        })
    }

    fn execute_drop(&mut self, id: CallId, plan: DropPlan) {
        match plan {
            DropPlan::StepOut => {
                self.set_off_hook(id, false);
                self.calls.enter(id, inactive());
            }
            DropPlan::Local => self.calls.enter(id, CallStatus::Idle),
            DropPlan::Clear(signal) => {
                let Ok(talk) = self.calls.get(id).map(|call| call.talk) else {
                    return;
                };
                if let (Some(signal), Some(party)) = (signal, self.party_of(id)) {
                    self.parties.receive(party, signal.remote());
                }
                if let Some(talk) = self.talks.get_mut(&talk) {
                    talk.tone_due = None;
                }
                self.calls.enter(id, CallStatus::Idle);
                for other in self.live_appearances(talk) {
                    self.calls.enter(other, CallStatus::Idle);
                }
            }
        }
    }

    /// Removes `id`; a call with no appearance left is forgotten too.
    fn forget(&mut self, id: CallId) {
        let Some(call) = self.calls.remove(id) else {
            return;
        };
        let empty = match self.talks.get_mut(&call.talk) {
            Some(talk) => {
                talk.appearances.retain(|other| *other != id);
                talk.appearances.is_empty()
            }
            None => false,
        };
        if empty {
            self.talks.remove(&call.talk);
        }
    }

    // ---- far end and time -------------------------------------------------

    /// SPEC S3: the far end left. With supervision the card sees loop
    /// current drop at once; without, it hears tone `tone_ms` later.
    pub(crate) fn remote_hang_up(&mut self, id: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        let talk = self.calls.get(id)?.talk;
        if !uui.is_empty() {
            return Err(LineError::OperationUnavail);
        }
        // The cause is not heard on an analog line.
        let _ = cause;
        // Only a far end still on a call that is up at this appearance can
        // hang up (not a dial-tone call, not twice).
        self.calls.check(id, Step::FarHangUp)?;
        let party = self
            .party_of(id)
            .filter(|&party| self.parties.present(party))
            .ok_or(LineError::InvalCallState)?;
        self.parties.set_state(party, RemoteState::Released);
        if self.config.supervision {
            self.disconnect_all(talk, DisconnectMode::Normal);
        } else if let Some(talk) = self.talks.get_mut(&talk) {
            talk.tone_due = Some(self.now.saturating_add(self.config.tone_ms));
        }
        Ok(())
    }

    /// Moves simulated time on and fires the tone detections that fall due,
    /// earliest first.
    pub(crate) fn advance_time(&mut self, millis: u64) -> LineResult<()> {
        self.now = self.now.saturating_add(millis);
        loop {
            let due = self
                .talks
                .iter()
                .filter_map(|(&id, talk)| talk.tone_due.map(|due| (due, id)))
                .filter(|&(due, _)| due <= self.now)
                .min();
            let Some((_, talk)) = due else {
                return Ok(());
            };
            self.disconnect_all(talk, DisconnectMode::Unknown);
        }
    }

    pub(crate) fn call_info(&self, id: CallId) -> LineResult<CallInfo<CallId>> {
        let call = self.calls.get(id)?;
        let remote = self
            .party_of(id)
            .and_then(|party| self.parties.get(party))
            .map(|party| party.name.clone())
            .unwrap_or_default();
        Ok(call.info(remote))
    }

    /// The far-end view: a connected party talks to the stations active on
    /// its call, in station order.
    pub(crate) fn far_end(&self) -> Vec<RemoteParty> {
        self.parties.view(|party| {
            self.live_appearances(party.link)
                .iter()
                .filter_map(|&id| self.calls.get(id).ok())
                .filter(|call| is_active(call))
                .map(|call| station_name(call.station))
                .collect()
        })
    }
}

fn station_name(station: usize) -> String {
    format!("station-{}", station + 1)
}

fn address_id(station: usize) -> AddressId {
    // Stations are at most `MAX_STATIONS`, so this never saturates.
    AddressId(u32::try_from(station).unwrap_or(u32::MAX))
}
