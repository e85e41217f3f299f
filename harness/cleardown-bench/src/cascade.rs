//! One sample: a fresh host, a conference of N parties built through the
//! app API (untimed), its parent dropped and the cascade read (timed), every
//! handle deallocated (untimed).

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

use cleardown_host::{
    AddressId, App, CallFeatures, CallHandle, CallState, Event, Host, LineError, LoadError,
    Privilege, ProviderDescription, ProviderId, RequestId,
};

use crate::{BenchError, BenchResult, Options, Progress, ProviderRun, SizeResult, stats::Summary};

/// Runs the benchmark: [`Bench::new`], then [`Bench::run`].
pub fn run(
    options: &Options,
    progress: &mut dyn FnMut(Progress),
) -> Result<BenchResult, BenchError> {
    Bench::new(options)?.run(progress)
}

/// A benchmark ready to run: options checked, the provider loaded once and
/// its conference address chosen, so whatever can be refused without
/// measuring (a bad option, a load error, no `conf_drop`, a baseline of
/// another provider) is refused before the first sample.
#[derive(Debug)]
pub struct Bench {
    options: Options,
    /// The library every sample loads (finding a bundled plugin by name may
    /// run cargo: once is enough).
    path: PathBuf,
    address: AddressId,
    provider: ProviderRun,
}

impl Bench {
    /// Checks `options`, loads the provider and finds the first address
    /// declaring `conf_drop` and the conference call features.
    pub fn new(options: &Options) -> Result<Bench, BenchError> {
        options.check()?;
        let host = Host::new();
        let id = host.load_named(&options.provider, &options.config)?;
        let description = host
            .describe(id)
            .map_err(|error| LoadError::Faulty {
                provider: options.provider.clone(),
                reason: error.description().to_owned(),
            })
            .map_err(BenchError::Load)?;
        let address = conference_address(&description)?;
        Ok(Bench {
            options: options.clone(),
            path: description
                .path
                .clone()
                .unwrap_or_else(|| PathBuf::from(&options.provider)),
            address,
            provider: ProviderRun {
                address: description.capabilities.addresses[address.0 as usize]
                    .name
                    .clone(),
                name: description.name,
                version: description.version,
                config: description.config,
                path: description.path,
            },
        })
    }

    /// The provider as it declared itself, and the address used.
    pub fn provider(&self) -> &ProviderRun {
        &self.provider
    }

    /// For each size (ascending), `warmup` untimed samples, then `samples`
    /// timed ones, each reported to `progress` as it starts. Fails on the
    /// first sample that does not give a number.
    pub fn run(&self, progress: &mut dyn FnMut(Progress)) -> Result<BenchResult, BenchError> {
        let options = &self.options;
        let mut sizes = Vec::new();
        for n in options.normalized_sizes() {
            let mut samples = Vec::with_capacity(options.samples);
            for index in 0..options.warmup + options.samples {
                let warmup = index < options.warmup;
                let (sample, of) = if warmup {
                    (index + 1, options.warmup)
                } else {
                    (index + 1 - options.warmup, options.samples)
                };
                progress(Progress::Sample {
                    n,
                    sample,
                    of,
                    warmup,
                });
                let elapsed = take_sample(&self.path, options, self.address, n)?;
                if !warmup {
                    samples.push(elapsed);
                }
            }
            let summary = Summary::of(&samples);
            let calls = affected_calls(n);
            progress(Progress::Done { n, summary });
            sizes.push(SizeResult {
                n,
                calls,
                summary,
                per_call_ns: summary.median_ns / calls as u64,
                samples_ns: samples,
            });
        }
        Ok(BenchResult {
            provider: self.provider.clone(),
            samples: options.samples,
            warmup: options.warmup,
            sizes,
        })
    }
}

/// Calls a drop of a size-`n` conference affects: its parties and its
/// parent; for `n` = 1, the one call.
pub(crate) fn affected_calls(n: usize) -> usize {
    if n == 1 { 1 } else { n + 1 }
}

