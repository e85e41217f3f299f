//! The worker: the child process that loads one provider target and
//! replays the fixtures its parent sends, one per stdin line, answering
//! each on stdout behind [`PREFIX`]; and the parent's side of it, which
//! restarts a worker that crashed or hung.

use std::{
    io::{BufRead, BufReader, Write},
    process::{Child, ChildStdin, Command, Stdio},
    sync::{
        Arc, Mutex,
        mpsc::{self, Receiver, RecvTimeoutError},
    },
    time::Duration,
};

use cleardown_far_end::{Driver, SipFarEnd, SipWire, check_unfilled};
use cleardown_host::{Capabilities, Host, ProviderDescription};
use cleardown_report as report;
use serde::{Deserialize, Serialize};

use super::{RunOptions, Target};
use crate::{
    fixture,
    replay::{self, Gate, Options, Outcome},
    wire,
};

/// Marks the worker's protocol lines on its stdout.
pub const PREFIX: &str = "@@cleardown ";

/// The hidden subcommand that makes the `cleardown` binary a worker.
pub const WORKER_COMMAND: &str = "__worker";

/// A fixture sent to the worker.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Job {
    pub file: String,
    pub source: String,
}

/// The worker's answers.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum Answer {
    Ready(ProviderDescription),
    LoadError(String),
    Skipped(String),
    Replayed {
        snapshot: String,
        /// The wire snapshot's name, for a fixture with `wire = true`.
        wire_snapshot: Option<String>,
        outcome: Box<Outcome>,
    },
    Error(String),
}

fn say(answer: &Answer) {
    // One line per answer; a failed write means the parent is gone.
    if let Ok(json) = serde_json::to_string(answer) {
        let mut out = std::io::stdout().lock();
        let _ = writeln!(out, "{PREFIX}{json}");
        let _ = out.flush();
    }
}

/// The worker's main loop: load the target, describe it, then replay each
/// fixture read from stdin in a fresh host. Returns the exit code.
pub fn worker(target: &Target, settle: Duration) -> u8 {
    // Through a driver on a wire, every load gets fresh loopback ports.
    let load = |host: &Host, config: &str| host.load_named(&target.provider, config);
    let host = Host::new();
    let opened = match target.far_end {
        Driver::Provider => check_unfilled(&target.config)
            .and_then(|()| load(&host, &target.config).map_err(|e| e.to_string())),
        // The wire itself is not kept: each fixture gets its own.
        Driver::Sip => {
            SipWire::open(&target.config, |config| load(&host, config)).map(|(_, id)| id)
        }
    };
    let description = match opened.map(|id| host.describe(id)) {
        Ok(Ok(description)) => description,
        Ok(Err(error)) => {
            say(&Answer::LoadError(error.to_string()));
            return 2;
        }
        Err(error) => {
            say(&Answer::LoadError(error.to_string()));
            return 2;
        }
    };
    let caps = description.capabilities.clone();
    let name = description.name.clone();
    say(&Answer::Ready(description));
    // This first host stays alive, holding the library open: each fixture's
    // fresh host then finds it mapped instead of loading and relocating it
    // again (most of a generated scenario's cost). Its provider instance is
    // never used again, so nothing carries over between fixtures.
    let _library = host;
    let options = Options { settle };
    for line in std::io::stdin().lock().lines() {
        let Ok(line) = line else { break };
        let answer = match serde_json::from_str::<Job>(&line) {
            Ok(job) => replay_job(&job, &name, &caps, options, target, &load),
            Err(error) => Answer::Error(format!("bad job from the parent: {error}")),
        };
        say(&answer);
    }
    0
}

fn replay_job(
    job: &Job,
    provider_name: &str,
    caps: &Capabilities,
    options: Options,
    target: &Target,
    load: &dyn Fn(&Host, &str) -> Result<cleardown_host::ProviderId, cleardown_host::LoadError>,
) -> Answer {
    let fixture = match fixture::parse(&job.file, &job.source) {
        Ok(fixture) => fixture,
        Err(error) => return Answer::Error(error.to_string()),
    };
    let binding = match replay::gate(&fixture, caps) {
        Gate::Skip(reason) => return Answer::Skipped(reason),
        Gate::Run(binding) => binding,
    };
    // A fresh host and provider instance per fixture: nothing carries over.
    let host = Host::new();
    let replayed = (|| -> Result<Outcome, String> {
        let reload = |config: &str| {
            load(&host, config).map_err(|e| format!("reloading the provider failed: {e}"))
        };
        Ok(match target.far_end {
            Driver::Provider => {
                let provider = reload(&target.config)?;
                replay::replay(&host, provider, caps, &fixture, &binding, options)
            }
            Driver::Sip => {
                let (wire, provider) = SipWire::open(&target.config, reload)?;
                let far = SipFarEnd::new(wire, &host, provider, options.settle)
                    .map_err(|e| format!("the SIP far end cannot start: {e}"))?;
                replay::replay_with(
                    &host,
                    provider,
                    caps,
                    &fixture,
                    &binding,
                    options,
                    Box::new(far),
                )
            }
        })
    })();
    let mut outcome = match replayed {
        Ok(outcome) => outcome,
        Err(message) => return Answer::Error(message),
    };
    if let Some(reason) = outcome.unserved.take() {
        return Answer::Skipped(reason);
    }
    outcome.judge(&fixture, &replay::oracle_context(caps, &binding));
    Answer::Replayed {
        snapshot: replay::snapshot_name(&fixture, &binding),
        wire_snapshot: fixture
            .wire
            .then(|| wire::snapshot_name(&fixture, &binding, caps, provider_name)),
        outcome: Box::new(outcome),
    }
}

