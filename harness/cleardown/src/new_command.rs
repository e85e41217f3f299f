//! `cleardown new NAME [--dir DIR]`: writes a provider crate that builds and
//! passes the bundled conformance suite as it stands, from the template in
//! `harness/cleardown/templates/new-provider/` (embedded in the binary):
//! the provider on the SDK's blocks, one example fixture with its snapshot,
//! a `cargo test` that runs `cleardown conformance` on it, a GitHub Actions
//! workflow, and a README saying what to change first.

use std::path::{Path, PathBuf};

/// The arguments of `cleardown new`.
#[derive(Debug, clap::Args)]
pub struct NewArgs {
    /// The crate's name: lower-case letters, digits, `-` and `_`, starting
    /// with a letter (`isdn-bri`).
    name: String,
    /// Where to write it [default: ./NAME]; must not exist, or be empty.
    #[arg(long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// The cleardown-sdk crate to depend on by path [default: the one in
    /// the cleardown checkout this binary was built from].
    #[arg(long, value_name = "DIR")]
    sdk: Option<PathBuf>,
}

/// Each template file: its path in the new crate, and its text.
const FILES: &[(&str, &str)] = &[
    (
        "Cargo.toml",
        include_str!("../templates/new-provider/Cargo.toml.in"),
    ),
    (
        "README.md",
        include_str!("../templates/new-provider/README.md.in"),
    ),
    (
        "rustfmt.toml",
        include_str!("../templates/new-provider/rustfmt.toml"),
    ),
    (
        "src/lib.rs",
        include_str!("../templates/new-provider/src/lib.rs.in"),
    ),
    (
        "tests/conformance.rs",
        include_str!("../templates/new-provider/tests/conformance.rs"),
    ),
    (
        "fixtures/first-call.toml",
        include_str!("../templates/new-provider/fixtures/first-call.toml"),
    ),
    (
        "fixtures/snapshots/first-call.snap",
        include_str!("../templates/new-provider/fixtures/snapshots/first-call.snap"),
    ),
    (
        ".github/workflows/conformance.yml",
        include_str!("../templates/new-provider/.github/workflows/conformance.yml.in"),
    ),
    (".gitignore", "/target\n"),
];

fn check_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let good = chars.next().is_some_and(|c| c.is_ascii_lowercase())
        && chars.all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && name.len() <= 64;
    if good {
        Ok(())
    } else {
        Err(format!(
            "`{}` is not a provider name: lower-case letters, digits, `-` and `_`, starting with a letter, at most 64",
            cleardown_conformance::render::printable(name)
        ))
    }
}

/// `isdn-bri` → `IsdnBri`.
fn type_name(name: &str) -> String {
    name.split(['-', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_ascii_uppercase().to_string() + chars.as_str()
            })
        })
        .collect()
}

/// A template file with its placeholders filled for the crate `name`
/// depending on the SDK at `sdk`.
fn fill(text: &str, name: &str, sdk: &str) -> String {
    text.replace("{{name}}", name)
        .replace("{{type_name}}", &type_name(name))
        .replace("{{crate_ident}}", &name.replace('-', "_"))
        .replace("{{sdk_path}}", sdk)
        .replace("{{version}}", env!("CARGO_PKG_VERSION"))
}

/// The SDK of the checkout this binary was built from.
fn checkout_sdk() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../crates/cleardown-sdk")
}

/// Writes the crate; returns where.
pub fn run(args: &NewArgs) -> Result<PathBuf, String> {
    check_name(&args.name)?;
    let dir = args
        .dir
        .clone()
        .unwrap_or_else(|| PathBuf::from(&args.name));
    if dir.exists() {
        let empty = std::fs::read_dir(&dir)
            .map(|mut entries| entries.next().is_none())
            .unwrap_or(false);
        if !empty {
            return Err(format!(
                "{} exists and is not empty; pick a new --dir",
                dir.display()
            ));
        }
    }
    let sdk = args.sdk.clone().unwrap_or_else(checkout_sdk);
    let sdk = sdk.canonicalize().map_err(|e| {
        format!(
            "cannot find cleardown-sdk at {} ({e}); name it with --sdk DIR",
            sdk.display()
        )
    })?;
    if !sdk.join("Cargo.toml").is_file() {
        return Err(format!(
            "{} holds no Cargo.toml; --sdk names the cleardown-sdk crate's directory",
            sdk.display()
        ));
    }
    let sdk_text = sdk.display().to_string();
    for (path, text) in FILES {
        let target = dir.join(path);
        if let Some(parent) = target.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&target, fill(text, &args.name, &sdk_text))
            .map_err(|e| format!("cannot write {}: {e}", target.display()))?;
    }
    Ok(dir)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert_eq!(type_name("isdn-bri"), "IsdnBri");
        assert_eq!(type_name("my_pbx2"), "MyPbx2");
        assert!(check_name("isdn-bri").is_ok());
        for bad in ["", "Isdn", "1x", "a b", "a/b", "ä"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn every_placeholder_is_filled() {
        for (path, text) in FILES {
            let filled = fill(text, "x", "/sdk");
            // `${{ … }}` is GitHub Actions' own syntax.
            let unfilled = filled
                .match_indices("{{")
                .any(|(at, _)| at == 0 || filled.as_bytes()[at - 1] != b'$');
            assert!(!unfilled, "{path}: {filled}");
        }
    }
}
