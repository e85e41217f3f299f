//! ext-isdn: a cleardown provider for an ISDN basic-rate (S0) line with two
//! multiple subscriber numbers, `msn-1` and `msn-2`, and a simulated far end.
//!
//! Written against the public `cleardown-sdk` API only, as a provider author
//! outside the cleardown repository would: it is the guard that the SDK's
//! documentation is enough to write a provider that passes the bundled
//! conformance suite. The contract's logic is the SDK's blocks (`calls`,
//! `drop`, `step`, `parties`); this crate is the ISDN world: MSNs, call
//! references and the Q.931 clearing messages (`q931.rs`).
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

mod q931;

use cleardown_sdk::calls::Calls;
use cleardown_sdk::config::ConfigReader;
use cleardown_sdk::drop::{self, Release};
use cleardown_sdk::parties::{Parties, PartyId};
use cleardown_sdk::step::Step;
use cleardown_sdk::*;

use crate::q931::MAX_UUI;

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
        let mut c = Config { uui_drop_size: 32, reject_by_drop: true, close_drop: true };
        for (key, value) in read.pairs(text, "uui=16")? {
            match key {
                "uui" => c.uui_drop_size = read.number(key, value, 0..=MAX_UUI, "a byte count")?,
                "reject_by_drop" => c.reject_by_drop = read.on_off(key, value)?,
                "close_drop" => c.close_drop = read.on_off(key, value)?,
                _ => return Err(read.unknown(key, &["uui", "reject_by_drop", "close_drop"])),
            }
        }
        Ok(c)
    }
}

/// What ISDN adds to a call: its Q.931 call reference, its far party and
/// the user-user information of each direction.
#[derive(Debug)]
struct Isdn {
    crv: u8,
    party: PartyId,
    uui_received: Vec<u8>,
    uui_sent: Vec<u8>,
}

/// The provider: the line's calls and its far end.
#[derive(Debug)]
pub struct ExtIsdn {
    config: Config,
    calls: Calls<Isdn>,
    parties: Parties<CallId>,
}

impl ExtIsdn {
    /// The ISDN side of the next call, with the party `name` now in `state`.
    fn next(&mut self, name: &str, state: RemoteState, uui_received: &[u8]) -> Isdn {
        // BRI call references are 7 bits, 1 to 127 (0 is the dummy).
        let crv = ((self.calls.next_id().0 - 1) % 127 + 1) as u8;
        let party = self.parties.engage(name, state, self.calls.next_id());
        Isdn { crv, party, uui_received: uui_received.to_vec(), uui_sent: Vec::new() }
    }

    /// Carries out a planned drop: the far party hears the clearing message
    /// with the drop's UUI, the call is Idle.
    fn clear(&mut self, id: CallId, release: Release, uui: &[u8]) {
        let alerted = self.calls.state(id) == Ok(CallState::Accepted);
        if let Ok(mut call) = self.calls.get_mut(id) {
            if let Some(signal) = q931::clearing(release, alerted, call.data.crv, uui) {
                call.data.uui_sent = uui.to_vec();
                self.parties.receive(call.data.party, signal);
            }
        }
        self.calls.enter(id, CallStatus::Idle);
    }
}

fn address(id: AddressId) -> LineResult<&'static str> {
    MSNS.get(id.0 as usize).copied().ok_or(LineError::InvalPointer)
}

