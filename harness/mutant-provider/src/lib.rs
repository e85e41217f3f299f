//! Deliberately broken variants of a provider (normally pbx-sim), for the
//! conformance suite's mutation proof: each variant breaks one SPEC rule the
//! way a real provider might, and the suite must notice.
//!
//! This is an ABI-level decorator, not a Rust wrapper: it never links
//! pbx-sim (whose rlib exports the same `#[no_mangle]` symbols). Its root
//! module's `open` loads the *inner* provider library by path, opens it with
//! a sink of its own wrapped around the host's, and hands the host a
//! provider that forwards every method to the inner one, with the mutant's
//! change applied. Every method of the decorator and of its sink runs inside
//! one panic guard (`guard`), as the SDK's do.
//!
//! # Configuration
//!
//! `;`-separated `key=value` pairs. `mutant=NAME` and `inner=PATH` (the inner
//! provider library, e.g. `target/debug/libpbx_sim.so`) are required and
//! consumed; every other pair is handed on, in order, as the inner
//! provider's configuration. For example
//! `mutant=truncate_uui;inner=target/debug/libpbx_sim.so;uui=16`.
//!
//! # Mutants
//!
//! - `none`: pure pass-through, the control: behaves exactly like the inner
//!   provider.
//! - `skip_child_event` (SPEC C1, D4): while a `drop_call` is forwarded, the
//!   first `Idle` state report is swallowed. In a conference cascade pbx-sim
//!   reports the parties Idle first, then the parent, so one party's event
//!   is lost (on a plain drop, the dropped call's own).
//! - `truncate_uui` (SPEC U2): `info` declares the inner capabilities, but a
//!   drop with UUI longer than the declared `uui_drop_size` is forwarded with
//!   the UUI cut to that size instead of failing with `UserUserInfoTooBig`.
//!   Use it with inner configuration `uui=16`.
//! - `reject_undeclared` (SPEC R2): `info` declares `reject_by_drop = false`
//!   while the inner provider (with reject by drop on, pbx-sim's default)
//!   still rejects: dropping an Offering call succeeds instead of failing
//!   with `OperationUnavail`.
//! - `no_reply` (SPEC D3): the completion of every `drop_call` request is
//!   swallowed; the host never gets the Reply. Other requests complete.
//! - `idle_on_hang_up` (SPEC S3): while `remote_hang_up` is forwarded, a
//!   `Disconnected` state report is rewritten to `Idle` (mode 0), so the
//!   call skips Disconnected and its owner can no longer drop it.
//! - `leak_handle` (SPEC T5): after a successful `drop_call`, a brand-new
//!   call (a "ghost", ids from 2^40 up, so never one of the inner's) is
//!   reported on the dropped call's address with no request, then reported
//!   Idle: every app with that line open holds an Idle handle it never asked
//!   for. `call_info` of a ghost answers Idle at that address, `close_call`
//!   forgets it.
//! - `panic_mid_drop` (SPEC X2): `drop_call` forwards to the inner provider
//!   (which drops the call and reports it) and then panics; the guard returns
//!   what the SDK returns for a panic (`OperationFailed` with the panic
//!   message), so the host faults the provider.
//!
//! A configuration error (no `mutant`, an unknown one, no `inner`, an inner
//! library that does not load, an inner configuration the inner provider
//! refuses) makes `open` fail with a sentence saying what was expected.
//!
//! Test-only: not bundled, never loaded by the `cleardown` command unless
//! named by path.

use std::{
    collections::{HashMap, HashSet},
    panic::{AssertUnwindSafe, catch_unwind},
    path::{Path, PathBuf},
    sync::{
        Arc, Mutex, MutexGuard, PoisonError,
        atomic::{AtomicBool, Ordering},
    },
};

use abi_stable::{
    library::lib_header_from_path,
    prefix_type::PrefixTypeTrait,
    sabi_trait::TD_Opaque,
    std_types::{RArc, ROption, RResult, RSlice, RStr, RString, RVec},
};
use cleardown_contract::{
    AddressId, CallId, CallState, ContractVersion, LineError, RequestId,
    abi::{
        EventSink, EventSink_TO, EventSinkBox, FfiCallInfo, FfiProvider, FfiProvider_TO,
        FfiProviderInfo, FfiRemoteParty, ProviderBox, ProviderError, ProviderModule,
        ProviderModule_Ref, ProviderResult,
    },
};

