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
//! 3. the directory of the running executable (an installed or copied
//!    `cleardown` with its plugins beside it).

use std::{
    collections::HashMap,
    ffi::OsString,
    path::PathBuf,
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
    let built = std::env::var_os("CARGO").map(|cargo| built_by_cargo(&cargo, name));
    if let Some(Ok(path)) = built {
        return Ok(path);
    }
    let beside_exe = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|dir| dir.join(&file)));
    match (beside_exe, built) {
        (Some(path), _) if path.is_file() => Ok(path),
        (_, Some(Err(build_error))) => Err(build_error),
        _ => Err(LoadError::NotFound {
            path: PathBuf::from(format!(
                "{file} (searched ${PLUGIN_DIR_VAR} and the executable's directory)"
            )),
        }),
    }
}

/// Builds plugin crate `name` with the cargo that runs us and returns the
/// library cargo reports. Memoised per process: one build per name. A
/// bundled name builds every bundled plugin in the same cargo run, so a
/// cold run over all of them compiles them side by side, once.
fn built_by_cargo(cargo: &OsString, name: &str) -> Result<PathBuf, LoadError> {
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
    if let Some(dir) = std::env::var_os("CARGO_MANIFEST_DIR") {
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
