//! A provider that misbehaves on purpose, so tests can prove the host
//! isolates it (SPEC X2) while serving other providers, or behaves in ways
//! pbx-sim never does (reporting from its own thread).
//!
//! One address, `line-1`. Calls are offered with `remote_offer` and can be
//! answered and dropped. The configuration string picks the fault:
//!
//! - `panic=drop`: `drop_call` panics (after reporting nothing);
//! - `panic=info`: `info` panics (the load fails cleanly);
//! - `panic=open`: opening panics (the load fails cleanly);
//! - `complete=twice`: a drop completes its request twice;
//! - `complete=stray`: a drop completes a request it was never given;
//! - `complete=then-refuse`: a drop reports Idle, completes its request,
//!   then refuses it (returns an error): a request the app never had;
//! - `complete=error`: a drop is accepted, then fails in its Reply (D9);
//! - `report=thread`: a drop completes later, from a thread of its own;
//! - `report=interleaved`: a drop reports Accepted, then a thread of its
//!   own reports Connected while the drop waits for it, then the drop
//!   reports Idle and completes: one provider reporting from two threads
//!   inside one host call, in an order the host must keep (D10);
//! - `report=bad-address`: an offered call is reported on an address the
//!   provider never declared (garbage);
//! - `panic=destroy`: the provider panics when the host drops it;
//! - `abort=drop`: `drop_call` aborts the process (`std::process::abort`);
//! - `segfault=drop`: `drop_call` dies of SIGSEGV (a write through a null
//!   pointer);
//! - `segfault=info`: `info` dies of SIGSEGV, as a corrupt library can
//!   while it is being loaded;
//! - `hang=drop`: `drop_call` never returns;
//! - `open=report-then-fail`: opening reports a call and a completion, then
//!   fails (the reports must reach nobody);
//! - empty: behaves.
//!
//! The abort, segfault and hang faults kill or stall the whole process, which no guard in the
//! process can survive: they are for tests that run the host in a child
//! process.

use std::collections::HashMap;

use cleardown_sdk::{
    AddressCaps, AddressId, CallFeatures, CallId, CallInfo, CallStatus, Capabilities,
    DisconnectCode, LineError, LineResult, Provider, ProviderInfo, RemoteParty, Reporter,
    RequestId, Sharing,
};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Fault {
    None,
    PanicDrop,
    PanicInfo,
    CompleteTwice,
    CompleteStray,
    CompleteError,
    CompleteThenRefuse,
    ReportFromThread,
    ReportInterleaved,
    ReportBadAddress,
    PanicDestroy,
    AbortDrop,
    SegfaultDrop,
    SegfaultInfo,
    HangDrop,
}

/// The misbehaving provider.
#[derive(Debug)]
pub struct Faulty {
    fault: Fault,
    events: Reporter,
    calls: HashMap<CallId, CallStatus<CallId>>,
    next: u64,
}

