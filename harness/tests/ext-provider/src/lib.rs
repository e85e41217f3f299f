//! ext-isdn: a cleardown provider for an ISDN basic-rate (S0) line with two
//! multiple subscriber numbers, `msn-1` and `msn-2`, and a simulated far end.
//!
//! Written against the public `cleardown-sdk` API only, as a provider author
//! outside the cleardown repository would: it is the guard that the SDK's
//! documentation is enough to write a provider that passes the bundled
//! conformance suite.
//!
//! What it does: outbound calls (SETUP, CALL PROCEEDING, ALERTING, CONNECT),
//! offered calls that may be accepted (ALERTING), answered or rejected by a
//! drop, hold and retrieve, far-end clearing with any Q.850 cause and
//! user-user information, and our clearing with UUI up to `uui_drop_size`
//! bytes. No conferences or transfers: its call features say so.
//!
//! Configuration (SPEC L3), `key=value` separated by `;`:
//! `uui=0..128` (default 32), `reject_by_drop=on|off` (on),
//! `close_drop=on|off` (on).
//!
//! Deterministic: everything happens inside the call that caused it.

mod q931;

use std::collections::BTreeMap;

use cleardown_sdk::{
    config::ConfigReader,
    drop::{self, Release, check_uui},
    step::{self, Step},
    *,
};

use crate::q931::{Clearing, MAX_UUI};

cleardown_sdk::export_provider!(ExtIsdn);

/// The subscriber numbers of the line: our addresses, in [`AddressId`] order.
const MSNS: [&str; 2] = ["msn-1", "msn-2"];

/// What a configuration string selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Config {
    uui_drop_size: u32,
    reject_by_drop: bool,
    close_drop: bool,
}

impl Config {
    fn parse(text: &str) -> Result<Config, String> {
        let read = ConfigReader::new("ext-isdn");
        let mut config = Config {
            uui_drop_size: 32,
            reject_by_drop: true,
            close_drop: true,
        };
        for (key, value) in read.pairs(text, "uui=16")? {
            match key {
                "uui" => {
                    config.uui_drop_size = read.number(key, value, 0..=MAX_UUI, "a byte count")?
                }
                "reject_by_drop" => config.reject_by_drop = read.on_off(key, value)?,
                "close_drop" => config.close_drop = read.on_off(key, value)?,
                _ => return Err(read.unknown(key, &["uui", "reject_by_drop", "close_drop"])),
            }
        }
        Ok(config)
    }
}

/// One call at one of our MSNs.
#[derive(Debug)]
struct Call {
    address: AddressId,
    status: CallStatus<CallId>,
    /// We sent the SETUP: only such a call is alerted and answered by the
    /// far end.
    outbound: bool,
    /// The Q.931 call reference on the D channel.
    crv: u8,
    /// Index into [`ExtIsdn::parties`].
    party: usize,
    disconnect_mode: Option<DisconnectMode>,
    uui_received: Vec<u8>,
    uui_sent: Vec<u8>,
}

impl Call {
    fn state(&self) -> CallState {
        self.status.state()
    }

    /// Still up here, so its far party is in a call with our MSN.
    fn is_up(&self) -> bool {
        !matches!(self.state(), CallState::Idle | CallState::Disconnected)
    }
}

/// A remote party: whoever we called or who called us, by name.
#[derive(Debug)]
struct Party {
    name: String,
    state: RemoteState,
    /// The latest call between it and us.
    call: CallId,
    /// Its clearing signals, the latest [`SIGNALS_KEPT`].
    received: Vec<RemoteSignal>,
}

/// How much of the far end's past the view keeps: a long-running line must
/// not grow without bound.
const SIGNALS_KEPT: usize = 32;
const PARTIES_KEPT: usize = 128;

/// What a drop that passed every check does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Plan {
    /// A clearing message reaches the far party.
    Send(Clearing),
    /// Nothing reaches it: it already left (SPEC D6), or its offer simply
    /// goes unanswered here (closing an offered call without
    /// `reject_by_drop`).
    Quiet,
}

/// The provider: the line's calls and its far end.
#[derive(Debug)]
pub struct ExtIsdn {
    config: Config,
    events: Reporter,
    calls: BTreeMap<CallId, Call>,
    last_call: u64,
    parties: Vec<Party>,
}

impl ExtIsdn {
    fn call(&self, id: CallId) -> LineResult<&Call> {
        self.calls.get(&id).ok_or(LineError::InvalPointer)
    }

    fn state_of(&self, id: CallId) -> LineResult<CallState> {
        self.call(id).map(Call::state)
    }

    /// Records and reports `status` for `id`.
    fn enter(&mut self, id: CallId, status: CallStatus<CallId>) {
        if let Some(call) = self.calls.get_mut(&id) {
            call.status = status;
            self.events.state(id, status);
        }
    }

    fn set_party(&mut self, id: CallId, state: RemoteState) {
        if let Some(call) = self.calls.get(&id) {
            self.parties[call.party].state = state;
        }
    }