cleardown_sdk::export_contract_stamp!();

/// The abi_stable root module of the mutant provider.
#[abi_stable::export_root_module]
pub fn cleardown_root_module() -> ProviderModule_Ref {
    ProviderModule { open }.leak_into_prefix()
}

/// Which rule the decorator breaks (see the crate documentation).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Mutant {
    /// Pass-through: the control.
    None,
    /// Loses the first Idle report of a drop (C1, D4).
    SkipChildEvent,
    /// Truncates oversize UUI instead of refusing it (U2).
    TruncateUui,
    /// Rejects by drop without declaring it (R2).
    RejectUndeclared,
    /// Never completes a drop request (D3).
    NoReply,
    /// Reports a remote hang-up as Idle (S3).
    IdleOnHangUp,
    /// Leaves an Idle handle behind after a drop (T5).
    LeakHandle,
    /// Panics after forwarding a drop (X2).
    PanicMidDrop,
}

impl Mutant {
    /// Every mutant, in documentation order.
    pub const ALL: &'static [Mutant] = &[
        Mutant::None,
        Mutant::SkipChildEvent,
        Mutant::TruncateUui,
        Mutant::RejectUndeclared,
        Mutant::NoReply,
        Mutant::IdleOnHangUp,
        Mutant::LeakHandle,
        Mutant::PanicMidDrop,
    ];

    /// The value of `mutant=` that selects it.
    pub const fn name(self) -> &'static str {
        match self {
            Mutant::None => "none",
            Mutant::SkipChildEvent => "skip_child_event",
            Mutant::TruncateUui => "truncate_uui",
            Mutant::RejectUndeclared => "reject_undeclared",
            Mutant::NoReply => "no_reply",
            Mutant::IdleOnHangUp => "idle_on_hang_up",
            Mutant::LeakHandle => "leak_handle",
            Mutant::PanicMidDrop => "panic_mid_drop",
        }
    }

    /// The mutant `mutant=name` selects.
    pub fn from_name(name: &str) -> Option<Mutant> {
        Mutant::ALL.iter().copied().find(|m| m.name() == name)
    }
}

/// What the decorator's configuration string says.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Config {
    mutant: Mutant,
    inner: PathBuf,
    /// Every pair that is not ours, in order, joined by `;`.
    inner_config: String,
}

fn mutant_names() -> String {
    Mutant::ALL
        .iter()
        .map(|m| m.name())
        .collect::<Vec<_>>()
        .join(", ")
}

impl Config {
    fn parse(text: &str) -> Result<Config, String> {
        let mut mutant = None;
        let mut inner = None;
        let mut passed_on = Vec::new();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let (key, value) = pair
                .split_once('=')
                .map_or((pair, ""), |(k, v)| (k.trim(), v.trim()));
            let slot = match key {
                "mutant" => &mut mutant,
                "inner" => &mut inner,
                _ => {
                    passed_on.push(pair);
                    continue;
                }
            };
            if slot.replace(value).is_some() {
                return Err(format!(
                    "duplicate key `{key}` in mutant-provider configuration; give it once"
                ));
            }
        }
        let mutant = match mutant {
            None => {
                return Err(format!(
                    "mutant-provider configuration has no `mutant=NAME`; expected one of {}",
                    mutant_names()
                ));
            }
            Some(name) => Mutant::from_name(name).ok_or_else(|| {
                format!(
                    "unknown mutant `{name}` in mutant-provider configuration; expected one of {}",
                    mutant_names()
                )
            })?,
        };
        let inner = match inner {
            Some(path) if !path.is_empty() => PathBuf::from(path),
            _ => {
                return Err(
                    "mutant-provider configuration has no `inner=PATH`; expected the \
                     path of the inner provider library, e.g. target/debug/libpbx_sim.so"
                        .to_owned(),
                );
            }
        };
        Ok(Config {
            mutant,
            inner,
            inner_config: passed_on.join(";"),
        })
    }
}

/// What a panic turns into where it is caught: the same shapes the SDK uses.
trait OnPanic {
    fn on_panic(message: String) -> Self;
}

/// A sink method: the report is lost, the host is unharmed.
impl OnPanic for () {
    fn on_panic(_: String) {}
}

