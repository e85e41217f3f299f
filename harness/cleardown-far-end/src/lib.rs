//! The far end of every call a fixture makes or receives, as one role of
//! the harness (ISO/IEC 9646's *lower tester*; the apps are the upper one).
//!
//! A fixture's far-end steps (`far_offer`, `far_alert`, `far_answer`,
//! `far_hang_up`) and its `far_end` view go through a [`FarEnd`], never to
//! the provider directly, so that the same fixture can be played by a far
//! end the provider simulates ([`ProviderFarEnd`], through the contract's
//! `remote_*` stimuli) or by one on the provider's real transport. A driver
//! reports what each far party received in the provider-neutral form the
//! transcripts show ([`RemoteParty`]: state, signals with kind, cause and
//! UUI bytes), parsed from its protocol, never raw text.
//!
//! Architecture invariant: a driver knows no provider crate; it speaks the
//! contract's data types (and, for a wire driver, the protocol).

use cleardown_host::{AddressId, CallId, Host, LineResult, ProviderId, RemoteParty};

pub mod sip;

pub use sip::{SipFarEnd, SipWire, check_unfilled};

/// The far-end drivers there are, by the name `--far-end` takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub enum Driver {
    /// [`ProviderFarEnd`]: the far end the provider simulates.
    #[default]
    Provider,
    /// [`SipFarEnd`]: a SIP user agent on loopback UDP.
    Sip,
}

impl Driver {
    /// Every driver, in the order help lists them.
    pub const ALL: [Driver; 2] = [Driver::Provider, Driver::Sip];

    /// Its name on the command line and in reports.
    pub const fn name(self) -> &'static str {
        match self {
            Driver::Provider => "provider",
            Driver::Sip => "sip",
        }
    }
}

impl std::fmt::Display for Driver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Driver {
    type Err = String;

    fn from_str(text: &str) -> Result<Driver, String> {
        Driver::ALL
            .into_iter()
            .find(|d| d.name() == text)
            .ok_or_else(|| format!("unknown far end `{text}`; expected provider or sip"))
    }
}

/// What plays the far end of a fixture. Each method is one far-end step;
/// an `Err` is the refusal the transcript shows (`-> Err(InvalCallState)`
/// for a party that cannot do that now).
pub trait FarEnd {
    /// A far party named `from` calls `address`, with `uui` (SPEC U5): the
    /// provider's id of the call it offers.
    fn offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId>;
    /// The far party of outbound `call` is alerted (Ringback).
    fn alert(&mut self, call: CallId) -> LineResult<()>;
    /// The far party of outbound `call` answers.
    fn answer(&mut self, call: CallId) -> LineResult<()>;
    /// The far party of `call` hangs up with Q.850 `cause` and `uui`.
    fn hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()>;
    /// Every far party so far, with what it received (SPEC §10).
    fn parties(&self) -> LineResult<Vec<RemoteParty>>;
    /// The driver, as a skip reason names it.
    fn driver(&self) -> Driver;
    /// The app placed outbound `call` to `to` (a `make_call`, or the
    /// consultation call of a conference or transfer): a far end on a
    /// wire binds it to the call setup that arrives for it. A far end the
    /// provider simulates needs nothing.
    fn placed(&mut self, call: CallId, to: &str) {
        let _ = (call, to);
    }
    /// Lets what the last step set off cross the wire and be answered,
    /// before the step's events are read: bounded by the run's settle time,
    /// never a fixed sleep. A simulated far end is settled when its
    /// stimulus returns.
    fn settle(&mut self) {}
}

/// The far end a provider simulates inside itself, driven through the
/// contract's stimuli (`remote_offer`, `remote_alert`, `remote_answer`,
/// `remote_hang_up`) and asked with `far_end`: the default driver.
#[derive(Debug, Clone, Copy)]
pub struct ProviderFarEnd<'h> {
    host: &'h Host,
    provider: ProviderId,
}

impl<'h> ProviderFarEnd<'h> {
    /// The far end `provider`, loaded in `host`, simulates.
    pub fn new(host: &'h Host, provider: ProviderId) -> Self {
        ProviderFarEnd { host, provider }
    }
}

impl FarEnd for ProviderFarEnd<'_> {
    fn offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId> {
        self.host.remote_offer(self.provider, address, from, uui)
    }

    fn alert(&mut self, call: CallId) -> LineResult<()> {
        self.host.remote_alert(self.provider, call)
    }

    fn answer(&mut self, call: CallId) -> LineResult<()> {
        self.host.remote_answer(self.provider, call)
    }

    fn hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        self.host.remote_hang_up(self.provider, call, cause, uui)
    }

    fn parties(&self) -> LineResult<Vec<RemoteParty>> {
        self.host.far_end(self.provider)
    }

    fn driver(&self) -> Driver {
        Driver::Provider
    }
}