    /// A new call between `address` and the party `name`, now in `state`.
    fn new_call(
        &mut self,
        address: AddressId,
        name: &str,
        state: RemoteState,
        outbound: bool,
    ) -> CallId {
        self.last_call += 1;
        let id = CallId(self.last_call);
        let party = match self.parties.iter().position(|p| p.name == name) {
            Some(index) => index,
            None => {
                self.forget_old_parties();
                self.parties.push(Party {
                    name: name.to_owned(),
                    state,
                    call: id,
                    received: Vec::new(),
                });
                self.parties.len() - 1
            }
        };
        self.parties[party].state = state;
        self.parties[party].call = id;
        self.calls.insert(
            id,
            Call {
                address,
                status: CallStatus::Unknown,
                outbound,
                // BRI call references are 7 bits, 1 to 127 (0 is the dummy).
                crv: ((self.last_call - 1) % 127 + 1) as u8,
                party,
                disconnect_mode: None,
                uui_received: Vec::new(),
                uui_sent: Vec::new(),
            },
        );
        id
    }

    /// Keeps the far-end view bounded: the oldest party whose calls are all
    /// over here goes once there are [`PARTIES_KEPT`].
    fn forget_old_parties(&mut self) {
        if self.parties.len() < PARTIES_KEPT {
            return;
        }
        let over = |index: usize| {
            self.parties[index].state == RemoteState::Released
                && !self.calls.values().any(|call| call.party == index)
        };
        let Some(oldest) = (0..self.parties.len()).find(|&index| over(index)) else {
            return;
        };
        self.parties.remove(oldest);
        for call in self.calls.values_mut() {
            if call.party > oldest {
                call.party -= 1;
            }
        }
    }

    /// What dropping `call` with `code` does, or why it is refused: the
    /// SDK's plan of SPEC §2 (R1–R3; `closing`: the host let go of the
    /// call, T3), as this line's clearing messages.
    fn plan(&self, call: &Call, code: DisconnectCode, closing: bool) -> LineResult<Plan> {
        let situation = drop::Situation {
            closing,
            ..drop::Situation::new(call.state(), code).rejecting(self.config.reject_by_drop)
        };
        Ok(match drop::plan(situation)? {
            Release::Reject { cause } => Plan::Send(Clearing::Reject {
                cause,
                alerted: call.state() == CallState::Accepted,
            }),
            Release::Cancel => Plan::Send(Clearing::Cancel),
            Release::Release => Plan::Send(Clearing::Release),
            Release::Nothing => Plan::Quiet,
        })
    }

    /// Carries out `plan` for `id`: the far party hears it, the call is Idle.
    fn clear(&mut self, id: CallId, plan: Plan, uui: &[u8]) {
        let Some(call) = self.calls.get_mut(&id) else {
            return;
        };
        if let Plan::Send(clearing) = plan {
            let party = &mut self.parties[call.party];
            if party.received.len() == SIGNALS_KEPT {
                party.received.remove(0);
            }
            party.received.push(clearing.signal(call.crv, uui));
            party.state = RemoteState::Released;
            call.uui_sent = uui.to_vec();
        }
        self.enter(id, CallStatus::Idle);
    }

    /// Moves `id` from `from` to `to` for `request`: accept, hold, retrieve.
    fn switch(
        &mut self,
        request: RequestId,
        id: CallId,
        from: CallState,
        to: CallStatus<CallId>,
    ) -> LineResult<()> {
        if self.state_of(id)? != from {
            return Err(LineError::InvalCallState);
        }
        self.enter(id, to);
        self.events.complete(request, Ok(()));
        Ok(())
    }
}

fn address(id: AddressId) -> LineResult<&'static str> {
    MSNS.get(id.0 as usize)
        .copied()
        .ok_or(LineError::InvalPointer)
}