/// A provider method: `OperationFailed` with the message, which faults the
/// provider in the host (SPEC X2), exactly as the SDK's guard does.
impl<T> OnPanic for ProviderResult<T> {
    fn on_panic(message: String) -> Self {
        RResult::RErr(ProviderError {
            code: LineError::OperationFailed.code(),
            panic: ROption::RSome(message.into()),
        })
    }
}

/// `open`: a sentence, as for a configuration the provider refuses.
impl<T> OnPanic for RResult<T, RString> {
    fn on_panic(message: String) -> Self {
        RResult::RErr(format!("mutant-provider panicked while opening: {message}").into())
    }
}

/// The one panic guard: runs `f`, turning a panic into `R`'s panic answer. A
/// panic must never unwind out of a `#[sabi_trait]` method (the process
/// would abort), so every method of the decorator and its sink goes through
/// here.
fn guard<R: OnPanic>(f: impl FnOnce() -> R) -> R {
    catch_unwind(AssertUnwindSafe(f)).unwrap_or_else(|payload| {
        let message = if let Some(text) = payload.downcast_ref::<&str>() {
            (*text).to_owned()
        } else if let Some(text) = payload.downcast_ref::<String>() {
            text.clone()
        } else {
            "provider panicked with a non-string payload".to_owned()
        };
        R::on_panic(message)
    })
}

/// State the decorator and its sink share: the sink is called by the inner
/// provider from inside the decorator's forwarded calls.
#[derive(Debug)]
struct Tap {
    mutant: Mutant,
    /// `skip_child_event`: the next Idle report is swallowed.
    skip_next_idle: AtomicBool,
    /// `idle_on_hang_up`: a `remote_hang_up` is being forwarded.
    hanging_up: AtomicBool,
    /// `no_reply`: drop requests whose completion is swallowed.
    drop_requests: Mutex<HashSet<RequestId>>,
}

impl Tap {
    fn drop_requests(&self) -> MutexGuard<'_, HashSet<RequestId>> {
        self.drop_requests
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Runs `f` with `flag` set.
fn while_set<T>(flag: &AtomicBool, f: impl FnOnce() -> T) -> T {
    flag.store(true, Ordering::SeqCst);
    let outcome = f();
    flag.store(false, Ordering::SeqCst);
    outcome
}

const IDLE: u32 = CallState::Idle.code();
const DISCONNECTED: u32 = CallState::Disconnected.code();

/// The sink the inner provider reports to: filters or rewrites reports per
/// mutant, then passes them to the host's sink.
#[derive(Clone)]
struct MutantSink {
    host: EventSinkBox,
    tap: Arc<Tap>,
}

impl EventSink for MutantSink {
    fn new_call(&self, call: CallId, address: AddressId, request: RequestId) {
        guard(|| self.host.new_call(call, address, request));
    }

    fn call_state(&self, call: CallId, state: u32, mode: u32, parent: CallId) {
        guard(|| {
            let tap = &self.tap;
            let (state, mode) = match tap.mutant {
                Mutant::SkipChildEvent
                    if state == IDLE && tap.skip_next_idle.swap(false, Ordering::SeqCst) =>
                {
                    return;
                }
                Mutant::IdleOnHangUp
                    if state == DISCONNECTED && tap.hanging_up.load(Ordering::SeqCst) =>
                {
                    (IDLE, 0)
                }
                _ => (state, mode),
            };
            self.host.call_state(call, state, mode, parent);
        });
    }

    fn complete(&self, request: RequestId, result: u32) {
        guard(|| {
            if self.tap.mutant == Mutant::NoReply && self.tap.drop_requests().remove(&request) {
                return;
            }
            self.host.complete(request, result);
        });
    }
}

/// Where ghost call ids start (`leak_handle`): far above any id pbx-sim
/// hands out, so they never clash with the inner provider's.
const GHOST_BASE: u64 = 1 << 40;

/// The decorator the host drives.
struct Mutated {
    inner: ProviderBox,
    tap: Arc<Tap>,
    /// The host's own sink, for reports the decorator makes up itself.
    host: EventSinkBox,
    /// `leak_handle`: the ghost calls reported so far, with their address.
    ghosts: HashMap<CallId, AddressId>,
    next_ghost: u64,
}

impl Mutated {
    /// `leak_handle`: reports a ghost call on `dropped`'s address, then Idle.
    fn leak_ghost(&mut self, dropped: CallId) {
        let RResult::ROk(info) = self.inner.call_info(dropped) else {
            return;
        };
        let ghost = CallId(GHOST_BASE + self.next_ghost);
        self.next_ghost += 1;
        self.ghosts.insert(ghost, info.address);
        // Request 0: no request created it (what the SDK's Reporter sends
        // for `None`), so every app with the line open gets a handle.
        self.host.new_call(ghost, info.address, RequestId(0));
        self.host.call_state(ghost, IDLE, 0, CallId(0));
    }
}

fn ghost_info(address: AddressId) -> FfiCallInfo {
    FfiCallInfo {
        address,
        state: IDLE,
        mode: 0,
        parent: CallId(0),
        related: RVec::new(),
        remote: RString::new(),
        disconnect_mode: 0,
        uui_received: RVec::new(),
        uui_sent: RVec::new(),
    }
}

impl FfiProvider for Mutated {
    fn info(&self) -> ProviderResult<FfiProviderInfo> {
        guard(|| {
            self.inner.info().map(|mut info| {
                if self.tap.mutant == Mutant::RejectUndeclared {
                    info.reject_by_drop = false;
                }
                info
            })
        })
    }

