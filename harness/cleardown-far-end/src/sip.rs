//! The SIP far end: a SIP user agent on a loopback UDP socket that plays
//! every far party of a fixture over the wire (RFC 3261 INVITE, 180, 200,
//! ACK, BYE, CANCEL; `Reason: Q.850;cause=N`, RFC 3326; `User-to-User`,
//! RFC 7433), so that a provider on a real SIP transport is judged with no
//! simulator inside it. The user agent is `cleardown-sip`'s [`FarUa`], the
//! same one the sip provider's memory transport plays; this module only
//! moves its messages and maps the provider's calls onto its dialogs.
//!
//! How a provider's configuration names the wire: the harness replaces
//! `{local}` with the loopback `IP:PORT` the provider is to listen on and
//! `{far_end}` with this far end's (see [`SipWire::fill`]).
//!
//! **Settling the wire.** A provider on a real transport answers in its
//! own time, so after each step the far end settles: it handles whatever
//! has arrived, then sends an OPTIONS (which every UA answers, RFC 3261
//! §11) and handles everything that arrives until its answer. A provider
//! that reads its socket in order has by then handled every message sent
//! before it, and its reports are with the host. Rounds repeat until one
//! passes with nothing but the answer; each wait is bounded by the run's
//! settle time. No fixed sleep anywhere.
//!
//! **Which call is which.** The provider names its calls; the wire names
//! dialogs. A call this far end offers is the call the provider reports
//! new while the offer settles ([`Host::newest_call`]). A call the app
//! places ([`FarEnd::placed`]) is the first INVITE that arrived for that
//! user and is not yet bound, else the first unbound one.
//!
//! The wire text it reports for each signal names the two loopback
//! addresses by role (`cleardown.invalid` for the provider,
//! `far.invalid` for itself, as the memory wire does), since the ports
//! change from run to run.

use std::collections::{HashMap, HashSet};
use std::io::ErrorKind;
use std::net::{Ipv4Addr, SocketAddr, UdpSocket};
use std::time::{Duration, Instant};

use cleardown_host::{
    AddressId, CallId, CallState, Host, LineError, LineResult, ProviderId, RemoteParty,
};
use cleardown_sip::message;
use cleardown_sip::rsip::{HostWithPort, SipMessage};
use cleardown_sip::{FAR_HOST, FarUa, LOCAL_HOST};

use crate::FarEnd;

/// The placeholder for the provider's own address in its configuration.
pub const LOCAL_PLACEHOLDER: &str = "{local}";
/// The placeholder for the far end's address.
pub const FAR_END_PLACEHOLDER: &str = "{far_end}";

/// Refuses a configuration that names a placeholder when no far-end
/// driver on a wire is there to fill it in: the provider would be handed
/// `{local}` as an address.
pub fn check_unfilled(config: &str) -> Result<(), String> {
    match [LOCAL_PLACEHOLDER, FAR_END_PLACEHOLDER]
        .into_iter()
        .find(|p| config.contains(p))
    {
        Some(placeholder) => Err(format!(
            "the configuration \"{config}\" names `{placeholder}`, which only a far-end \
             driver on a wire fills in; add --far-end sip"
        )),
        None => Ok(()),
    }
}

/// The largest datagram UDP carries.
const DATAGRAM: usize = 65_535;
/// A settle that has not quietened after this many rounds is a provider
/// that keeps talking; it stops rather than spin.
const MAX_ROUNDS: usize = 64;

/// The far end's socket and the address picked for the provider, before
/// the provider is loaded: the provider's configuration needs both.
#[derive(Debug)]
pub struct SipWire {
    socket: UdpSocket,
    local: SocketAddr,
    provider: SocketAddr,
}

impl SipWire {
    /// Binds the far end to a free loopback port and picks another for
    /// the provider. (The provider's is free when picked: bound and
    /// released. On loopback, in one process, nothing takes it between.)
    pub fn bind() -> std::io::Result<SipWire> {
        let socket = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?;
        let local = socket.local_addr()?;
        let provider = UdpSocket::bind((Ipv4Addr::LOCALHOST, 0))?.local_addr()?;
        Ok(SipWire {
            socket,
            local,
            provider,
        })
    }

    /// Where the far end listens.
    pub fn local_addr(&self) -> SocketAddr {
        self.local
    }

    /// Where the provider is to listen.
    pub fn provider_addr(&self) -> SocketAddr {
        self.provider
    }