impl Provider for ExtIsdn {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        Ok(ExtIsdn {
            config: Config::parse(config)?,
            events,
            calls: BTreeMap::new(),
            last_call: 0,
            parties: Vec::new(),
        })
    }

    fn info(&self) -> ProviderInfo {
        let features = CallFeatures::ACCEPT
            | CallFeatures::ANSWER
            | CallFeatures::DROP
            | CallFeatures::HOLD
            | CallFeatures::UNHOLD;
        ProviderInfo {
            name: "ext-isdn".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            capabilities: Capabilities {
                uui_drop_size: self.config.uui_drop_size,
                reject_by_drop: self.config.reject_by_drop,
                close_drop: self.config.close_drop,
                addresses: MSNS
                    .iter()
                    .map(|name| AddressCaps {
                        name: (*name).to_owned(),
                        conf_drop: false,
                        sharing: Sharing::Private,
                        features,
                    })
                    .collect(),
                // The far end's DISCONNECT names its cause and carries its
                // user-user element, kept whole up to MAX_UUI.
                far_causes: true,
                uui_received_size: MAX_UUI as u32,
                hang_up_delay_ms: 0,
            },
        }
    }

    fn make_call(
        &mut self,
        request: RequestId,
        address_id: AddressId,
        destination: &str,
    ) -> LineResult<CallId> {
        address(address_id)?;
        if destination.is_empty() {
            return Err(LineError::InvalPointer);
        }
        // SETUP goes out (Dialing); CALL PROCEEDING comes back.
        let id = self.new_call(address_id, destination, RemoteState::Ringing, true);
        self.events.new_call(id, address_id, Some(request));
        self.enter(id, CallStatus::Dialing);
        self.enter(id, CallStatus::Proceeding);
        self.events.complete(request, Ok(()));
        Ok(id)
    }

    fn answer(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        step::check(Step::Answer, self.state_of(id)?, false)?;
        // CONNECT.
        self.enter(id, CallStatus::connected());
        self.set_party(id, RemoteState::Connected);
        self.events.complete(request, Ok(()));
        Ok(())
    }

    fn accept(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // ALERTING: it rings here.
        self.switch(request, id, CallState::Offering, CallStatus::Accepted)
    }

    fn hold(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // HOLD, HOLD ACKNOWLEDGE: the B channel is free, the far end waits.
        self.switch(request, id, CallState::Connected, CallStatus::OnHold)
    }

    fn unhold(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // RETRIEVE, RETRIEVE ACKNOWLEDGE.
        self.switch(request, id, CallState::OnHold, CallStatus::connected())
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        id: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        // Ours to check, not the host's: the UUI our declaration allows
        // (SPEC U2, U4) and whether an offered call may be rejected (R2).
        let call = self.call(id)?;
        check_uui(uui, self.config.uui_drop_size)?;
        let plan = self.plan(call, code, false)?;
        self.clear(id, plan, uui);
        self.events.complete(request, Ok(()));
        Ok(())
    }

    fn close_call(&mut self, id: CallId) -> LineResult<()> {
        // SPEC T3: nobody holds it any more; a call still up is cleared as a
        // plain drop without UUI would clear it.
        let call = self.call(id)?;
        if !call.status.is_idle() {
            let plan = self.plan(call, DisconnectCode::Normal, true)?;
            self.clear(id, plan, &[]);
        }
        self.calls.remove(&id);
        Ok(())
    }

    fn call_info(&self, id: CallId) -> LineResult<CallInfo<CallId>> {
        let call = self.call(id)?;
        Ok(CallInfo {
            address: call.address,
            status: call.status,
            related: Vec::new(),
            remote: self.parties[call.party].name.clone(),
            disconnect_mode: call.disconnect_mode,
            uui_received: call.uui_received.clone(),
            uui_sent: call.uui_sent.clone(),
        })
    }

    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        let parties = self
            .parties
            .iter()
            .map(|party| {
                // A connected party talks to the MSN its call is up on.
                let station = self
                    .calls
                    .get(&party.call)
                    .filter(|call| party.state == RemoteState::Connected && call.is_up())
                    .and_then(|call| address(call.address).ok());
                RemoteParty {
                    name: party.name.clone(),
                    state: party.state,
                    connected_to: station.into_iter().map(str::to_owned).collect(),
                    received: party.received.clone(),
                }
            })
            .collect();
        Ok(parties)
    }

    fn remote_offer(
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
        // SETUP from the network to our MSN.
        let id = self.new_call(address_id, from, RemoteState::Calling, false);
        if let Some(call) = self.calls.get_mut(&id) {
            call.uui_received = uui.to_vec();
        }
        self.events.new_call(id, address_id, None);
        self.enter(id, CallStatus::Offering);
        Ok(id)
    }

    fn remote_alert(&mut self, id: CallId) -> LineResult<()> {
        let call = self.call(id)?;
        step::check(Step::FarAlert, call.state(), call.outbound)?;
        self.enter(id, CallStatus::Ringback);
        Ok(())
    }

    fn remote_answer(&mut self, id: CallId) -> LineResult<()> {
        let call = self.call(id)?;
        step::check(Step::FarAnswer, call.state(), call.outbound)?;
        self.enter(id, CallStatus::connected());
        self.set_party(id, RemoteState::Connected);
        Ok(())
    }

    fn remote_hang_up(&mut self, id: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        // The far end's DISCONNECT: we wait in Disconnected for our owner's
        // drop (SPEC S3), keeping its cause and UUI for call info (U5).
        let call = self.call(id)?;
        check_uui(uui, MAX_UUI)?;
        if !call.is_up() {
            return Err(LineError::InvalCallState);
        }
        let mode = DisconnectMode::from_q850(cause);
        self.set_party(id, RemoteState::Released);
        if let Some(call) = self.calls.get_mut(&id) {
            call.disconnect_mode = Some(mode);
            call.uui_received = uui.to_vec();
        }
        self.enter(id, CallStatus::Disconnected { mode });
        Ok(())
    }
}