    fn open_line(&mut self, address: AddressId) -> ProviderResult<()> {
        guard(|| self.inner.open_line(address))
    }

    fn close_line(&mut self, address: AddressId) -> ProviderResult<()> {
        guard(|| self.inner.close_line(address))
    }

    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.make_call(request, address, destination))
    }

    fn answer(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.answer(request, call))
    }

    fn accept(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.accept(request, call))
    }

    fn hold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.hold(request, call))
    }

    fn unhold(&mut self, request: RequestId, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.unhold(request, call))
    }

    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.setup_conference(request, call, destination))
    }

    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.add_to_conference(request, call, consult))
    }

    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: RStr<'_>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.setup_transfer(request, call, destination))
    }

    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> ProviderResult<()> {
        guard(|| self.inner.complete_transfer(request, call, consult))
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        guard(|| match self.tap.mutant {
            Mutant::SkipChildEvent => while_set(&self.tap.skip_next_idle, || {
                self.inner.drop_call(request, call, code, uui)
            }),
            Mutant::TruncateUui => {
                let size = match self.inner.info() {
                    RResult::ROk(info) => info.uui_drop_size as usize,
                    RResult::RErr(error) => return RResult::RErr(error),
                };
                let cut = &uui.as_slice()[..uui.len().min(size)];
                self.inner.drop_call(request, call, code, cut.into())
            }
            Mutant::NoReply => {
                self.tap.drop_requests().insert(request);
                let outcome = self.inner.drop_call(request, call, code, uui);
                if outcome.is_err() {
                    // Refused synchronously: there is no completion to lose.
                    self.tap.drop_requests().remove(&request);
                }
                outcome
            }
            Mutant::LeakHandle => {
                let outcome = self.inner.drop_call(request, call, code, uui);
                if outcome.is_ok() {
                    self.leak_ghost(call);
                }
                outcome
            }
            Mutant::PanicMidDrop => {
                let outcome = self.inner.drop_call(request, call, code, uui);
                panic!(
                    "mutant panic_mid_drop: panicking after the inner provider answered {} \
                     to dropping {call}",
                    if outcome.is_ok() { "Ok" } else { "Err" }
                );
            }
            Mutant::None | Mutant::RejectUndeclared | Mutant::IdleOnHangUp => {
                self.inner.drop_call(request, call, code, uui)
            }
        })
    }

    fn close_call(&mut self, call: CallId) -> ProviderResult<()> {
        guard(|| match self.ghosts.remove(&call) {
            Some(_) => RResult::ROk(()),
            None => self.inner.close_call(call),
        })
    }

    fn call_info(&self, call: CallId) -> ProviderResult<FfiCallInfo> {
        guard(|| match self.ghosts.get(&call) {
            Some(&address) => RResult::ROk(ghost_info(address)),
            None => self.inner.call_info(call),
        })
    }

    fn far_end(&self) -> ProviderResult<RVec<FfiRemoteParty>> {
        guard(|| self.inner.far_end())
    }

    fn remote_offer(
        &mut self,
        address: AddressId,
        from: RStr<'_>,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<CallId> {
        guard(|| self.inner.remote_offer(address, from, uui))
    }

    fn remote_alert(&mut self, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.remote_alert(call))
    }

    fn remote_answer(&mut self, call: CallId) -> ProviderResult<()> {
        guard(|| self.inner.remote_answer(call))
    }

    fn remote_hang_up(
        &mut self,
        call: CallId,
        cause: u32,
        uui: RSlice<'_, u8>,
    ) -> ProviderResult<()> {
        guard(|| match self.tap.mutant {
            Mutant::IdleOnHangUp => while_set(&self.tap.hanging_up, || {
                self.inner.remote_hang_up(call, cause, uui)
            }),
            _ => self.inner.remote_hang_up(call, cause, uui),
        })
    }

    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> ProviderResult<()> {
        guard(|| self.inner.station_hook(address, off_hook))
    }

    fn advance_time(&mut self, millis: u64) -> ProviderResult<()> {
        guard(|| self.inner.advance_time(millis))
    }

    fn call_features(&self, address: AddressId) -> ProviderResult<u32> {
        guard(|| self.inner.call_features(address))
    }
}

