//! The cleardown host: loads provider plugins and serves apps.
//!
//! A [`Host`] loads one or more providers ([`Host::load`]) and registers apps
//! ([`Host::app`]). Each [`App`] opens lines, holds call handles with a
//! privilege, and drives calls: it drops them ([`App::drop`], TAPI
//! `lineDrop`), disconnects them with a TAPI 3 code ([`App::disconnect`]),
//! queries them ([`App::call_info`], valid after drop and after Idle) and
//! deallocates them ([`App::deallocate`], `lineDeallocateCall`). Drop is
//! asynchronous: it returns a [`RequestId`] at once and the app later reads
//! a [`Event::Reply`], after every [`Event::CallState`] the request caused.
//!
//! The host refuses what the app got wrong before a provider sees a request
//! (SPEC D1, D2, R3, T2) and leaves what a capability allows (U2, R2) to the
//! provider, whose answer the conformance suite checks. It isolates a provider that panics or reports garbage
//! (X2), delivers each app's events in the order its providers reported them
//! (D10), and reports handles left undeallocated ([`Host::leaks`], T5).
//!
//! Far-end stimuli ([`Host::remote_offer`], [`Host::remote_hang_up`], …) and
//! the far-end view ([`Host::far_end`]) exist so tests and the conformance
//! harness can play the other side of a call.

mod ids;
mod load;
pub mod locate;
mod sink;
mod state;

use std::{
    path::{Path, PathBuf},
    sync::{Arc, Mutex, MutexGuard, PoisonError},
    time::{Duration, Instant},
};

use abi_stable::{
    sabi_trait::TD_Opaque,
    std_types::{RArc, RResult},
};
use cleardown_contract::abi::{EventSink_TO, ProviderModule_Ref};
pub use cleardown_contract::{
    AddressCaps, AddressId, CONTRACT_VERSION, CallFeatures, CallHandle, CallId, CallInfo,
    CallState, CallStatus, Capabilities, ConnectedMode, ContractVersion, DisconnectCode,
    DisconnectMode, Disconnected, Event, LineClosed, LineError, LineResult, Privilege,
    ProviderInfo, Related, Relation, RemoteParty, RemoteSignal, RemoteState, RequestId, Sharing,
    SignalKind, hex_bytes,
};
pub use load::LoadError;
use serde::Serialize;

use crate::{
    load::Library,
    sink::{HostSink, Inbox},
    state::{AppState, HostState, Slot},
};

/// A loaded provider, numbered in load order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct ProviderId(pub u32);

/// A registered app.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct AppId(pub u32);

/// One app's handles to Idle calls that it has not deallocated (SPEC T5).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Leak {
    pub app: String,
    pub handles: Vec<CallHandle>,
}

/// A loaded provider as `cleardown inspect` shows it (SPEC L2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct ProviderDescription {
    pub name: String,
    pub version: String,
    /// The contract version the plugin was built against.
    pub contract: ContractVersion,
    /// The version host and plugin agreed on.
    pub negotiated: ContractVersion,
    /// The library file, or `None` for a provider linked into the process.
    pub path: Option<PathBuf>,
    pub config: String,
    pub capabilities: Capabilities,
    /// Why the host stopped calling it, if it did (X2).
    pub fault: Option<String>,
}

struct Shared {
    state: Mutex<HostState>,
    inbox: Arc<Inbox>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, HostState> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The host: loaded providers and the apps using them. Cheap to clone; all
/// clones are the same host. Thread-safe.
#[derive(Clone)]
pub struct Host {
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Host {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.shared.lock();
        f.debug_struct("Host")
            .field(
                "providers",
                &state.providers.iter().map(|s| &s.label).collect::<Vec<_>>(),
            )
            .field("apps", &state.apps.len())
            .finish()
    }
}

impl Default for Host {
    fn default() -> Self {
        Self::new()
    }
}

impl Host {
    /// A host with no providers and no apps.
    pub fn new() -> Host {
        Host {
            shared: Arc::new(Shared {
                state: Mutex::new(HostState::default()),
                inbox: Arc::default(),
            }),
        }
    }

