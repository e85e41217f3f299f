//! `cleardown replay`: one fixture through one provider in this process,
//! its transcript on stdout (how a fixture is written), compared with the
//! snapshot beside the fixture; for a `wire = true` fixture the wire log
//! too, shown with `--wire` and compared with the provider's wire snapshot.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use cleardown_conformance::{
    fixture, replay,
    snapshot::{self, Kind},
    suite, wire,
};
use cleardown_far_end::{Driver, FarEnd, ProviderFarEnd, SipFarEnd, SipWire, check_unfilled};
use cleardown_host::Host;

/// The arguments of `cleardown replay`.
#[derive(Debug, clap::Args)]
pub struct ReplayArgs {
    /// The fixture file.
    file: PathBuf,
    /// The provider: a bundled name or a library path.
    #[arg(long, value_name = "NAME|PATH")]
    plugin: String,
    /// The provider's configuration string.
    #[arg(long, default_value = "")]
    config: String,
    /// What plays the far end: `provider` (its simulation) or `sip` (a SIP
    /// user agent on loopback UDP; `--config` names the addresses as
    /// `{local}` and `{far_end}`).
    #[arg(long, value_name = "DRIVER", default_value = "provider")]
    far_end: Driver,
    /// How long to wait for Replies, in milliseconds.
    #[arg(long, value_name = "MS", default_value_t = 1000,
          value_parser = clap::value_parser!(u64).range(0..=crate::MAX_SETTLE_MS))]
    settle_ms: u64,
    /// Also print the wire log (what the far end received, as the provider
    /// put it on the wire) after the transcript; the fixture must say
    /// `wire = true`.
    #[arg(long)]
    wire: bool,
    /// Where the provider's wire snapshot is kept [default: the
    /// `snapshots/` directory beside the fixture].
    #[arg(long, value_name = "DIR")]
    wire_snapshots: Option<PathBuf>,
}

impl ReplayArgs {
    /// The provider, as given.
    pub fn plugin(&self) -> &str {
        &self.plugin
    }
}

/// Runs it. Exit 0 printed and matching what is pinned, 1 skipped,
/// different, leaking or faulted; an error is exit 2 (returned as text).
pub fn run(args: &ReplayArgs) -> Result<u8, String> {
    let file = &args.file;
    let source = fixture::read(file).map_err(|e| e.to_string())?;
    let fixture =
        fixture::parse(&file.display().to_string(), &source).map_err(|e| e.to_string())?;
    if args.wire && !fixture.wire {
        return Err(format!(
            "{}: --wire needs a fixture with `wire = true`; this one keeps no wire log",
            file.display()
        ));
    }
    let host = Host::new();
    let (wire, provider) = match args.far_end {
        Driver::Provider => {
            check_unfilled(&args.config)?;
            let provider = host
                .load_named(&args.plugin, &args.config)
                .map_err(|e| e.to_string())?;
            (None, provider)
        }
        Driver::Sip => {
            let (wire, provider) =
                SipWire::open(&args.config, |config| host.load_named(&args.plugin, config))?;
            (Some(wire), provider)
        }
    };
    let description = host
        .describe(provider)
        .map_err(|e| e.description().to_owned())?;
    let caps = description.capabilities;
    let binding = match replay::gate(&fixture, &caps) {
        replay::Gate::Skip(reason) => {
            println!("skipped: {reason}");
            return Ok(1);
        }
        replay::Gate::Run(binding) => binding,
    };
    let options = replay::Options {
        settle: Duration::from_millis(args.settle_ms),
    };
    let far: Box<dyn FarEnd + '_> = match wire {
        Some(wire) => Box::new(
            SipFarEnd::new(wire, &host, provider, options.settle)
                .map_err(|e| format!("the SIP far end cannot start: {e}"))?,
        ),
        None => Box::new(ProviderFarEnd::new(&host, provider)),
    };
    let mut outcome = replay::replay_with(&host, provider, &caps, &fixture, &binding, options, far);
    if let Some(reason) = &outcome.unserved {
        println!("skipped: {reason}");
        return Ok(1);
    }
    outcome.judge(&fixture, &replay::oracle_context(&caps, &binding));
    print!("{}", outcome.transcript);
    let mut code = 0;
    for verdict in &outcome.verdicts {
        let at = verdict
            .step
            .and_then(|i| fixture.steps.get(i))
            .map_or_else(String::new, |(line, _)| {
                format!("{}:{line}: ", file.display())
            });
        eprintln!("{at}SPEC {} broken: {}", verdict.rule, verdict.message);
        code = 1;
    }
    for leak in &outcome.leaks {
        eprintln!("leak (T5): {leak}");
        code = 1;
    }
    if let Some(fault) = &outcome.fault {
        eprintln!("provider faulted (X2): {fault}");
        code = 1;
    }
    let beside = suite::snapshot_dir(file.parent().unwrap_or(Path::new(".")));
    let name = replay::snapshot_name(&fixture, &binding);
    code = code.max(compare(
        &beside,
        &name,
        Kind::Transcript,
        &outcome.transcript,
    ));
    if let Some(log) = &outcome.wire {
        if args.wire {
            println!("--- wire log");
            print!("{log}");
        }
        let name = wire::snapshot_name(&fixture, &binding, &caps, &description.name);
        let dir = args.wire_snapshots.as_deref().unwrap_or(&beside);
        code = code.max(compare(dir, &name, Kind::WireLog, log));
    }
    Ok(code)
}

/// Compares `actual` with snapshot `name` in `dir`, saying on stderr how it
/// went: 0 matches or none pinned (a transcript without a snapshot is how a
/// fixture starts; a wire log is the provider's to pin), 1 differs.
fn compare(dir: &Path, name: &str, kind: Kind, actual: &str) -> u8 {
    let what = kind.name();
    match snapshot::read(dir, name) {
        Some(expected) if snapshot::matches(&expected, actual) => {
            eprintln!("{what} matches snapshot {name}");
            0
        }
        Some(expected) => {
            eprintln!("{what} differs from snapshot {name}:");
            eprintln!("--- snapshot\n+++ {what}");
            eprint!("{}", snapshot::diff(&expected, actual));
            1
        }
        None if kind == Kind::WireLog => {
            eprintln!("{what} not pinned: no snapshot {name} in {}", dir.display());
            0
        }
        None => {
            eprintln!("no snapshot {name} in {}", dir.display());
            0
        }
    }
}
