//! sip: a SIP user agent on one line (`line-1`), a provider of the
//! cleardown drop contract (SPEC.md) mapped onto SIP as SPEC §10 says:
//! BYE with a Q.850 `Reason` for a connected call, CANCEL for an
//! unanswered one, 603/486/480 for a rejection, UUI as a hex
//! `User-to-User` header (RFC 7433).
//!
//! The user agent ([`engine`]) is sans I/O: parsed messages in, messages
//! and reports out, time as the transport tells it. rsipstack's message
//! layer (`rsipstack::rsip`) does all the parsing and serializing. Two transports move the messages:
//!
//! * `transport=memory` (the default): a far user agent inside the plugin
//!   plays the remote parties, driven by the contract's stimuli, and every
//!   message crosses as text parsed back with rsip; synchronous and
//!   deterministic, for the conformance suite.
//! * `transport=udp;bind=IP:PORT;peer=IP:PORT` (or `transport=tcp;…`):
//!   real SIP over UDP (or TCP, framed by Content-Length); the far
//!   end is real, so the stimuli and the far-end view are refused
//!   (`OperationUnavail`): the conformance suite judges this transport
//!   through its SIP far end on the wire (`--far-end sip`, with
//!   `bind={local};peer={far_end}`), which plays the same far user agent
//!   (`cleardown-sip`) the memory transport does.
//!
//! Hold, conference and transfer are `OperationUnavail` (the SDK default).

mod config;
mod engine;
mod live;
mod memory;
mod tcp;
mod udp;

// Shared with the harness's SIP far end (see cleardown-sip).
use cleardown_sip::{far, message};

use std::net::SocketAddr;

use cleardown_sdk::{
    AddressCaps, AddressId, CallFeatures, CallId, CallInfo, Capabilities, DisconnectCode,
    LineError, LineResult, Provider, ProviderInfo, RemoteParty, Reporter, RequestId, Sharing,
};

use crate::config::Config;
use crate::engine::{Engine, LINE, MAX_UUI};
use crate::memory::Memory;
use crate::tcp::Tcp;
use crate::udp::Udp;

cleardown_sdk::export_provider!(Sip);

#[derive(Debug)]
enum Transport {
    Memory(Box<Memory>),
    Udp(Udp),
    Tcp(Tcp),
}

/// The SIP provider. See the crate documentation.
#[derive(Debug)]
pub struct Sip {
    transport: Transport,
}

impl Sip {
    /// The UDP address it listens on (with `bind=…:0`, the port the system
    /// chose); `None` on the memory transport.
    pub fn local_addr(&self) -> Option<SocketAddr> {
        match &self.transport {
            Transport::Memory(_) => None,
            Transport::Udp(udp) => Some(udp.local_addr()),
            Transport::Tcp(tcp) => Some(tcp.local_addr()),
        }
    }

    fn run<T>(&mut self, f: impl FnOnce(&mut Engine) -> T) -> T {
        match &mut self.transport {
            Transport::Memory(memory) => memory.run(f),
            Transport::Udp(udp) => udp.run(f),
            Transport::Tcp(tcp) => tcp.run(f),
        }
    }

    /// Tests: the memory transport itself.
    #[cfg(test)]
    fn mem(&mut self) -> &mut Memory {
        match &mut self.transport {
            Transport::Memory(memory) => memory,
            Transport::Udp(_) | Transport::Tcp(_) => panic!("not the memory transport"),
        }
    }

    fn memory(&mut self) -> LineResult<&mut Memory> {
        match &mut self.transport {
            Transport::Memory(memory) => Ok(memory),
            // The far end is real: nobody here can make it act.
            Transport::Udp(_) | Transport::Tcp(_) => Err(LineError::OperationUnavail),
        }
    }
}

fn line(address: AddressId) -> LineResult<()> {
    if address == AddressId(0) {
        Ok(())
    } else {
        Err(LineError::InvalPointer)
    }
}