    /// `config` with [`LOCAL_PLACEHOLDER`] and [`FAR_END_PLACEHOLDER`]
    /// replaced by the two addresses. A configuration that names neither
    /// cannot reach this far end: that is an error saying how to.
    pub fn fill(&self, config: &str) -> Result<String, String> {
        if !config.contains(FAR_END_PLACEHOLDER) {
            return Err(format!(
                "--far-end sip needs the provider's configuration to name its peer as \
                 `{FAR_END_PLACEHOLDER}` (and where it listens as `{LOCAL_PLACEHOLDER}`), \
                 e.g. \"transport=udp;bind={LOCAL_PLACEHOLDER};peer={FAR_END_PLACEHOLDER}\"; \
                 got \"{config}\""
            ));
        }
        Ok(config
            .replace(LOCAL_PLACEHOLDER, &self.provider.to_string())
            .replace(FAR_END_PLACEHOLDER, &self.local.to_string()))
    }
}

/// How many times a provider is opened on fresh ports before giving up:
/// the port picked for it can be taken by another process between being
/// picked and being bound (two workers run at once).
const OPEN_ATTEMPTS: usize = 4;

impl SipWire {
    /// Binds a wire and opens the provider on it with `load` (given the
    /// filled configuration), again on fresh ports if it cannot be opened;
    /// the last refusal is the error. A configuration without
    /// [`FAR_END_PLACEHOLDER`] is refused at once ([`SipWire::fill`]).
    pub fn open<T, E: std::fmt::Display>(
        config: &str,
        mut load: impl FnMut(&str) -> Result<T, E>,
    ) -> Result<(SipWire, T), String> {
        let mut last = String::new();
        for _ in 0..OPEN_ATTEMPTS {
            let wire = SipWire::bind()
                .map_err(|e| format!("the SIP far end cannot bind a loopback UDP port: {e}"))?;
            match load(&wire.fill(config)?) {
                Ok(opened) => return Ok((wire, opened)),
                Err(error) => last = error.to_string(),
            }
        }
        Err(last)
    }
}

/// The SIP far end of one provider. See the module documentation.
#[derive(Debug)]
pub struct SipFarEnd<'h> {
    host: &'h Host,
    provider: ProviderId,
    socket: UdpSocket,
    local: SocketAddr,
    peer: SocketAddr,
    ua: FarUa,
    /// The provider's address names, by address id.
    stations: Vec<String>,
    /// The SIP Call-ID of each provider call it knows.
    dialogs: HashMap<CallId, String>,
    /// Calls the app placed and no INVITE is bound to yet, with the user
    /// each called.
    placed: Vec<(CallId, String)>,
    bound: HashSet<String>,
    settle: Duration,
    notes: Vec<String>,
    buffer: Vec<u8>,
}

impl<'h> SipFarEnd<'h> {
    /// The far end on `wire` of `provider` (loaded with the configuration
    /// `wire` filled in), waiting at most `settle` for each answer.
    pub fn new(
        wire: SipWire,
        host: &'h Host,
        provider: ProviderId,
        settle: Duration,
    ) -> LineResult<Self> {
        let stations: Vec<String> = host
            .describe(provider)?
            .capabilities
            .addresses
            .iter()
            .map(|a| a.name.clone())
            .collect();
        let mut ua = FarUa::new(HostWithPort::from(wire.local), wire.provider.into());
        if let Some(first) = stations.first() {
            ua.set_station(first);
        }
        Ok(SipFarEnd {
            host,
            provider,
            socket: wire.socket,
            local: wire.local,
            peer: wire.provider,
            ua,
            stations,
            dialogs: HashMap::new(),
            placed: Vec::new(),
            bound: HashSet::new(),
            settle,
            notes: Vec::new(),
            buffer: vec![0; DATAGRAM],
        })
    }