    /// Loads the provider library at `path` and opens it with `config`
    /// (SPEC L1, L3). Several providers, and several instances of one
    /// library with different configurations, may be loaded at once.
    pub fn load(&self, path: &Path, config: &str) -> Result<ProviderId, LoadError> {
        let label = path.file_name().map_or_else(
            || path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        self.open(
            Library::open(path)?,
            label,
            Some(path.to_path_buf()),
            config,
        )
    }

    /// Loads a bundled provider by name (`pbx-sim`), or a library by path
    /// when `name_or_path` looks like one.
    pub fn load_named(&self, name_or_path: &str, config: &str) -> Result<ProviderId, LoadError> {
        if locate::looks_like_path(name_or_path) {
            return self.load(Path::new(name_or_path), config);
        }
        let path = locate::bundled(name_or_path)?;
        let library = Library::open(&path)?;
        self.open(library, name_or_path.to_owned(), Some(path), config)
    }

    /// Opens a provider linked into this process (its crate's
    /// `cleardown_sdk::root_module::<P>()`), bypassing the library loader:
    /// what benchmarks compare the plugin boundary against.
    pub fn link(
        &self,
        module: ProviderModule_Ref,
        label: &str,
        config: &str,
    ) -> Result<ProviderId, LoadError> {
        self.open(Library::linked(module), label.to_owned(), None, config)
    }

    fn open(
        &self,
        library: Library,
        label: String,
        path: Option<PathBuf>,
        config: &str,
    ) -> Result<ProviderId, LoadError> {
        let mut state = self.shared.lock();
        let id = ProviderId(state.providers.len() as u32);
        let (sink, live) = HostSink::new(self.shared.inbox.clone(), id);
        let sink = EventSink_TO::from_ptr(RArc::new(sink), TD_Opaque);
        let open = library.module.open();
        let provider = match open(config.into(), library.negotiated, sink) {
            RResult::ROk(provider) => provider,
            RResult::RErr(reason) => {
                return Err(LoadError::Config {
                    provider: label,
                    config: config.to_owned(),
                    reason: reason.into(),
                });
            }
        };
        let faulty = |reason: String| LoadError::Faulty {
            provider: label.clone(),
            reason,
        };
        let mut info = match provider.info() {
            RResult::ROk(info) => info.decode().map_err(|g| faulty(g.0))?,
            RResult::RErr(error) => {
                return Err(faulty(match error.panic {
                    abi_stable::std_types::ROption::RSome(message) => {
                        format!("panicked in info: {message}")
                    }
                    abi_stable::std_types::ROption::RNone => {
                        format!("info failed with code {:#x}", error.code)
                    }
                }));
            }
        };
        // Contract 1.1: call features per address; a 1.0 plugin cannot say
        // and is taken to support everything (its info decoded so).
        if library.negotiated >= cleardown_contract::abi::CALL_FEATURES_SINCE {
            for (index, address) in info.capabilities.addresses.iter_mut().enumerate() {
                match provider.call_features(AddressId(index as u32)) {
                    RResult::ROk(bits) => address.features = CallFeatures(bits),
                    RResult::RErr(error) => {
                        return Err(faulty(format!(
                            "call_features of address {index} failed with code {:#x}",
                            error.code
                        )));
                    }
                }
            }
        }
        // Contract 1.2: what the provider hears of the far end; an older
        // plugin keeps the stand-ins its info decoded to.
        if library.negotiated >= cleardown_contract::abi::FAR_END_CAPS_SINCE {
            match provider.far_end_caps() {
                RResult::ROk(far) => far.apply(&mut info.capabilities),
                RResult::RErr(error) => {
                    return Err(faulty(format!(
                        "far_end_caps failed with code {:#x}",
                        error.code
                    )));
                }
            }
        }
        state.providers.push(Slot {
            label,
            config: config.to_owned(),
            path,
            info,
            library,
            provider,
            fault: None,
            open_lines: Default::default(),
            new_calls: 0,
            newest_call: None,
        });
        // Only now may its reports reach apps (see `HostSink`).
        live.store(true, std::sync::atomic::Ordering::Release);
        Ok(id)
    }

    /// Every loaded provider, in load order.
    pub fn providers(&self) -> Vec<ProviderId> {
        (0..self.shared.lock().providers.len() as u32)
            .map(ProviderId)
            .collect()
    }

    /// What `provider` declared (SPEC L2) and whether it is faulted.
    pub fn describe(&self, provider: ProviderId) -> LineResult<ProviderDescription> {
        let state = self.shared.lock();
        let slot = state.slot(provider)?;
        Ok(ProviderDescription {
            name: slot.info.name.clone(),
            version: slot.info.version.clone(),
            contract: slot.library.built_against,
            negotiated: slot.library.negotiated,
            path: slot.path.clone(),
            config: slot.config.clone(),
            capabilities: slot.info.capabilities.clone(),
            fault: slot.fault.clone(),
        })
    }

    /// Why `provider` was faulted, if it was (X2).
    pub fn fault(&self, provider: ProviderId) -> Option<String> {
        self.shared
            .lock()
            .slot(provider)
            .ok()
            .and_then(|s| s.fault.clone())
    }

    /// Registers an app.
    pub fn app(&self, name: &str) -> App {
        let mut state = self.shared.lock();
        let id = AppId(state.apps.len() as u32);
        state.apps.push(AppState::new(name));
        App {
            shared: self.shared.clone(),
            id,
        }
    }

    /// Every app's handles to Idle calls not yet deallocated (SPEC T5). A
    /// clean run reports none; apps without leaks are left out.
    pub fn leaks(&self) -> Vec<Leak> {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        // Grouped by app id, not name: two apps may share a name.
        let mut leaks: Vec<(AppId, Leak)> = Vec::new();
        for (app, handle) in state.leaked() {
            match leaks.last_mut() {
                Some((last, leak)) if *last == app => leak.handles.push(handle),
                _ => leaks.push((
                    app,
                    Leak {
                        app: state.apps[app.0 as usize].name.clone(),
                        handles: vec![handle],
                    },
                )),
            }
        }
        leaks.into_iter().map(|(_, leak)| leak).collect()
    }

    /// How many of `provider`'s calls the host keeps a record of: calls some
    /// app still holds a handle to, and live calls on addresses no app has
    /// open. Idle calls nobody holds are closed in the provider and
    /// forgotten, so this does not grow with the number of calls made.
    pub fn tracked_calls(&self, provider: ProviderId) -> usize {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state.tracked(provider)
    }

    /// How many calls `provider` has reported new so far, and the last of
    /// them. A far end that offers a call over the wire learns from this
    /// which call its offer became: the provider's own id, which only the
    /// provider's report names.
    pub fn newest_call(&self, provider: ProviderId) -> (u64, Option<CallId>) {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state
            .slot(provider)
            .map_or((0, None), |slot| (slot.new_calls, slot.newest_call))
    }

    /// The last status `provider` reported for `call`, if the host still
    /// tracks it: what a far end on the wire consults to refuse a step the
    /// call's state does not allow, as a simulated far end would.
    pub fn call_status(&self, provider: ProviderId, call: CallId) -> Option<CallStatus<CallId>> {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state.record(provider, call).map(|record| record.status)
    }

    /// The provider and call behind any app's handle (for stimuli).
    pub fn call_of(&self, handle: CallHandle) -> Option<(ProviderId, CallId)> {
        self.shared.lock().call_of(handle)
    }

    /// What every remote party of `provider` saw (SPEC §10).
    pub fn far_end(&self, provider: ProviderId) -> LineResult<Vec<RemoteParty>> {
        let mut state = self.shared.lock();
        let parties = state.call_now(&self.shared.inbox, provider, |p| p.far_end())?;
        let decoded: Result<Vec<_>, _> = parties.iter().map(|p| p.decode()).collect();
        decoded.map_err(|garbage| {
            state.fault(provider, format!("far-end view: {}", garbage.0));
            LineError::OperationFailed
        })
    }

    fn stimulus<T>(
        &self,
        provider: ProviderId,
        f: impl FnOnce(
            &mut cleardown_contract::abi::ProviderBox,
        ) -> cleardown_contract::abi::ProviderResult<T>,
    ) -> LineResult<T> {
        self.shared.lock().call_now(&self.shared.inbox, provider, f)
    }

    /// Far end: `from` offers a call at `address`; apps with the line open
    /// get handles to it.
    pub fn remote_offer(
        &self,
        provider: ProviderId,
        address: AddressId,
        from: &str,
        uui: &[u8],
    ) -> LineResult<CallId> {
        self.stimulus(provider, |p| {
            p.remote_offer(address, from.into(), uui.into())
        })
    }

    /// Far end: the called party of outbound `call` is alerted.
    pub fn remote_alert(&self, provider: ProviderId, call: CallId) -> LineResult<()> {
        self.stimulus(provider, |p| p.remote_alert(call))
    }

    /// Far end: the called party of outbound `call` answers.
    pub fn remote_answer(&self, provider: ProviderId, call: CallId) -> LineResult<()> {
        self.stimulus(provider, |p| p.remote_answer(call))
    }

    /// Far end: the party of `call` hangs up with a Q.850 cause and UUI.
    pub fn remote_hang_up(
        &self,
        provider: ProviderId,
        call: CallId,
        cause: u32,
        uui: &[u8],
    ) -> LineResult<()> {
        self.stimulus(provider, |p| p.remote_hang_up(call, cause, uui.into()))
    }

    /// Lets `millis` milliseconds of `provider`'s simulated time pass.
    pub fn advance_time(&self, provider: ProviderId, millis: u64) -> LineResult<()> {
        self.stimulus(provider, |p| p.advance_time(millis))
    }

    /// Far end: the station at `address` goes off-hook or on-hook (§6).
    pub fn station_hook(
        &self,
        provider: ProviderId,
        address: AddressId,
        off_hook: bool,
    ) -> LineResult<()> {
        self.stimulus(provider, |p| p.station_hook(address, off_hook))
    }
}

/// One app of a [`Host`]. Cheap to clone; clones are the same app.
#[derive(Clone)]
pub struct App {
    shared: Arc<Shared>,
    id: AppId,
}

impl std::fmt::Debug for App {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("App").field("id", &self.id).finish()
    }
}

impl App {
    /// This app's id.
    pub fn id(&self) -> AppId {
        self.id
    }

