//! The `cleardown` command as a provider author runs it: exit status, output,
//! and one-line errors (SPEC L1, L2); the conformance suite end to end, its
//! isolation of crashing providers, the mutation proof, and the cascade
//! benchmark.

mod bench;
mod conformance;
mod explore;
mod external;
mod far_end;
mod guide;
mod install;
mod interop;
mod isolation;
mod junit;
mod lossy;
mod mutants;
mod new;
mod torture;

use std::process::{Command, Output};

fn cleardown(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_cleardown"))
        .args(args)
        .output()
        .expect("cleardown runs")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// Runs `args`, expects exit 2 and one line on stderr containing `words`.
fn check_refused(args: &[&str], words: &str) {
    let output = cleardown(args);
    assert_eq!(
        output.status.code(),
        Some(2),
        "{args:?}: {}",
        stderr(&output)
    );
    let err = stderr(&output);
    assert_eq!(
        err.trim_end().lines().count(),
        1,
        "{args:?}: one line: {err}"
    );
    assert!(err.contains(words), "{args:?}: {err}");
}

#[test]
fn l2_inspect_prints_every_declared_capability() {
    let output = cleardown(&["inspect", "pbx-sim"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for line in [
        "name:              pbx-sim",
        "contract:          1.2 (negotiated 1.2)",
        "config:            (default)",
        "uui_drop_size:     128",
        "reject_by_drop:    yes",
        "close_drop:        yes",
        "far_causes:        yes",
        "uui_received_size: 128",
        "hang_up_delay_ms:  0 (signalled at once)",
        "0  ext-100      sharing=Private          conf_drop=yes features=accept,answer,drop,hold,unhold,setup_conference,add_to_conference,setup_transfer,complete_transfer",
        "1  ext-200      sharing=Private          conf_drop=no  features=accept,",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
}

#[test]
fn l2_inspect_shows_what_an_analog_line_can_do() {
    let output = cleardown(&[
        "inspect",
        "analog-bridge",
        "--config",
        "sharing=exclusive;stations=2",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for line in [
        "name:              analog-bridge",
        "uui_drop_size:     0",
        "reject_by_drop:    no",
        "close_drop:        no",
        "far_causes:        no",
        "uui_received_size: 0",
        "hang_up_delay_ms:  0 (signalled at once)",
        "0  station-1    sharing=BridgedExclusive conf_drop=no  features=accept,answer,drop",
        "1  station-2    sharing=BridgedExclusive conf_drop=no  features=accept,answer,drop",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    assert!(!text.contains("station-3"), "{text}");
    check_refused(
        &["inspect", "analog-bridge", "--config", "sharing=party"],
        "sharing",
    );
}

#[test]
fn l2_inspect_shows_what_the_sip_line_can_do() {
    let output = cleardown(&["inspect", "sip"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let text = stdout(&output);
    for line in [
        "name:              sip",
        "uui_drop_size:     128",
        "reject_by_drop:    yes",
        "close_drop:        yes",
        "0  line-1       sharing=Private          conf_drop=no  features=accept,answer,drop",
    ] {
        assert!(text.contains(line), "missing {line:?} in:\n{text}");
    }
    check_refused(
        &["inspect", "sip", "--config", "transport=udp;bind=nowhere"],
        "bind",
    );
}

#[test]
fn l2_l3_inspect_json_with_a_configuration() {
    let output = cleardown(&[
        "inspect",
        "pbx-sim",
        "--config",
        "reject_by_drop=off;uui=0",
        "--json",
    ]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let json: serde_json::Value = serde_json::from_slice(&output.stdout).expect("valid JSON");
    assert_eq!(json["name"], "pbx-sim");
    assert_eq!(
        json["contract"],
        serde_json::json!({"major": 1, "minor": 2})
    );
    // Call features by name, as the text output and the conformance report
    // name them: everything the contract has.
    assert_eq!(
        json["capabilities"]["addresses"][0]["features"],
        serde_json::json!([
            "accept",
            "answer",
            "drop",
            "hold",
            "unhold",
            "setup_conference",
            "add_to_conference",
            "setup_transfer",
            "complete_transfer"
        ])
    );
    assert_eq!(json["capabilities"]["reject_by_drop"], false);
    assert_eq!(json["capabilities"]["uui_drop_size"], 0);
    // Contract 1.2: the far end's UUI is kept whatever the drop size.
    assert_eq!(json["capabilities"]["far_causes"], true);
    assert_eq!(json["capabilities"]["uui_received_size"], 128);
    assert_eq!(json["capabilities"]["hang_up_delay_ms"], 0);
    assert_eq!(json["capabilities"]["addresses"][0]["sharing"], "Private");
    assert_eq!(json["config"], "reject_by_drop=off;uui=0");
}

#[test]
fn providers_lists_the_bundled_ones() {
    let output = cleardown(&["providers"]);
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    assert!(
        stdout(&output).starts_with("pbx-sim"),
        "{}",
        stdout(&output)
    );
    let json = cleardown(&["providers", "--json"]);
    let list: serde_json::Value = serde_json::from_slice(&json.stdout).expect("valid JSON");
    assert_eq!(list[0]["name"], "pbx-sim");
}

#[test]
fn l1_load_errors_exit_2_with_one_line() {
    let dir = std::env::temp_dir().join(format!("cleardown-cli-tests-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch");
    let text = dir.join("libnotes.so");
    std::fs::write(&text, "not a library\n").expect("write");
    check_refused(
        &["inspect", text.to_str().expect("utf-8")],
        "not a loadable dynamic library",
    );
    check_refused(&["inspect", "/nonexistent/libx.so"], "no such file");
    check_refused(
        &["inspect", "no-such-provider"],
        "no bundled provider named `no-such-provider`",
    );
    check_refused(
        &["inspect", "pbx-sim", "--config", "uui=500"],
        "pbx-sim: refused its configuration \"uui=500\"",
    );
}

/// Issue 16 (6, 10): what is not a regular file is refused before it is
/// opened (a FIFO would block `open`, a device never end), and a symlink
/// loop is not "no such file".
#[test]
fn l1_what_is_not_a_regular_file_is_refused_saying_what_it_is() {
    let dir = scratch("not-files");
    let fifo = dir.join("libfifo.so");
    let made = Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .expect("mkfifo runs");
    assert!(made.success(), "mkfifo");
    let (a, b) = (dir.join("liba.so"), dir.join("libb.so"));
    std::os::unix::fs::symlink(&b, &a).expect("symlink");
    std::os::unix::fs::symlink(&a, &b).expect("symlink");
    for (path, words) in [
        (
            "/dev/zero".to_owned(),
            "not a regular file but a character device",
        ),
        (fifo.display().to_string(), "not a regular file but a FIFO"),
        (
            dir.display().to_string(),
            "not a regular file but a directory",
        ),
        (a.display().to_string(), "Too many levels of symbolic links"),
    ] {
        check_refused(&["inspect", &path], words);
        let fixture = concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../fixtures/d5-drop-held-and-inbound-calls-go-idle.toml"
        );
        check_refused(&["replay", fixture, "--plugin", &path], words);
    }
    let _ = std::fs::remove_dir_all(dir);
}

/// Issue 16 (4): every numeric flag is range-checked by clap, so an
/// absurd value is a usage error naming the range, never a panic.
#[test]
fn numeric_flags_out_of_range_are_usage_errors() {
    for (args, words) in [
        (
            &["conformance", "--timeout", "1e300"][..],
            "a number of seconds above 0",
        ),
        (
            &["conformance", "--timeout", "0"],
            "a number of seconds above 0",
        ),
        (
            &["conformance", "--timeout", "NaN"],
            "a number of seconds above 0",
        ),
        (
            &["conformance", "--settle-ms", "18446744073709551615"],
            "0..=600000",
        ),
        (
            &["conformance", "--jobs", "0"],
            "a number of jobs of 1 to 256",
        ),
        (&["conformance", "--scenarios", "0"], "1..=1000000"),
        (
            &["bench", "--plugin", "pbx-sim", "--timeout", "1e20"],
            "a number of seconds above 0",
        ),
        (
            &["bench", "--plugin", "pbx-sim", "--samples", "99999999999"],
            "a count of 1 or more (at most 100000)",
        ),
        (
            &["bench", "--plugin", "pbx-sim", "--warmup", "99999999999"],
            "a count of 0 or more (at most 100000)",
        ),
        (
            &[
                "bench",
                "--plugin",
                "pbx-sim",
                "--baseline",
                "b",
                "--threshold",
                "inf",
            ],
            "a percentage of 0 to 1000000",
        ),
        (
            &["bench", "--plugin", "pbx-sim", "--sizes", "0"],
            "not a size",
        ),
        (
            &[
                "replay",
                "f.toml",
                "--plugin",
                "pbx-sim",
                "--settle-ms",
                "1e9",
            ],
            "invalid value",
        ),
    ] {
        check_refused(args, words);
    }
}

#[test]
fn usage_errors_exit_2_with_one_line() {
    check_refused(
        &["inspect"],
        "required arguments were not provided: <PROVIDER>",
    );
    check_refused(&["frobnicate"], "unrecognized subcommand 'frobnicate'");
    check_refused(
        &["inspect", "pbx-sim", "--colour"],
        "unexpected argument '--colour'",
    );
    let help = cleardown(&["--help"]);
    assert_eq!(help.status.code(), Some(0));
    assert!(stdout(&help).contains("inspect"), "{}", stdout(&help));
}

fn scratch(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("cleardown-cli-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// A copy of the pbx-sim library in `dir`, returned as its path.
fn pbx_sim_in(dir: &std::path::Path) -> std::path::PathBuf {
    plugin_in(dir, "pbx-sim")
}

/// A copy of plugin `name`'s library in `dir`, returned as its path.
fn plugin_in(dir: &std::path::Path, name: &str) -> std::path::PathBuf {
    let built = cleardown_host::locate::find(name).expect("the plugin builds");
    let copy = dir.join(cleardown_host::locate::library_file_name(name));
    std::fs::copy(built, &copy).expect("copy plugin");
    copy
}

/// Runs `command inspect pbx-sim` and checks it loaded the library at `plugin`.
fn check_inspect_loads(mut command: Command, plugin: &std::path::Path) {
    let output = command.args(["inspect", "pbx-sim"]).output().expect("runs");
    assert_eq!(output.status.code(), Some(0), "{}", stderr(&output));
    let library = stdout(&output)
        .lines()
        .find(|l| l.starts_with("library:"))
        .unwrap_or_default()
        .to_owned();
    assert_eq!(library, format!("library:           {}", plugin.display()));
}

#[test]
fn an_installed_cleardown_finds_plugins_beside_itself() {
    let dir = scratch("installed");
    let exe = dir.join("cleardown");
    std::fs::copy(env!("CARGO_BIN_EXE_cleardown"), &exe).expect("copy binary");
    let plugin = pbx_sim_in(&dir);
    // No cargo in sight: what a provider author's CI has after an install.
    let mut command = Command::new(&exe);
    command
        .env_remove("CARGO")
        .env_remove("CARGO_MANIFEST_DIR")
        .env_remove(cleardown_host::locate::PLUGIN_DIR_VAR);
    check_inspect_loads(command, &plugin);
}

#[test]
fn the_plugin_dir_variable_is_searched_first() {
    let dir = scratch("plugin-dir");
    let plugin = pbx_sim_in(&dir);
    let mut command = Command::new(env!("CARGO_BIN_EXE_cleardown"));
    command.env(cleardown_host::locate::PLUGIN_DIR_VAR, &dir);
    check_inspect_loads(command, &plugin);
}

/// Issue 16 (10): control characters from a configuration string never
/// reach the terminal raw (an escape sequence could rewrite it): they are
/// shown as `\u{…}` in the report and in the one-line error.
#[test]
fn control_characters_from_a_config_are_shown_escaped() {
    let output = cleardown(&[
        "conformance",
        "--plugin",
        "pbx-sim",
        "--config",
        "\u{1b}[2J\u{7}=1",
        "--no-explore",
    ]);
    assert_eq!(output.status.code(), Some(2), "{}", stderr(&output));
    for text in [stdout(&output), stderr(&output)] {
        assert!(
            !text.contains('\u{1b}') && !text.contains('\u{7}'),
            "{text:?}"
        );
        assert!(text.contains("\\u{1b}[2J\\u{7}"), "{text}");
    }
    assert_eq!(stderr(&output).trim_end().lines().count(), 1);
}

/// Issue 16 (9): an output that cannot be written is refused before the
/// run (nothing measured, nothing printed), not found after it.
#[test]
fn unwritable_outputs_are_refused_before_running() {
    let dir = scratch("unwritable");
    let file = dir.join("a-file");
    std::fs::write(&file, "").expect("write");
    // A path under a regular file can never be created, even as root.
    let under = |name: &str| file.join(name).display().to_string();
    for (args, words) in [
        (
            vec![
                "conformance".to_owned(),
                "--junit".to_owned(),
                under("r.xml"),
            ],
            "cannot write the JUnit report",
        ),
        (
            vec![
                "bench".into(),
                "--plugin".into(),
                "pbx-sim".into(),
                "--plot".into(),
                under("p.svg"),
            ],
            "cannot write the plot",
        ),
        (
            vec![
                "bench".into(),
                "--plugin".into(),
                "pbx-sim".into(),
                "--save-baseline".into(),
                "main".into(),
                "--baseline-dir".into(),
                under("baselines"),
            ],
            "cannot write the baseline",
        ),
    ] {
        let borrowed: Vec<&str> = args.iter().map(String::as_str).collect();
        let output = cleardown(&borrowed);
        assert_eq!(
            output.status.code(),
            Some(2),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stderr(&output).contains(words),
            "{args:?}: {}",
            stderr(&output)
        );
        assert!(
            stdout(&output).is_empty(),
            "{args:?} ran: {}",
            stdout(&output)
        );
    }
    let _ = std::fs::remove_dir_all(dir);
}