impl Provider for ExtIsdn {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        let config = Config::parse(config)?;
        Ok(ExtIsdn { config, calls: Calls::new(events), parties: Parties::default() })
    }

    fn info(&self) -> ProviderInfo {
        let features = CallFeatures::ACCEPT | CallFeatures::ANSWER | CallFeatures::DROP;
        let features = features | CallFeatures::HOLD | CallFeatures::UNHOLD;
        let msn = |name: &&str| AddressCaps {
            name: (*name).to_owned(),
            conf_drop: false,
            sharing: Sharing::Private,
            features,
        };
        let capabilities = Capabilities {
            uui_drop_size: self.config.uui_drop_size,
            reject_by_drop: self.config.reject_by_drop,
            close_drop: self.config.close_drop,
            addresses: MSNS.iter().map(msn).collect(),
            // The far end's DISCONNECT names its cause and carries its
            // user-user element, kept whole up to MAX_UUI.
            far_causes: true,
            uui_received_size: MAX_UUI,
            hang_up_delay_ms: 0,
        };
        let version = env!("CARGO_PKG_VERSION").to_owned();
        ProviderInfo { name: "ext-isdn".to_owned(), version, capabilities }
    }

    fn make_call(&mut self, request: RequestId, at: AddressId, to: &str) -> LineResult<CallId> {
        address(at)?;
        if to.is_empty() {
            return Err(LineError::InvalPointer);
        }
        // SETUP goes out (Dialing); CALL PROCEEDING comes back.
        let isdn = self.next(to, RemoteState::Ringing, &[]);
        Ok(self.calls.place(request, at, isdn))
    }

    fn answer(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // CONNECT.
        self.calls.apply(Some(request), id, Step::Answer, CallStatus::connected())?;
        self.parties.set_state(self.calls.get(id)?.data.party, RemoteState::Connected);
        Ok(())
    }

    fn accept(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // ALERTING: it rings here.
        self.calls.apply(Some(request), id, Step::Accept, CallStatus::Accepted)
    }

    fn hold(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // HOLD, HOLD ACKNOWLEDGE: the B channel is free, the far end waits.
        self.calls.apply(Some(request), id, Step::Hold, CallStatus::OnHold)
    }

    fn unhold(&mut self, request: RequestId, id: CallId) -> LineResult<()> {
        // RETRIEVE, RETRIEVE ACKNOWLEDGE.
        self.calls.apply(Some(request), id, Step::Unhold, CallStatus::connected())
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
        drop::check_uui(uui, self.config.uui_drop_size)?;
        let release = self.calls.plan_drop(id, code, self.config.reject_by_drop, false)?;
        self.clear(id, release, uui);
        self.calls.complete(request);
        Ok(())
    }

    fn close_call(&mut self, id: CallId) -> LineResult<()> {
        // SPEC T3: nobody holds it any more; a call still up is cleared as a
        // plain drop without UUI would clear it.
        if self.calls.state(id)? != CallState::Idle {
            let release = self.calls.plan_drop(
                id,
                DisconnectCode::Normal,
                self.config.reject_by_drop,
                true,
            )?;
            self.clear(id, release, &[]);
        }
        self.calls.remove(id);
        Ok(())
    }

    fn call_info(&self, id: CallId) -> LineResult<CallInfo<CallId>> {
        let call = self.calls.get(id)?;
        let remote = self.parties.get(call.data.party).map(|p| p.name.as_str());
        let mut info = call.info(remote.unwrap_or_default());
        info.uui_received.clone_from(&call.data.uui_received);
        info.uui_sent.clone_from(&call.data.uui_sent);
        Ok(info)
    }

    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        // A connected party talks to the MSN its call is up on.
        let msn = |id| {
            let call = self.calls.get(id).ok().filter(|c| c.state().far_party_present());
            call.and_then(|call| address(call.address).ok()).map(str::to_owned)
        };
        Ok(self.parties.view(|party| msn(party.link).into_iter().collect()))
    }

    fn remote_offer(&mut self, at: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId> {
        address(at)?;
        if from.is_empty() {
            return Err(LineError::InvalPointer);
        }
        drop::check_uui(uui, MAX_UUI)?;
        // SETUP from the network to our MSN.
        let isdn = self.next(from, RemoteState::Calling, uui);
        Ok(self.calls.offer(at, isdn))
    }

    fn remote_alert(&mut self, id: CallId) -> LineResult<()> {
        self.calls.apply(None, id, Step::FarAlert, CallStatus::Ringback)
    }

    fn remote_answer(&mut self, id: CallId) -> LineResult<()> {
        self.calls.apply(None, id, Step::FarAnswer, CallStatus::connected())?;
        self.parties.set_state(self.calls.get(id)?.data.party, RemoteState::Connected);
        Ok(())
    }

    fn remote_hang_up(&mut self, id: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        // The far end's DISCONNECT: we wait in Disconnected for our owner's
        // drop (SPEC S3), keeping its cause and UUI for call info (U5).
        let party = self.calls.get(id)?.data.party;
        drop::check_uui(uui, MAX_UUI)?;
        self.calls.check(id, Step::FarHangUp)?;
        self.parties.set_state(party, RemoteState::Released);
        self.calls.get_mut(id)?.data.uui_received = uui.to_vec();
        self.calls.hung_up(id, cause);
        Ok(())
    }
}
