//! Commands that load a provider into their own process (`inspect`,
//! `replay`, `bench`) do their work in a child process: the same command
//! run again with a marker in its environment. A provider that corrupts
//! memory or dies of a signal kills only the child, and the parent says so
//! in one line (exit 2). `conformance` needs none of this: its providers run
//! in workers of its own.

use std::{process::ExitCode, time::Duration};

use cleardown_conformance::{render, run};

/// Set in the child that does the work of a command loading a provider in
/// process (see [`isolated`]).
const ISOLATED: &str = "CLEARDOWN_ISOLATED_CHILD";

/// Runs this very command again in a child process, its output straight to
/// ours, and answers with its exit status: a provider that corrupts memory
/// or dies of a signal while loading or running kills the child, and this
/// process says so in one line (exit 2) instead of dying without a word.
pub(crate) fn isolated(provider: &str, limit: Option<Duration>) -> ExitCode {
    let me = match std::env::current_exe() {
        Ok(me) => me,
        Err(error) => {
            eprintln!(
                "cleardown: cannot find the cleardown executable to load {} in: {error}",
                render::printable(provider)
            );
            return ExitCode::from(2);
        }
    };
    let child = std::process::Command::new(me)
        .args(std::env::args_os().skip(1))
        .env(ISOLATED, "1")
        .spawn();
    let status = child.and_then(|mut child| {
        let Some(limit) = limit else {
            return child.wait();
        };
        let deadline = std::time::Instant::now() + limit;
        loop {
            if let Some(status) = child.try_wait()? {
                return Ok(status);
            }
            if std::time::Instant::now() >= deadline {
                let _ = child.kill();
                let _ = child.wait();
                return Err(std::io::Error::new(
                    std::io::ErrorKind::TimedOut,
                    format!(
                        "it did not finish within {} s, and was stopped",
                        limit.as_secs()
                    ),
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    });
    match status {
        Ok(status) => match status.code() {
            Some(code) => ExitCode::from(u8::try_from(code).unwrap_or(2)),
            None => {
                eprintln!(
                    "cleardown: {}: the provider crashed: the process loading it {}",
                    render::printable(provider),
                    run::describe_exit(status)
                );
                ExitCode::from(2)
            }
        },
        Err(error) if error.kind() == std::io::ErrorKind::TimedOut => {
            eprintln!(
                "cleardown: {}: the provider hung: the process loading it {error}",
                render::printable(provider)
            );
            ExitCode::from(2)
        }
        Err(error) => {
            eprintln!(
                "cleardown: cannot start a process to load {} in: {error}",
                render::printable(provider)
            );
            ExitCode::from(2)
        }
    }
}

/// How long `inspect` may take (it loads a library and asks what it
/// declares): a corrupt library can hang instead of crashing.
pub(crate) const INSPECT_LIMIT: Duration = Duration::from_secs(60);

/// Whether this process is the child doing the work.
pub(crate) fn in_child() -> bool {
    std::env::var_os(ISOLATED).is_some()
}