impl Provider for Faulty {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        let fault = match config.trim() {
            "" => Fault::None,
            "panic=drop" => Fault::PanicDrop,
            "panic=info" => Fault::PanicInfo,
            "panic=open" => panic!("deliberate panic while opening"),
            "open=report-then-fail" => {
                events.new_call(CallId(1), AddressId(0), None);
                events.state(CallId(1), CallStatus::Offering);
                events.complete(RequestId(1), Ok(()));
                return Err("deliberately failing after reporting".into());
            }
            "complete=twice" => Fault::CompleteTwice,
            "complete=stray" => Fault::CompleteStray,
            "complete=error" => Fault::CompleteError,
            "complete=then-refuse" => Fault::CompleteThenRefuse,
            "report=thread" => Fault::ReportFromThread,
            "report=interleaved" => Fault::ReportInterleaved,
            "report=bad-address" => Fault::ReportBadAddress,
            "panic=destroy" => Fault::PanicDestroy,
            "abort=drop" => Fault::AbortDrop,
            "segfault=drop" => Fault::SegfaultDrop,
            "segfault=info" => Fault::SegfaultInfo,
            "hang=drop" => Fault::HangDrop,
            other => return Err(format!("unknown fault `{other}`")),
        };
        Ok(Faulty {
            fault,
            events,
            calls: HashMap::new(),
            next: 0,
        })
    }

    fn info(&self) -> ProviderInfo {
        if self.fault == Fault::SegfaultInfo {
            segfault();
        }
        if self.fault == Fault::PanicInfo {
            panic!("deliberate panic in info");
        }
        ProviderInfo {
            name: "faulty-provider".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            capabilities: Capabilities {
                uui_drop_size: 0,
                reject_by_drop: true,
                close_drop: false,
                addresses: vec![AddressCaps {
                    name: "line-1".into(),
                    conf_drop: false,
                    sharing: Sharing::Private,
                    features: CallFeatures::ANSWER | CallFeatures::DROP,
                }],
                far_causes: false,
                uui_received_size: 0,
                hang_up_delay_ms: 0,
            },
        }
    }

    fn make_call(&mut self, _: RequestId, _: AddressId, _: &str) -> LineResult<CallId> {
        Err(LineError::OperationUnavail)
    }

    fn answer(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        let status = self.calls.get_mut(&call).ok_or(LineError::InvalPointer)?;
        *status = CallStatus::connected();
        self.events.state(call, *status);
        self.events.complete(request, Ok(()));
        Ok(())
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        _: DisconnectCode,
        _: &[u8],
    ) -> LineResult<()> {
        match self.fault {
            Fault::PanicDrop => panic!("deliberate panic in drop_call"),
            Fault::AbortDrop => std::process::abort(),
            Fault::SegfaultDrop => segfault(),
            Fault::HangDrop => loop {
                std::thread::sleep(std::time::Duration::from_millis(50));
            },
            _ => {}
        }
        let status = self.calls.get_mut(&call).ok_or(LineError::InvalPointer)?;
        if self.fault == Fault::CompleteError {
            // Accepted, then the network refuses: nothing changes (S2, D9).
            self.events
                .complete(request, Err(LineError::OperationFailed));
            return Ok(());
        }
        *status = CallStatus::Idle;
        if self.fault == Fault::ReportFromThread {
            let events = self.events.clone();
            std::thread::spawn(move || {
                // Late enough that the host has long returned from drop_call.
                std::thread::sleep(std::time::Duration::from_millis(50));
                events.state(call, CallStatus::Idle);
                events.complete(request, Ok(()));
            });
            return Ok(());
        }
        if self.fault == Fault::ReportInterleaved {
            self.events.state(call, CallStatus::Accepted);
            let events = self.events.clone();
            // Joined before the next report: the thread's report comes
            // between the two made on the host's thread.
            let reported = std::thread::spawn(move || {
                events.state(call, CallStatus::connected());
            })
            .join();
            if reported.is_err() {
                return Err(LineError::OperationFailed);
            }
        }
        self.events.state(call, CallStatus::Idle);
        self.events.complete(request, Ok(()));
        match self.fault {
            Fault::CompleteThenRefuse => return Err(LineError::OperationFailed),
            Fault::CompleteTwice => self.events.complete(request, Ok(())),
            Fault::CompleteStray => self.events.complete(RequestId(request.0 + 1000), Ok(())),
            _ => {}
        }
        Ok(())
    }

    fn close_call(&mut self, call: CallId) -> LineResult<()> {
        self.calls
            .remove(&call)
            .map(|_| ())
            .ok_or(LineError::InvalPointer)
    }

    fn call_info(&self, call: CallId) -> LineResult<CallInfo<CallId>> {
        let status = *self.calls.get(&call).ok_or(LineError::InvalPointer)?;
        Ok(CallInfo {
            address: AddressId(0),
            status,
            related: Vec::new(),
            remote: "far".into(),
            disconnect_mode: None,
            uui_received: Vec::new(),
            uui_sent: Vec::new(),
        })
    }

    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        Ok(Vec::new())
    }

    fn remote_offer(&mut self, address: AddressId, _: &str, _: &[u8]) -> LineResult<CallId> {
        if address != AddressId(0) {
            return Err(LineError::InvalPointer);
        }
        self.next += 1;
        let call = CallId(self.next);
        self.calls.insert(call, CallStatus::Offering);
        let reported = match self.fault {
            Fault::ReportBadAddress => AddressId(7),
            _ => address,
        };
        self.events.new_call(call, reported, None);
        self.events.state(call, CallStatus::Offering);
        Ok(call)
    }

    fn remote_answer(&mut self, _: CallId) -> LineResult<()> {
        Err(LineError::OperationUnavail)
    }

    fn remote_hang_up(&mut self, _: CallId, _: u32, _: &[u8]) -> LineResult<()> {
        Err(LineError::OperationUnavail)
    }
}

/// Dies of SIGSEGV, as a provider with a memory bug would.
fn segfault() -> ! {
    // SAFETY: none: this is deliberately undefined behaviour, the point of
    // `segfault=drop`. A volatile write through the null pointer cannot be
    // optimised away, and on every platform cleardown runs on, page 0 is
    // unmapped, so it raises SIGSEGV (an access violation on Windows) and
    // the process dies before anything else happens.
    unsafe { std::ptr::null_mut::<u8>().write_volatile(0) };
    // Not reached; if the write somehow did not fault, still never return.
    std::process::abort()
}

impl Drop for Faulty {
    fn drop(&mut self) {
        if self.fault == Fault::PanicDestroy {
            panic!("deliberate panic while being dropped");
        }
    }
}

cleardown_sdk::export_provider!(Faulty);
