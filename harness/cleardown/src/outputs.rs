//! Output files a command writes after its run (`--junit`, `--summary`,
//! `--plot`, a saved baseline) are checked before the run: a path that
//! cannot be written is refused at once, not after minutes of measuring.

use std::path::Path;

/// Refuses `path` now if it cannot be written later: its directory is
/// created, and the file opened for appending (so an existing file is left
/// as it is); a file this check created is removed again.
pub(crate) fn check_file(path: &Path, what: &str) -> Result<(), String> {
    let refuse = |e: std::io::Error| format!("cannot write {what} {}: {e}", path.display());
    if path.is_dir() {
        return Err(format!(
            "cannot write {what} {}: it is a directory",
            path.display()
        ));
    }
    if let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(parent).map_err(refuse)?;
    }
    let existed = path.exists();
    std::fs::OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .map_err(refuse)?;
    if !existed {
        let _ = std::fs::remove_file(path);
    }
    Ok(())
}

/// Refuses directory `dir` now if files cannot be created in it later.
pub(crate) fn check_dir(dir: &Path, what: &str) -> Result<(), String> {
    let refuse = |e: std::io::Error| format!("cannot write {what} in {}: {e}", dir.display());
    std::fs::create_dir_all(dir).map_err(refuse)?;
    let probe = dir.join(format!(".cleardown-write-check-{}", std::process::id()));
    std::fs::write(&probe, b"").map_err(refuse)?;
    let _ = std::fs::remove_file(probe);
    Ok(())
}