/// The first address that declares `conf_drop` and can build conferences.
fn conference_address(description: &ProviderDescription) -> Result<AddressId, BenchError> {
    let needed = CallFeatures::SETUP_CONFERENCE | CallFeatures::ADD_TO_CONFERENCE;
    let addresses = &description.capabilities.addresses;
    if let Some(index) = addresses
        .iter()
        .position(|a| a.conf_drop && a.features.contains(needed))
    {
        return Ok(AddressId(index as u32));
    }
    match addresses.iter().find(|a| a.conf_drop) {
        Some(address) => Err(BenchError::NoConferenceFeatures {
            provider: description.name.clone(),
            address: address.name.clone(),
            features: address.features.names().join(","),
        }),
        None => Err(BenchError::NoConfDrop {
            provider: description.name.clone(),
            addresses: if addresses.is_empty() {
                "it has none".to_owned()
            } else {
                addresses
                    .iter()
                    .map(|a| a.name.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            },
        }),
    }
}

/// One timed sample, in nanoseconds.
fn take_sample(
    path: &Path,
    options: &Options,
    address: AddressId,
    n: usize,
) -> Result<u64, BenchError> {
    let host = Host::new();
    let provider = host.load(path, &options.config)?;
    let app = host.app("cleardown-bench");
    let bench = Sample {
        host: &host,
        app: &app,
        provider,
        n,
        timeout: options.timeout,
    };
    app.open_line(provider, address, Privilege::Owner)
        .map_err(|e| bench.failed("opening the line", e))?;
    let calls = bench.conference(address)?;
    let elapsed = bench.drop_and_read(&calls)?;
    for handle in &calls {
        app.deallocate(*handle)
            .map_err(|e| bench.failed("deallocating after the drop", e))?;
    }
    bench.check_fault()?;
    Ok(elapsed)
}

struct Sample<'a> {
    host: &'a Host,
    app: &'a App,
    provider: ProviderId,
    n: usize,
    timeout: Duration,
}