    fn with<T>(&self, f: impl FnOnce(&mut HostState, &Inbox) -> LineResult<T>) -> LineResult<T> {
        let mut state = self.shared.lock();
        f(&mut state, &self.shared.inbox)
    }

    /// Opens `address` of `provider` with `privilege`: the app gets a handle
    /// to every call that appears there from now on (`lineOpen`).
    pub fn open_line(
        &self,
        provider: ProviderId,
        address: AddressId,
        privilege: Privilege,
    ) -> LineResult<()> {
        self.with(|state, inbox| {
            if state
                .slot(provider)?
                .info
                .capabilities
                .address(address)
                .is_none()
            {
                return Err(LineError::InvalPointer);
            }
            let key = (provider, address);
            if state.apps[self.id.0 as usize].lines.contains_key(&key) {
                return Err(LineError::ResourceUnavail);
            }
            if !state.providers[provider.0 as usize]
                .open_lines
                .contains_key(&address)
            {
                state.call_now(inbox, provider, |p| p.open_line(address))?;
            }
            *state.providers[provider.0 as usize]
                .open_lines
                .entry(address)
                .or_insert(0) += 1;
            state.apps[self.id.0 as usize].lines.insert(key, privilege);
            Ok(())
        })
    }

    /// Closes `address` (`lineClose`, SPEC B5): the app's ownership of its
    /// calls there is revoked; with `close_drop`, the calls it solely owned
    /// are dropped; without it they stay up and are reported.
    pub fn close_line(&self, provider: ProviderId, address: AddressId) -> LineResult<LineClosed> {
        self.with(|state, inbox| {
            let key = (provider, address);
            if !state.apps[self.id.0 as usize].lines.contains_key(&key) {
                return Err(LineError::Uninitialized);
            }
            state.pump(inbox);
            let close_drop = state.slot(provider)?.info.capabilities.close_drop;
            let mut closed = LineClosed::default();
            for handle in state.handles_on(self.id, provider, address) {
                let Ok(entry) = state.owned(self.id, handle) else {
                    continue;
                };
                state.set_privilege(&entry, handle, Privilege::Monitor);
                let sole_owner = !state.has_owner(&entry);
                let status = state.status(&entry);
                if !sole_owner || status.is_idle() {
                    continue;
                }
                let dropped = close_drop
                    && state
                        .drop_call(inbox, None, entry, DisconnectCode::Normal, &[])
                        .is_ok();
                if dropped {
                    closed.dropped.push(handle);
                } else if !matches!(status, CallStatus::Disconnected { .. }) {
                    closed.still_active.push(handle);
                }
            }
            state.apps[self.id.0 as usize].lines.remove(&key);
            let slot = &mut state.providers[provider.0 as usize];
            let remaining = slot.open_lines.get_mut(&address).map(|n| {
                *n -= 1;
                *n
            });
            if remaining == Some(0) {
                slot.open_lines.remove(&address);
                // The line is closed for the app whatever the provider says.
                let _ = state.call_now(inbox, provider, |p| p.close_line(address));
            }
            Ok(closed)
        })
    }

