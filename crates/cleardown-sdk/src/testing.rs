//! Drive a provider without a host: a [`Reporter`] that records what the
//! provider reports, for a provider's own unit tests. Conformance is checked
//! through the host and the loaded plugin; this is for white-box tests.

use std::sync::{Arc, Mutex, PoisonError};

use abi_stable::{sabi_trait::TD_Opaque, std_types::RArc};
use cleardown_contract::abi::{EventSink, EventSink_TO, EventSinkBox, decode_status};

use crate::{AddressId, CONTRACT_VERSION, CallId, CallStatus, LineError, Reporter, RequestId};

/// One thing a provider reported, decoded.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// [`crate::Reporter::new_call`].
    NewCall {
        /// The new call.
        call: CallId,
        /// Its address.
        address: AddressId,
        /// The request that created it; `None` for an offered call.
        request: Option<RequestId>,
    },
    /// [`crate::Reporter::state`].
    State {
        /// The call.
        call: CallId,
        /// Its new state.
        status: CallStatus<CallId>,
    },
    /// [`crate::Reporter::complete`].
    Complete {
        /// The completed request.
        request: RequestId,
        /// Its result.
        result: Result<(), LineError>,
    },
    /// A report whose codes the contract does not define.
    Garbage(String),
}

/// One line per report, the way provider unit tests compare them:
/// `new call#1 at 0`, `new call#2 at 0 by request#3`, `state call#1 Idle`,
/// `complete request#3 Ok`, `complete request#3 OperationUnavail`.
impl std::fmt::Display for Reported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reported::NewCall {
                call,
                address,
                request,
            } => {
                write!(f, "new {call} at {}", address.0)?;
                match request {
                    Some(request) => write!(f, " by {request}"),
                    None => Ok(()),
                }
            }
            Reported::State { call, status } => write!(f, "state {call} {status}"),
            Reported::Complete {
                request,
                result: Ok(()),
            } => write!(f, "complete {request} Ok"),
            Reported::Complete {
                request,
                result: Err(error),
            } => write!(f, "complete {request} {error}"),
            Reported::Garbage(garbage) => write!(f, "garbage {garbage}"),
        }
    }
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Reported>>>);

impl Recorder {
    fn push(&self, event: Reported) {
        self.0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(event);
    }
}

impl EventSink for Recorder {
    fn new_call(&self, call: CallId, address: AddressId, request: RequestId) {
        let request = (request.0 != 0).then_some(request);
        self.push(Reported::NewCall {
            call,
            address,
            request,
        });
    }
    fn call_state(&self, call: CallId, state: u32, mode: u32, parent: CallId) {
        self.push(match decode_status(state, mode, parent) {
            Ok(status) => Reported::State { call, status },
            Err(garbage) => Reported::Garbage(garbage.0),
        });
    }
    fn complete(&self, request: RequestId, result: u32) {
        self.push(match result {
            0 => Reported::Complete {
                request,
                result: Ok(()),
            },
            code => match LineError::from_code(code) {
                Some(error) => Reported::Complete {
                    request,
                    result: Err(error),
                },
                None => Reported::Garbage(format!("completion code {code:#x}")),
            },
        });
    }
}

/// A reporter and the log of everything reported through it.
#[derive(Clone)]
pub struct Recording {
    log: Recorder,
    reporter: Reporter,
}

impl std::fmt::Debug for Recording {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recording")
            .field("log", &self.snapshot())
            .finish()
    }
}

impl Default for Recording {
    fn default() -> Self {
        let log = Recorder::default();
        let sink = EventSink_TO::from_ptr(RArc::new(log.clone()), TD_Opaque);
        Recording {
            reporter: Reporter::new(sink, CONTRACT_VERSION),
            log,
        }
    }
}

impl Recording {
    /// A new, empty recording.
    pub fn new() -> Self {
        Self::default()
    }

    /// The reporter to hand to [`crate::Provider::open`].
    pub fn reporter(&self) -> Reporter {
        self.reporter.clone()
    }

    /// The host-side sink behind [`Recording::reporter`], to open a provider
    /// the way the host does, through its root module and the SDK's panic
    /// guard: `root_module::<P>().open()(config, CONTRACT_VERSION,
    /// recording.sink())` gives the provider as the host drives it.
    pub fn sink(&self) -> EventSinkBox {
        EventSink_TO::from_ptr(RArc::new(self.log.clone()), TD_Opaque)
    }

    /// Everything reported so far.
    pub fn snapshot(&self) -> Vec<Reported> {
        self.log
            .0
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Everything reported so far, emptying the log.
    pub fn take(&self) -> Vec<Reported> {
        std::mem::take(&mut *self.log.0.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Opens provider `P` with `config`, reporting into a new recording.
    /// For tests: panics with the provider's refusal if it refuses.
    #[track_caller]
    pub fn open<P: crate::Provider>(config: &str) -> (P, Recording) {
        let recording = Recording::new();
        match P::open(config, recording.reporter()) {
            Ok(provider) => (provider, recording),
            Err(reason) => panic!("{config:?} refused: {reason}"),
        }
    }

    /// Asserts that the reports since the last [`Recording::take`] print as
    /// `expected`, one line each (see [`Reported`]'s `Display`), and takes them.
    #[track_caller]
    pub fn assert_reported(&self, expected: &[&str]) {
        let reported: Vec<String> = self.take().iter().map(ToString::to_string).collect();
        assert_eq!(reported, expected);
    }
}
