//! The guide (`docs/guide.md`) cannot rot (issue 17): every command in its
//! `sh` blocks is run, in order, in a scratch directory, with `cleardown`
//! the binary under test; each must exit 0, or the `# exit N` it says.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::scratch;

/// The words of a command line, with `"…"` quoting (what the guide uses).
fn words(line: &str) -> Vec<String> {
    let (mut out, mut word, mut quoted, mut any) = (Vec::new(), String::new(), false, false);
    for c in line.chars() {
        match c {
            '"' => {
                quoted = !quoted;
                any = true;
            }
            c if c.is_whitespace() && !quoted => {
                if any {
                    out.push(std::mem::take(&mut word));
                    any = false;
                }
            }
            c => {
                word.push(c);
                any = true;
            }
        }
    }
    assert!(!quoted, "an unclosed quote in `{line}`");
    if any {
        out.push(word);
    }
    out
}

/// Every command of the guide's `sh` blocks: its line number, its words,
/// and the exit status it is due.
fn commands(guide: &str) -> Vec<(usize, Vec<String>, i32)> {
    let mut out = Vec::new();
    let mut inside = false;
    for (index, line) in guide.lines().enumerate() {
        if line.trim_start().starts_with("```") {
            inside = !inside && line.trim() == "```sh";
            continue;
        }
        if !inside || line.trim().is_empty() {
            continue;
        }
        let (command, comment) = line.split_once(" # ").unwrap_or((line, ""));
        let exit = comment
            .trim()
            .strip_prefix("exit ")
            .map_or(0, |n| n.parse().expect("`# exit N`"));
        out.push((index + 1, words(command), exit));
    }
    out
}

#[test]
fn every_command_of_the_guide_runs_as_it_says() {
    let guide_path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/guide.md");
    let guide = std::fs::read_to_string(&guide_path).expect("docs/guide.md");
    let commands = commands(&guide);
    assert!(commands.len() >= 10, "the guide's commands: {commands:?}");
    let dir = scratch("guide");
    let mut cwd: PathBuf = dir.clone();
    for (line, words, due) in commands {
        let shown = words.join(" ");
        let (program, args) = words.split_first().expect("a command");
        if program == "cd" {
            cwd = cwd.join(&args[0]);
            assert!(
                cwd.is_dir(),
                "docs/guide.md:{line}: `{shown}`: no such directory"
            );
            continue;
        }
        let program = match program.as_str() {
            "cleardown" => PathBuf::from(env!("CARGO_BIN_EXE_cleardown")),
            "cargo" => PathBuf::from(env!("CARGO")),
            other => panic!("docs/guide.md:{line}: `{other}` is not a command this test runs"),
        };
        let output = Command::new(program)
            .args(args)
            .current_dir(&cwd)
            .env("CLEARDOWN", env!("CARGO_BIN_EXE_cleardown"))
            .env_remove("CARGO_TARGET_DIR")
            .output()
            .expect("runs");
        assert_eq!(
            output.status.code(),
            Some(due),
            "docs/guide.md:{line}: `{shown}`:\n{}\n{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        if words[..2] == ["cleardown", "new"] {
            // The workspace's lock file: the same dependency versions,
            // already downloaded, so no registry access is needed.
            let made = cwd.join(&words[4]);
            std::fs::copy(
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../Cargo.lock"),
                made.join("Cargo.lock"),
            )
            .expect("lock file");
        }
    }
    let _ = std::fs::remove_dir_all(dir);
}