impl Sample<'_> {
    fn failed(&self, step: &str, source: LineError) -> BenchError {
        if let Err(fault) = self.check_fault() {
            return fault;
        }
        BenchError::Setup {
            n: self.n,
            step: step.to_owned(),
            source,
        }
    }

    fn check_fault(&self) -> Result<(), BenchError> {
        match self.host.fault(self.provider) {
            Some(reason) => Err(BenchError::Faulted { n: self.n, reason }),
            None => Ok(()),
        }
    }

    /// What the timed drop drops, for error messages.
    fn dropped(&self) -> &'static str {
        if self.n == 1 {
            "the call"
        } else {
            "the conference parent"
        }
    }

    fn stalled(&self, what: String) -> BenchError {
        BenchError::Stalled { n: self.n, what }
    }

    fn timed_out(&self, what: &str) -> BenchError {
        self.stalled(format!("{what} within {:?}", self.timeout))
    }

    /// Builds the conference as an app does (`lineMakeCall`, then
    /// `lineSetupConference` and `lineAddToConference` per further party),
    /// with a far-end answer for each call where the provider simulates
    /// one. Returns every call the drop of the parent affects, the parent
    /// last; every event so far read.
    fn conference(&self, address: AddressId) -> Result<Vec<CallHandle>, BenchError> {
        let (request, first) = self
            .app
            .make_call(self.provider, address, &party(1))
            .map_err(|e| self.failed("make_call", e))?;
        self.reply(request, "make_call")?;
        self.answered(first, &party(1))?;
        let mut parent = first;
        let mut calls = Vec::with_capacity(affected_calls(self.n));
        calls.push(first);
        for k in 2..=self.n {
            let name = party(k);
            let (request, consult) = self
                .app
                .setup_conference(parent, &name)
                .map_err(|e| self.failed("setup_conference", e))?;
            self.reply(request, "setup_conference")?;
            self.answered(consult, &name)?;
            let (request, joined) = self
                .app
                .add_to_conference(parent, consult)
                .map_err(|e| self.failed("add_to_conference", e))?;
            self.reply(request, "add_to_conference")?;
            parent = joined;
            calls.push(consult);
        }
        if self.n > 1 {
            calls.push(parent);
        }
        self.app.events();
        Ok(calls)
    }

    /// Reads events until `request`'s Reply, which must be a success.
    fn reply(&self, request: RequestId, step: &str) -> Result<(), BenchError> {
        let deadline = Instant::now() + self.timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.app.next_event(left) {
                Some(Event::Reply { request: r, result }) if r == request => {
                    return result.map_err(|e| self.failed(step, e));
                }
                Some(_) => {}
                None => return Err(self.timed_out(&format!("no Reply to {step}"))),
            }
        }
    }

    /// Waits until `handle`'s call is Connected, asking the simulated far
    /// end to answer if the provider has one (a real far end answers by
    /// itself; a provider without the stimulus says `OperationUnavail`).
    fn answered(&self, handle: CallHandle, party: &str) -> Result<(), BenchError> {
        let call = self
            .host
            .call_of(handle)
            .map(|(_, call)| call)
            .ok_or_else(|| self.failed("finding the new call", LineError::InvalCallHandle))?;
        let deadline = Instant::now() + self.timeout;
        let mut asked = false;
        loop {
            let state = self
                .app
                .call_info(handle)
                .map_err(|e| self.failed("call_info", e))?
                .status
                .state();
            match state {
                CallState::Connected => return Ok(()),
                CallState::Idle | CallState::Disconnected | CallState::Busy => {
                    return Err(self.stalled(format!(
                        "the call to {party} went {state} instead of being answered"
                    )));
                }
                _ => {}
            }
            if !asked {
                asked = true;
                match self.host.remote_answer(self.provider, call) {
                    Ok(()) | Err(LineError::OperationUnavail) => continue,
                    Err(e) => return Err(self.failed("the far end's answer", e)),
                }
            }
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timed_out(&format!("the call to {party} was not answered")));
            }
            // Any event may be the answer; look again after each.
            self.app.next_event(left);
        }
    }

    /// The timed part: drop the parent (the last of `calls`) and read
    /// events until its Reply. Then checks what was read (SPEC C1, D4).
    fn drop_and_read(&self, calls: &[CallHandle]) -> Result<u64, BenchError> {
        let Some(&parent) = calls.last() else {
            return Err(self.failed("building", LineError::OperationFailed));
        };
        let mut read: Vec<Event> = Vec::with_capacity(calls.len() + 1);
        let start = Instant::now();
        let deadline = start + self.timeout;
        let request = self
            .app
            .drop(parent, &[])
            .map_err(|source| BenchError::DropRefused {
                n: self.n,
                dropped: self.dropped(),
                source,
            })?;
        let reply_at = 'read: loop {
            let mut batch = self.app.events();
            if batch.is_empty() {
                let left = deadline.saturating_duration_since(Instant::now());
                match self.app.next_event(left) {
                    Some(event) => batch.push(event),
                    None => {
                        return Err(BenchError::NoReply {
                            n: self.n,
                            dropped: self.dropped(),
                            timeout: self.timeout,
                        });
                    }
                }
            }
            for event in batch {
                let is_reply = matches!(event, Event::Reply { request: r, .. } if r == request);
                read.push(event);
                if is_reply {
                    break 'read read.len() - 1;
                }
            }
        };
        let elapsed = start.elapsed();
        if let Event::Reply {
            result: Err(source),
            ..
        } = read[reply_at]
        {
            self.check_fault()?;
            return Err(BenchError::DropFailed {
                n: self.n,
                dropped: self.dropped(),
                source,
            });
        }
        self.check_cascade(calls, &read[..reply_at])?;
        Ok(u64::try_from(elapsed.as_nanos()).unwrap_or(u64::MAX))
    }

    /// SPEC C1, D4: exactly one CallState event per affected call before
    /// the Reply, each an Idle.
    fn check_cascade(
        &self,
        calls: &[CallHandle],
        before_reply: &[Event],
    ) -> Result<(), BenchError> {
        let mut idle: HashMap<CallHandle, usize> = HashMap::new();
        let mut events = 0;
        for event in before_reply {
            if let Event::CallState { handle, status, .. } = event {
                events += 1;
                if status.is_idle() {
                    *idle.entry(*handle).or_default() += 1;
                }
            }
        }
        let idle_once = calls
            .iter()
            .filter(|h| idle.get(h).copied() == Some(1))
            .count();
        if events == calls.len() && idle_once == calls.len() {
            Ok(())
        } else {
            Err(BenchError::Cascade {
                n: self.n,
                dropped: self.dropped(),
                calls: calls.len(),
                events,
                idle: idle_once,
            })
        }
    }
}

fn party(k: usize) -> String {
    format!("bench-party-{k}")
}