/// A running worker.
pub(crate) struct Worker {
    child: Child,
    stdin: ChildStdin,
    answers: Receiver<Answer>,
    stderr: Arc<Mutex<Vec<String>>>,
}

/// Keeps the last lines a child wrote to stderr, to name in a crash report.
const STDERR_LINES: usize = 12;

impl Worker {
    pub(crate) fn spawn(target: &Target, options: &RunOptions) -> Result<(Worker, Answer), String> {
        let mut child = Command::new(&options.worker)
            .arg(WORKER_COMMAND)
            .arg("--plugin")
            .arg(&target.provider)
            .arg("--config")
            .arg(&target.config)
            .arg("--settle-ms")
            .arg(options.settle.as_millis().to_string())
            .arg("--far-end")
            .arg(target.far_end.name())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", options.worker.display()))?;
        let (Some(stdin), Some(stdout), Some(stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            return Err("the worker's pipes were not set up".to_owned());
        };
        let (send, answers) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if let Some(json) = line.strip_prefix(PREFIX) {
                    let answer = serde_json::from_str(json).unwrap_or_else(|e| {
                        Answer::Error(format!("unreadable answer from the worker: {e}"))
                    });
                    if send.send(answer).is_err() {
                        break;
                    }
                }
            }
        });
        let kept = Arc::new(Mutex::new(Vec::new()));
        let sink = kept.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines() {
                let Ok(line) = line else { break };
                let mut lines = sink.lock().unwrap_or_else(|e| e.into_inner());
                lines.push(line);
                if lines.len() > STDERR_LINES {
                    lines.remove(0);
                }
            }
        });
        let mut worker = Worker {
            child,
            stdin,
            answers,
            stderr: kept,
        };
        let first = worker.receive(options.timeout);
        match first {
            Ok(answer) => Ok((worker, answer)),
            Err(death) => Err(death.message),
        }
    }

    pub(crate) fn send(&mut self, job: &Job) -> bool {
        serde_json::to_string(job).is_ok_and(|json| writeln!(self.stdin, "{json}").is_ok())
            && self.stdin.flush().is_ok()
    }

    pub(crate) fn receive(&mut self, timeout: Duration) -> Result<Answer, Death> {
        match self.answers.recv_timeout(timeout) {
            Ok(answer) => Ok(answer),
            Err(RecvTimeoutError::Timeout) => {
                let _ = self.child.kill();
                let _ = self.child.wait();
                Err(Death {
                    kind: report::FailureKind::Timeout,
                    message: format!(
                        "timed out after {:.1} s; the provider's process was killed",
                        timeout.as_secs_f64()
                    ),
                })
            }
            Err(RecvTimeoutError::Disconnected) => {
                let status = self.child.wait();
                // The stderr reader may still be draining the last lines.
                std::thread::sleep(Duration::from_millis(20));
                let stderr = self.stderr.lock().map(|l| l.join("\n")).unwrap_or_default();
                let how = match status {
                    Ok(status) => describe_exit(status),
                    Err(e) => format!("vanished ({e})"),
                };
                Err(Death {
                    kind: report::FailureKind::Crash,
                    message: if stderr.is_empty() {
                        format!("the provider's process {how}")
                    } else {
                        format!("the provider's process {how}; its last output:\n{stderr}")
                    },
                })
            }
        }
    }
}

impl Drop for Worker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) struct Death {
    pub kind: report::FailureKind,
    pub message: String,
}

pub fn describe_exit(status: std::process::ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            let name = match signal {
                4 => "SIGILL",
                6 => "SIGABRT",
                7 => "SIGBUS",
                8 => "SIGFPE",
                9 => "SIGKILL",
                11 => "SIGSEGV",
                13 => "SIGPIPE",
                15 => "SIGTERM",
                _ => "a signal",
            };
            return format!("was killed by signal {signal} ({name})");
        }
    }
    match status.code() {
        Some(code) => format!("exited with code {code}"),
        None => "ended".to_owned(),
    }
}
