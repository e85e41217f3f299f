//! Finding provider libraries by name.
//!
//! A name resolves to the platform's library file name (`pbx-sim` →
//! `libpbx_sim.so`, `pbx_sim.dll`, `libpbx_sim.dylib`), searched in order:
//!
//! 1. each directory of `CLEARDOWN_PLUGIN_DIR` (a path list);
//! 2. when running under cargo (`cargo run`, `cargo test`: the `CARGO`
//!    variable is set), the path cargo itself reports after building the
//!    workspace's plugin crates — so a fresh clone needs no separate build
//!    step and never picks up a stale library;
//! 3. the directory of the running executable (a copied `cleardown` with
//!    its plugins beside it);
//! 4. the checkout this build came from, if it is still there: an
//!    installed `cleardown` (`cargo install --locked --path
//!    harness/cleardown`) builds the bundled plugins there with the cargo
//!    it was built with, once, as step 2 does, and loads them from that
//!    checkout's `target/`.

use std::{
    collections::HashMap,
    ffi::OsString,
    path::{Path, PathBuf},
    process::Command,
    sync::{Mutex, PoisonError},
};

use crate::LoadError;

/// The providers that ship with cleardown, by crate name.
pub const BUNDLED: &[&str] = &["pbx-sim", "analog-bridge", "sip"];

/// The environment variable with extra plugin directories.
pub const PLUGIN_DIR_VAR: &str = "CLEARDOWN_PLUGIN_DIR";

/// The library file name of plugin crate `name` on this platform.
pub fn library_file_name(name: &str) -> String {
    format!(
        "{}{}{}",
        std::env::consts::DLL_PREFIX,
        name.replace('-', "_"),
        std::env::consts::DLL_SUFFIX
    )
}

/// Whether `arg` names a file rather than a bundled provider.
pub fn looks_like_path(arg: &str) -> bool {
    arg.contains(std::path::MAIN_SEPARATOR)
        || arg.contains('/')
        || arg.ends_with(std::env::consts::DLL_SUFFIX)
}

/// Resolves a bundled provider's name to its library file.
pub fn bundled(name: &str) -> Result<PathBuf, LoadError> {
    if !BUNDLED.contains(&name) {
        return Err(LoadError::UnknownProvider {
            name: name.to_owned(),
            bundled: BUNDLED.join(", "),
        });
    }
    find(name)
}

/// Resolves the library of plugin crate `name` (bundled or a test plugin of
/// this workspace) by the search order above.
pub fn find(name: &str) -> Result<PathBuf, LoadError> {
    let file = library_file_name(name);
    if let Some(dirs) = std::env::var_os(PLUGIN_DIR_VAR) {
        if let Some(hit) = std::env::split_paths(&dirs)
            .map(|d| d.join(&file))
            .find(|p| p.is_file())
        {
            return Ok(hit);
        }
    }
    // Under cargo, but outside this workspace (a provider author's own
    // project), the build fails; the executable's directory may still have it.
    let built = std::env::var_os("CARGO").map(|cargo| built_by_cargo(&cargo, name, None));
    if let Some(Ok(path)) = built {
        return Ok(path);
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file)));
    if let Some(path) = beside_exe.filter(|p| p.is_file()) {
        return Ok(path);
    }
    if let Some(Err(build_error)) = built {
        return Err(build_error);
    }
    match source_checkout() {
        Some(checkout) => {
            // The first run of an installed copy compiles for a while; say
            // why the screen is quiet (stderr, so reports stay clean).
            eprintln!(
                "cleardown: building the bundled providers in {} (once; set ${PLUGIN_DIR_VAR} to use built ones)",
                checkout.display()
            );
            let cargo =
                option_env!("CARGO").map_or_else(|| OsString::from("cargo"), OsString::from);
            built_by_cargo(&cargo, name, Some(&checkout))
        }
        None => Err(LoadError::NotFound {
            path: PathBuf::from(format!(
                "{file} (searched ${PLUGIN_DIR_VAR} and the executable's directory; the checkout it was built from is gone)"
            )),
        }),
    }
}

/// The workspace this crate was compiled in, if it is still a cleardown
/// checkout with the bundled plugins' sources: where an installed
/// `cleardown` builds them. (A build from a published crate has none.)
pub fn source_checkout() -> Option<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent()?.parent()?;
    BUNDLED
        .iter()
        .all(|name| root.join("plugins").join(name).join("Cargo.toml").is_file())
        .then(|| root.to_path_buf())
}

/// Builds plugin crate `name` with the cargo that runs us and returns the
/// library cargo reports. Memoised per process: one build per name. A
/// bundled name builds every bundled plugin in the same cargo run, so a
/// cold run over all of them compiles them side by side, once.
/// `dir` is where to run cargo: the checkout for an installed copy; under
/// cargo, `None`, for the package directory cargo gives us.
fn built_by_cargo(cargo: &OsString, name: &str, dir: Option<&Path>) -> Result<PathBuf, LoadError> {
    static BUILT: Mutex<Option<HashMap<String, PathBuf>>> = Mutex::new(None);
    let mut built = BUILT.lock().unwrap_or_else(PoisonError::into_inner);
    let cache = built.get_or_insert_with(HashMap::new);
    if let Some(path) = cache.get(name) {
        return Ok(path.clone());
    }
    let names: Vec<&str> = if BUNDLED.contains(&name) {
        BUNDLED.to_vec()
    } else {
        vec![name]
    };
    let mut command = Command::new(cargo);
    command.args([
        "build",
        "--quiet",
        "--message-format=json-render-diagnostics",
    ]);
    for name in &names {
        command.args(["-p", name]);
    }
    if compiled_in_release() {
        command.arg("--release");
    }
    // Under `cargo run`/`cargo test` this is the package directory, inside
    // the workspace; elsewhere the current directory is the best guess.
    if let Some(dir) = dir {
        command.current_dir(dir);
    } else if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
        command.current_dir(dir);
    }
    let output = command.output().map_err(|error| LoadError::Build {
        reason: format!("could not run cargo: {error}"),
    })?;
    if !output.status.success() {
        return Err(LoadError::Build {
            reason: format!(
                "`cargo build -p {}` failed: {}",
                names.join(" -p "),
                String::from_utf8_lossy(&output.stderr).trim()
            ),
        });
    }
    let artifacts: Vec<PathBuf> = String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
        .filter(|message| message["reason"] == "compiler-artifact")
        .filter_map(|message| message["filenames"].as_array().cloned())
        .flatten()
        .filter_map(|f| f.as_str().map(PathBuf::from))
        .collect();
    for built in &names {
        let file = library_file_name(built);
        if let Some(path) = artifacts
            .iter()
            .find(|p| p.file_name().is_some_and(|n| n == file.as_str()))
        {
            cache.insert((*built).to_owned(), path.clone());
        }
    }
    cache.get(name).cloned().ok_or_else(|| LoadError::Build {
        reason: format!(
            "cargo built `{name}` but reported no {} (is it a cdylib?)",
            library_file_name(name)
        ),
    })
}

fn compiled_in_release() -> bool {
    !cfg!(debug_assertions)
}