impl Provider for Sip {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        let config = Config::parse(config)?;
        let no_answer = config.no_answer_ms;
        let transport = match config.transport {
            config::Transport::Memory => {
                Transport::Memory(Box::new(Memory::new(events, no_answer)))
            }
            config::Transport::Udp { bind, peer } => {
                Transport::Udp(Udp::open(bind, peer, no_answer, events)?)
            }
            config::Transport::Tcp { bind, peer } => {
                Transport::Tcp(Tcp::open(bind, peer, no_answer, events)?)
            }
        };
        Ok(Sip { transport })
    }

    fn info(&self) -> ProviderInfo {
        ProviderInfo {
            name: "sip".to_owned(),
            version: env!("CARGO_PKG_VERSION").to_owned(),
            capabilities: Capabilities {
                uui_drop_size: MAX_UUI,
                reject_by_drop: true,
                close_drop: true,
                addresses: vec![AddressCaps {
                    name: LINE.to_owned(),
                    conf_drop: false,
                    sharing: Sharing::Private,
                    features: CallFeatures::ACCEPT | CallFeatures::ANSWER | CallFeatures::DROP,
                }],
                // A BYE or final response names its cause (`Reason: Q.850`,
                // or the status code, SPEC §10) and carries `User-to-User`.
                far_causes: true,
                uui_received_size: MAX_UUI,
                hang_up_delay_ms: 0,
            },
        }
    }

    fn open_line(&mut self, address: AddressId) -> LineResult<()> {
        line(address)
    }

    fn close_line(&mut self, address: AddressId) -> LineResult<()> {
        line(address)
    }

    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<CallId> {
        self.run(|engine| engine.make_call(request, address, destination))
    }

    fn answer(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        self.run(|engine| engine.answer(request, call))
    }

    fn accept(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        self.run(|engine| engine.accept(request, call))
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        self.run(|engine| engine.drop_call(request, call, code, uui))
    }

    fn close_call(&mut self, call: CallId) -> LineResult<()> {
        self.run(|engine| engine.close_call(call))
    }

    fn call_info(&self, call: CallId) -> LineResult<CallInfo<CallId>> {
        match &self.transport {
            Transport::Memory(memory) => memory.engine.call_info(call),
            Transport::Udp(udp) => udp.read(|engine| engine.call_info(call)),
            Transport::Tcp(tcp) => tcp.read(|engine| engine.call_info(call)),
        }
    }

    /// Over UDP the far end is real: what it received is for a far-end
    /// driver on the wire to say (`--far-end sip`), so this is refused,
    /// like every stimulus.
    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        match &self.transport {
            Transport::Memory(memory) => Ok(memory.far_end()),
            Transport::Udp(_) | Transport::Tcp(_) => Err(LineError::OperationUnavail),
        }
    }

    fn remote_offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId> {
        self.memory()?.remote_offer(address, from, uui)
    }

    fn remote_alert(&mut self, call: CallId) -> LineResult<()> {
        self.memory()?.remote_alert(call)
    }

    fn remote_answer(&mut self, call: CallId) -> LineResult<()> {
        self.memory()?.remote_answer(call)
    }

    fn remote_hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        self.memory()?.remote_hang_up(call, cause, uui)
    }

    /// Memory transport: simulated time for the engine's timers. UDP runs
    /// on real time, so this does nothing there.
    fn advance_time(&mut self, millis: u64) -> LineResult<()> {
        if let Transport::Memory(memory) = &mut self.transport {
            memory.advance_time(millis);
        }
        Ok(())
    }
}

// Kept out of the engine, which produces reports but never delivers them.
impl engine::Output {
    /// Hands a report to the host through `reporter` (the same for every
    /// transport); what is left for the transport, a message to send or a
    /// note, comes back.
    pub(crate) fn report(self, reporter: &Reporter) -> Option<engine::Output> {
        match self {
            engine::Output::NewCall {
                call,
                address,
                request,
            } => reporter.new_call(call, address, request),
            engine::Output::State { call, status } => reporter.state(call, status),
            engine::Output::Complete { request, result } => reporter.complete(request, result),
            other => return Some(other),
        }
        None
    }
}

#[cfg(test)]
mod tests;