    fn owned_request<T>(
        &self,
        handle: CallHandle,
        f: impl FnOnce(
            &mut cleardown_contract::abi::ProviderBox,
            RequestId,
            CallId,
        ) -> cleardown_contract::abi::ProviderResult<T>,
    ) -> LineResult<(RequestId, T, state::HandleEntry)> {
        self.with(|state, inbox| {
            let entry = state.owned(self.id, handle)?;
            let (request, value) =
                state.request(inbox, Some(self.id), entry.provider, |p, r| {
                    f(p, r, entry.call)
                })?;
            Ok((request, value, entry))
        })
    }

    /// A handle for a call the provider created for this app's request.
    fn created(
        &self,
        provider: ProviderId,
        call: CallId,
        address: AddressId,
    ) -> LineResult<CallHandle> {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state.ensure_call(provider, call, address, Some(self.id));
        // ensure_call always gives the creating app a handle.
        state
            .handle_of(self.id, provider, call)
            .ok_or(LineError::OperationFailed)
    }

    /// Places a call from `address` (`lineMakeCall`); the handle is valid at once.
    pub fn make_call(
        &self,
        provider: ProviderId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<(RequestId, CallHandle)> {
        let (request, call) = self.with(|state, inbox| {
            if !state.apps[self.id.0 as usize]
                .lines
                .contains_key(&(provider, address))
            {
                return Err(LineError::Uninitialized);
            }
            state.request(inbox, Some(self.id), provider, |p, r| {
                p.make_call(r, address, destination.into())
            })
        })?;
        Ok((request, self.created(provider, call, address)?))
    }

    /// Answers an offered call (`lineAnswer`).
    pub fn answer(&self, handle: CallHandle) -> LineResult<RequestId> {
        self.owned_request(handle, |p, r, c| p.answer(r, c))
            .map(|(r, (), _)| r)
    }

    /// Accepts an offered call (`lineAccept`).
    pub fn accept(&self, handle: CallHandle) -> LineResult<RequestId> {
        self.owned_request(handle, |p, r, c| p.accept(r, c))
            .map(|(r, (), _)| r)
    }

    /// Puts a call on hold (`lineHold`).
    pub fn hold(&self, handle: CallHandle) -> LineResult<RequestId> {
        self.owned_request(handle, |p, r, c| p.hold(r, c))
            .map(|(r, (), _)| r)
    }

    /// Takes a call off hold (`lineUnhold`).
    pub fn unhold(&self, handle: CallHandle) -> LineResult<RequestId> {
        self.owned_request(handle, |p, r, c| p.unhold(r, c))
            .map(|(r, (), _)| r)
    }

    /// Holds `handle` pending a conference and places a consultation call
    /// (`lineSetupConference`); returns the consultation call's handle.
    pub fn setup_conference(
        &self,
        handle: CallHandle,
        destination: &str,
    ) -> LineResult<(RequestId, CallHandle)> {
        let (request, consult, entry) = self.owned_request(handle, |p, r, c| {
            p.setup_conference(r, c, destination.into())
        })?;
        let address = self.address_of(entry)?;
        Ok((request, self.created(entry.provider, consult, address)?))
    }

    /// Holds `handle` pending a transfer and places a consultation call
    /// (`lineSetupTransfer`); returns the consultation call's handle.
    pub fn setup_transfer(
        &self,
        handle: CallHandle,
        destination: &str,
    ) -> LineResult<(RequestId, CallHandle)> {
        let (request, consult, entry) =
            self.owned_request(handle, |p, r, c| p.setup_transfer(r, c, destination.into()))?;
        let address = self.address_of(entry)?;
        Ok((request, self.created(entry.provider, consult, address)?))
    }

    fn address_of(&self, entry: state::HandleEntry) -> LineResult<AddressId> {
        self.shared
            .lock()
            .address(&entry)
            .ok_or(LineError::InvalCallHandle)
    }

    fn owned_pair(&self, handle: CallHandle, other: CallHandle) -> LineResult<CallId> {
        let state = self.shared.lock();
        let first = state.owned(self.id, handle)?;
        let second = state.owned(self.id, other)?;
        if first.provider != second.provider {
            return Err(LineError::InvalCallHandle);
        }
        Ok(second.call)
    }

    /// Adds `consult` to the conference `handle` (`lineAddToConference`); if
    /// `handle` is a plain call, a conference is created. Returns the
    /// conference parent's handle.
    pub fn add_to_conference(
        &self,
        handle: CallHandle,
        consult: CallHandle,
    ) -> LineResult<(RequestId, CallHandle)> {
        let other = self.owned_pair(handle, consult)?;
        let (request, parent, entry) =
            self.owned_request(handle, |p, r, c| p.add_to_conference(r, c, other))?;
        let address = self.address_of(entry)?;
        Ok((request, self.created(entry.provider, parent, address)?))
    }

    /// Completes a transfer set up on `handle` to `consult` (`lineCompleteTransfer`).
    pub fn complete_transfer(
        &self,
        handle: CallHandle,
        consult: CallHandle,
    ) -> LineResult<RequestId> {
        let other = self.owned_pair(handle, consult)?;
        self.owned_request(handle, |p, r, c| p.complete_transfer(r, c, other))
            .map(|(r, (), _)| r)
    }

    /// Drops a call (`lineDrop`, SPEC §2), sending `uui` to the far end if the
    /// provider supports it (§4). The host checks Owner (D1) and not Idle
    /// (D2); the provider refuses oversize UUI (U2, U4) and, without
    /// `reject_by_drop`, an offered call (R2). Returns the request id; the
    /// Reply follows the state events (D3, D4).
    pub fn drop(&self, handle: CallHandle, uui: &[u8]) -> LineResult<RequestId> {
        self.with(|state, inbox| {
            let entry = state.owned(self.id, handle)?;
            state.drop_call(inbox, Some(self.id), entry, DisconnectCode::Normal, uui)
        })
    }

    /// TAPI 3 `Disconnect(code)` (SPEC R3): a drop with a disconnect code,
    /// carrying `uui` exactly as a drop does (TAPI 3 sets it in the call's
    /// user-user buffer first; U2-U4 apply: a busy rejection's UUI reaches
    /// the caller with the busy cause). On an Idle call it reports
    /// [`Disconnected::AlreadyIdle`].
    pub fn disconnect(
        &self,
        handle: CallHandle,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<Disconnected> {
        self.with(|state, inbox| {
            let entry = state.owned(self.id, handle)?;
            state.pump(inbox);
            if state.status(&entry).is_idle() {
                return Ok(Disconnected::AlreadyIdle);
            }
            state
                .drop_call(inbox, Some(self.id), entry, code, uui)
                .map(Disconnected::Requested)
        })
    }

    /// Frees a handle (`lineDeallocateCall`, SPEC T1–T4). Allowed in any
    /// state and privilege; the call's state is unchanged unless this was the
    /// last handle to a live call, which the provider then drops (T3).
    /// Pending requests still get their Reply (T4).
    pub fn deallocate(&self, handle: CallHandle) -> LineResult<()> {
        self.with(|state, inbox| state.deallocate(inbox, self.id, handle))
    }

    /// The address (line) of the call behind the app's handle, as the
    /// provider announced it with the call: the host's record, so asking
    /// costs no call into the provider.
    pub fn address(&self, handle: CallHandle) -> LineResult<AddressId> {
        self.with(|state, _| {
            let entry = state.entry(self.id, handle)?;
            state.address(&entry).ok_or(LineError::InvalCallHandle)
        })
    }

    /// The app's handle's privilege.
    pub fn privilege(&self, handle: CallHandle) -> LineResult<Privilege> {
        self.with(|state, _| state.entry(self.id, handle).map(|e| e.privilege))
    }

    /// Call info (`lineGetCallInfo`, SPEC Q1): valid after drop and after
    /// Idle, until the handle is deallocated.
    pub fn call_info(&self, handle: CallHandle) -> LineResult<CallInfo<Option<CallHandle>>> {
        self.with(|state, inbox| {
            let entry = state.entry(self.id, handle)?;
            state.call_info(inbox, entry)
        })
    }

    /// The app's handle to a provider's call, if it holds one.
    pub fn handle_of(&self, provider: ProviderId, call: CallId) -> Option<CallHandle> {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state.handle_of(self.id, provider, call)
    }

    /// Every event queued for this app, oldest first.
    pub fn events(&self) -> Vec<Event> {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state.take_events(self.id)
    }

    /// The next event, waiting up to `timeout` for providers that report
    /// from their own threads.
    pub fn next_event(&self, timeout: Duration) -> Option<Event> {
        let deadline = Instant::now() + timeout;
        loop {
            // Read before looking, so that anything arriving or routed after
            // the look moves the generation and ends the wait at once.
            let seen = self.shared.inbox.generation();
            {
                let mut state = self.shared.lock();
                state.pump(&self.shared.inbox);
                if let Some(event) = state.next_event(self.id) {
                    return Some(event);
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            self.shared.inbox.wait_past(seen, left);
        }
    }

    /// This app's handles to Idle calls not yet deallocated (SPEC T5).
    pub fn leaks(&self) -> Vec<CallHandle> {
        let mut state = self.shared.lock();
        state.pump(&self.shared.inbox);
        state
            .leaked()
            .into_iter()
            .filter(|(app, _)| *app == self.id)
            .map(|(_, handle)| handle)
            .collect()
    }
}