/// Loads the inner provider's root module. Through the library header per
/// path, as the host does: `RootModule::load_from*` caches one library per
/// root-module type, and the host has usually loaded a provider already.
fn load_inner(path: &Path) -> Result<ProviderModule_Ref, String> {
    lib_header_from_path(path)
        .and_then(|header| header.init_root_module::<ProviderModule_Ref>())
        .map_err(|error| {
            format!(
                "cannot load the inner provider `inner={}`: {error}",
                path.display()
            )
        })
}

fn open_mutant(
    config: &str,
    host: ContractVersion,
    sink: EventSinkBox,
) -> Result<ProviderBox, String> {
    let config = Config::parse(config)?;
    let module = load_inner(&config.inner)?;
    let tap = Arc::new(Tap {
        mutant: config.mutant,
        skip_next_idle: AtomicBool::new(false),
        hanging_up: AtomicBool::new(false),
        drop_requests: Mutex::new(HashSet::new()),
    });
    let wrapped = EventSink_TO::from_ptr(
        RArc::new(MutantSink {
            host: sink.clone(),
            tap: tap.clone(),
        }),
        TD_Opaque,
    );
    let inner = match (module.open())(config.inner_config.as_str().into(), host, wrapped) {
        RResult::ROk(inner) => inner,
        RResult::RErr(reason) => {
            return Err(format!(
                "the inner provider `{}` refused its configuration {:?}: {reason}",
                config.inner.display(),
                config.inner_config
            ));
        }
    };
    Ok(FfiProvider_TO::from_value(
        Mutated {
            inner,
            tap,
            host: sink,
            ghosts: HashMap::new(),
            next_ghost: 0,
        },
        TD_Opaque,
    ))
}

extern "C" fn open(
    config: RStr<'_>,
    host: ContractVersion,
    sink: EventSinkBox,
) -> RResult<ProviderBox, RString> {
    guard(|| {
        open_mutant(config.as_str(), host, sink)
            .map_err(RString::from)
            .into()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_splits_ours_from_the_inner_providers() {
        let config =
            Config::parse(" mutant=truncate_uui ; uui=16;inner=/x/libpbx_sim.so;conf_drop=off;")
                .expect("parses");
        assert_eq!(
            config,
            Config {
                mutant: Mutant::TruncateUui,
                inner: PathBuf::from("/x/libpbx_sim.so"),
                inner_config: "uui=16;conf_drop=off".to_owned(),
            }
        );
        for mutant in Mutant::ALL {
            assert_eq!(Mutant::from_name(mutant.name()), Some(*mutant));
        }
    }

    #[test]
    fn config_errors_say_what_was_expected() {
        let error = |text: &str| Config::parse(text).expect_err(text);
        assert!(error("inner=/x.so").contains("no `mutant=NAME`"));
        assert!(error("mutant=frob;inner=/x.so").contains("unknown mutant `frob`"));
        assert!(error("mutant=none").contains("no `inner=PATH`"));
        assert!(error("mutant=none;inner=").contains("no `inner=PATH`"));
        assert!(error("mutant=none;mutant=none;inner=/x.so").contains("duplicate key `mutant`"));
    }

    #[test]
    fn the_guard_turns_a_panic_into_the_sdks_error_shape() {
        let outcome: ProviderResult<()> = guard(|| panic!("boom"));
        assert_eq!(
            outcome,
            RResult::RErr(ProviderError {
                code: LineError::OperationFailed.code(),
                panic: ROption::RSome("boom".into()),
            })
        );
        guard::<()>(|| panic!("a lost report"));
    }
}
