//! `cleardown`: the command provider authors run.
//!
//! A thin shell over `cleardown-host`: parse arguments, call the library,
//! print. Exit status: 0 success, 2 a usage or load error (one line on
//! stderr saying why).

use std::process::ExitCode;

use clap::{Parser, Subcommand, error::ErrorKind};
use cleardown_host::{Host, LoadError, ProviderDescription, locate};

/// Prove that telephony providers drop and terminate calls as the contract says.
#[derive(Debug, Parser)]
#[command(name = "cleardown", version, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// List the bundled providers and where their libraries are.
    Providers {
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
    /// Load a provider and print its name, version, contract version and
    /// every declared capability.
    Inspect {
        /// A bundled provider's name (`pbx-sim`) or a library path.
        provider: String,
        /// The provider's configuration string (e.g. `reject_by_drop=off`).
        #[arg(long, default_value = "")]
        config: String,
        /// Print JSON instead of text.
        #[arg(long)]
        json: bool,
    },
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => return usage_error(&error),
    };
    let outcome = match cli.command {
        Command::Providers { json } => providers(json),
        Command::Inspect {
            provider,
            config,
            json,
        } => inspect(&provider, &config, json),
    };
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("cleardown: {error}");
            ExitCode::from(2)
        }
    }
}

/// Help and version go out as clap prints them; a usage mistake becomes one
/// line, like every other error of this command.
fn usage_error(error: &clap::Error) -> ExitCode {
    if matches!(
        error.kind(),
        ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand
    ) {
        error.exit();
    }
    let rendered = error.render().to_string();
    let reason = rendered.split("\n\n").next().unwrap_or_default();
    let reason = reason.split_whitespace().collect::<Vec<_>>().join(" ");
    let reason = reason.strip_prefix("error: ").unwrap_or(&reason);
    eprintln!("cleardown: {reason} (see `cleardown --help`)");
    ExitCode::from(2)
}

fn load(provider: &str, config: &str) -> Result<ProviderDescription, LoadError> {
    let host = Host::new();
    let id = host.load_named(provider, config)?;
    host.describe(id).map_err(|error| LoadError::Faulty {
        provider: provider.to_owned(),
        reason: error.description().to_owned(),
    })
}

fn providers(json: bool) -> Result<(), LoadError> {
    let described = locate::BUNDLED
        .iter()
        .map(|name| load(name, ""))
        .collect::<Result<Vec<_>, _>>()?;
    if json {
        println!("{}", to_json(&described));
    } else {
        for d in &described {
            let path = d
                .path
                .as_ref()
                .map_or_else(String::new, |p| p.display().to_string());
            println!(
                "{:<16} {:<8} contract {}  {}",
                d.name, d.version, d.contract, path
            );
        }
    }
    Ok(())
}

fn inspect(provider: &str, config: &str, json: bool) -> Result<(), LoadError> {
    let d = load(provider, config)?;
    if json {
        println!("{}", to_json(&d));
        return Ok(());
    }
    let yes = |b: bool| if b { "yes" } else { "no" };
    let caps = &d.capabilities;
    println!("name:            {}", d.name);
    println!("version:         {}", d.version);
    println!(
        "contract:        {} (negotiated {})",
        d.contract, d.negotiated
    );
    if let Some(path) = &d.path {
        println!("library:         {}", path.display());
    }
    println!(
        "config:          {}",
        if d.config.is_empty() {
            "(default)"
        } else {
            &d.config
        }
    );
    println!("uui_drop_size:   {}", caps.uui_drop_size);
    println!("reject_by_drop:  {}", yes(caps.reject_by_drop));
    println!("close_drop:      {}", yes(caps.close_drop));
    println!("addresses:");
    for (index, address) in caps.addresses.iter().enumerate() {
        println!(
            "  {index}  {:<12} sharing={:<16} conf_drop={}",
            address.name,
            address.sharing,
            yes(address.conf_drop)
        );
    }
    Ok(())
}

fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Serialising plain data with string keys cannot fail.
    serde_json::to_string_pretty(value)
        .unwrap_or_else(|error| format!("{{\"error\": \"{error}\"}}"))
}