    /// What went wrong on the wire that no step could show (a datagram
    /// that is not SIP, a settle that ran out of time).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    fn flush(&mut self) {
        for message in self.ua.take_output() {
            let text = message::wire_text(&message);
            if let Err(error) = self.socket.send_to(text.as_bytes(), self.peer) {
                self.notes
                    .push(format!("sending to {} failed: {error}", self.peer));
            }
        }
    }

    /// The wire text with the two loopback addresses named by role.
    fn neutral(&self, text: &str) -> String {
        text.replace(&self.peer.to_string(), LOCAL_HOST)
            .replace(&self.local.to_string(), FAR_HOST)
    }

    /// Waits up to `wait` for one datagram and hands it to the user
    /// agent; `false` if none came.
    fn receive(&mut self, wait: Duration) -> bool {
        let wait = wait.max(Duration::from_micros(1));
        if self.socket.set_read_timeout(Some(wait)).is_err() {
            return false;
        }
        let (length, source) = match self.socket.recv_from(&mut self.buffer) {
            Ok(got) => got,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => {
                return false;
            }
            Err(error) => {
                self.notes.push(format!("receiving failed: {error}"));
                return false;
            }
        };
        let bytes = self.buffer.get(..length).unwrap_or_default();
        match SipMessage::try_from(bytes) {
            Ok(message) => {
                let wire = self.neutral(&String::from_utf8_lossy(bytes));
                self.ua.receive(message, &wire);
                self.flush();
            }
            Err(error) => self
                .notes
                .push(format!("{length} bytes from {source} are not SIP: {error}")),
        }
        true
    }

    /// Settles the wire (see the module documentation).
    fn settle_wire(&mut self) {
        self.flush();
        let deadline = Instant::now() + self.settle;
        for _ in 0..MAX_ROUNDS {
            let ping = self.ua.ping();
            self.flush();
            let mut others = false;
            while !self.ua.pinged(&ping) {
                let left = deadline.saturating_duration_since(Instant::now());
                if left.is_zero() {
                    self.notes.push(format!(
                        "the provider at {} did not answer OPTIONS within {} ms",
                        self.peer,
                        self.settle.as_millis()
                    ));
                    return;
                }
                if self.receive(left) && !self.ua.pinged(&ping) {
                    others = true;
                }
            }
            if !others {
                self.bind_placed();
                return;
            }
        }
        self.notes
            .push("the wire did not settle; stopped waiting".to_owned());
    }

    /// Binds calls the app placed to INVITEs that arrived.
    fn bind_placed(&mut self) {
        for (sip_id, user) in self.ua.incoming() {
            if self.placed.is_empty() {
                return;
            }
            if self.bound.contains(&sip_id) {
                continue;
            }
            let index = self
                .placed
                .iter()
                .position(|(_, to)| *to == user)
                .unwrap_or(0);
            let (call, _) = self.placed.remove(index);
            self.bound.insert(sip_id.clone());
            self.dialogs.insert(call, sip_id);
        }
    }

    /// The call's dialog and its state as the provider last reported it.
    fn dialog(&mut self, call: CallId) -> LineResult<(String, CallState)> {
        let state = self
            .host
            .call_status(self.provider, call)
            .ok_or(LineError::InvalPointer)?
            .state();
        if !self.dialogs.contains_key(&call) {
            // Its INVITE may still be on the wire (settling binds).
            self.settle_wire();
        }
        let sip_id = self
            .dialogs
            .get(&call)
            .cloned()
            .ok_or(LineError::InvalCallState)?;
        Ok((sip_id, state))
    }

    fn placed_by_app(&self, sip_id: &str) -> bool {
        self.bound.contains(sip_id)
    }
}

/// The user part of a destination (`bob`, `sip:bob@host`, `tel:200`).
fn user_of(destination: &str) -> String {
    let rest = destination
        .split_once(':')
        .map_or(destination, |(_, rest)| rest);
    rest.split('@').next().unwrap_or(rest).to_owned()
}

impl FarEnd for SipFarEnd<'_> {
    fn offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId> {
        let station = self
            .stations
            .get(address.0 as usize)
            .ok_or(LineError::InvalPointer)?
            .clone();
        if !message::is_plain_user(from) {
            return Err(LineError::InvalPointer);
        }
        self.ua.set_station(&station);
        let (before, _) = self.host.newest_call(self.provider);
        let sip_id = self.ua.offer(from, uui);
        self.settle_wire();
        match self.host.newest_call(self.provider) {
            (after, Some(call)) if after > before => {
                self.dialogs.insert(call, sip_id);
                Ok(call)
            }
            // The provider refused it on the wire (or never said): no call.
            _ => Err(LineError::OperationFailed),
        }
    }

    fn alert(&mut self, call: CallId) -> LineResult<()> {
        let (sip_id, state) = self.dialog(call)?;
        if !self.placed_by_app(&sip_id)
            || !matches!(state, CallState::Dialing | CallState::Proceeding)
            || !self.ua.alert(&sip_id)
        {
            return Err(LineError::InvalCallState);
        }
        self.settle_wire();
        Ok(())
    }

    fn answer(&mut self, call: CallId) -> LineResult<()> {
        let (sip_id, state) = self.dialog(call)?;
        if !self.placed_by_app(&sip_id)
            || !state.is_unanswered_outbound()
            || !self.ua.answer(&sip_id)
        {
            return Err(LineError::InvalCallState);
        }
        self.settle_wire();
        Ok(())
    }

    fn hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        let (sip_id, state) = self.dialog(call)?;
        let live = state.far_party_present();
        if !live || !self.ua.hang_up(&sip_id, cause, uui) {
            return Err(LineError::InvalCallState);
        }
        self.settle_wire();
        Ok(())
    }

    fn parties(&self) -> LineResult<Vec<RemoteParty>> {
        Ok(self.ua.view())
    }

    fn placed(&mut self, call: CallId, to: &str) {
        self.placed.push((call, user_of(to)));
    }

    fn driver(&self) -> crate::Driver {
        crate::Driver::Sip
    }

    fn settle(&mut self) {
        self.settle_wire();
    }
}
