//! `cleardown bench`: the drop-cascade benchmark (SPEC C1) as a provider
//! author runs it. Small sizes and few samples; no test looks at how long
//! anything took, only at what was printed and written and the exit status.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use crate::{check_refused, cleardown, scratch, stderr, stdout};

/// `cleardown bench --plugin pbx-sim --sizes 1,10 --samples 3` with
/// baselines and plot in `dir`, plus `extra`.
fn bench(dir: &Path, extra: &[&str]) -> Output {
    let mut args = vec![
        "bench",
        "--plugin",
        "pbx-sim",
        "--sizes",
        "1,10",
        "--samples",
        "3",
        "--baseline-dir",
        dir.to_str().expect("utf-8"),
    ];
    args.extend_from_slice(extra);
    cleardown(&args)
}

fn exit(output: &Output, code: i32) {
    assert_eq!(
        output.status.code(),
        Some(code),
        "stdout:\n{}\nstderr:\n{}",
        stdout(output),
        stderr(output)
    );
}

fn json(output: &Output) -> serde_json::Value {
    serde_json::from_slice(&output.stdout).expect("stdout is one JSON document")
}

fn baseline_file(dir: &Path, name: &str) -> PathBuf {
    dir.join(format!("{name}.json"))
}

fn edit_baseline(dir: &Path, name: &str, edit: impl FnOnce(&mut serde_json::Value)) {
    let path = baseline_file(dir, name);
    let mut value: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("baseline saved"))
            .expect("baseline is JSON");
    edit(&mut value);
    std::fs::write(&path, value.to_string()).expect("write baseline");
}

#[test]
fn c1_bench_prints_latency_per_n_and_per_call() {
    let dir = scratch("bench-table");
    let output = bench(&dir, &[]);
    exit(&output, 0);
    let text = stdout(&output);
    let lines: Vec<&str> = text.lines().collect();
    assert!(
        lines[0].starts_with("pbx-sim 0.1.0 (config default), conference drop on ext-100: 3 samples per N after 1 warm-up"),
        "{text}"
    );
    let header: Vec<&str> = lines[1].split_whitespace().collect();
    assert_eq!(
        header,
        ["N", "calls", "median", "min", "p90", "MAD", "per", "call"]
    );
    // N, then the calls the drop affects: one for a lone call, N + 1 for a
    // conference; then five durations with their units.
    for (line, (n, calls)) in lines[2..4].iter().zip([("1", "1"), ("10", "11")]) {
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells[..2], [n, calls], "{line}");
        assert_eq!(cells.len(), 2 + 2 * 5, "{line}");
        for unit in cells[2..].iter().skip(1).step_by(2) {
            assert!(["ns", "µs", "ms", "s"].contains(unit), "{line}");
        }
    }
    assert!(
        text.contains(&format!("plot: {}", dir.join("latency.svg").display())),
        "{text}"
    );
    // Not a terminal: no progress bar at all (issue 16, item 11; the bar
    // on a terminal is checked in `progress_bars_on_a_terminal_…`).
    assert_eq!(stderr(&output), "");

    let quiet = bench(&dir, &["--quiet"]);
    exit(&quiet, 0);
    assert_eq!(stderr(&quiet), "");
}

#[test]
fn c1_bench_json_is_machine_readable() {
    let dir = scratch("bench-json");
    let output = bench(&dir, &["--format", "json", "--sizes", "10,1,10"]);
    exit(&output, 0);
    let report = json(&output);
    assert_eq!(report["schema"], "cleardown-bench/1");
    assert_eq!(report["provider"]["name"], "pbx-sim");
    assert_eq!(report["provider"]["address"], "ext-100");
    assert_eq!(report["provider"]["config"], "");
    assert_eq!(report["samples"], 3);
    assert_eq!(report["warmup"], 1);
    assert_eq!(report["comparison"], serde_json::Value::Null);
    assert_eq!(report["saved_baseline"], serde_json::Value::Null);
    let plot = report["plot"].as_str().expect("plot path");
    assert!(Path::new(plot).is_file(), "{plot}");
    let sizes = report["sizes"].as_array().expect("sizes");
    // Ascending, each size once.
    let ns: Vec<u64> = sizes.iter().map(|s| s["n"].as_u64().expect("n")).collect();
    assert_eq!(ns, [1, 10]);
    for (size, calls) in sizes.iter().zip([1, 11]) {
        let get = |field: &str| size[field].as_u64().expect(field);
        assert_eq!(get("calls"), calls);
        assert!(get("min_ns") <= get("median_ns"), "{size}");
        assert!(get("median_ns") <= get("p90_ns"), "{size}");
        assert!(get("p90_ns") <= get("max_ns"), "{size}");
        assert_eq!(get("per_call_ns"), get("median_ns") / calls);
        let _ = get("mad_ns");
        assert_eq!(size["samples_ns"].as_array().map(Vec::len), Some(3));
    }
}

#[test]
fn bench_baseline_saved_then_compared() {
    let dir = scratch("bench-baseline");
    let saved = bench(&dir, &["--save-baseline", "before", "--quiet"]);
    exit(&saved, 0);
    let file = baseline_file(&dir, "before");
    assert!(
        stdout(&saved).contains(&format!("baseline saved: {}", file.display())),
        "{}",
        stdout(&saved)
    );
    let baseline: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&file).expect("saved")).expect("JSON");
    assert_eq!(baseline["schema"], "cleardown-bench-baseline/1");
    assert_eq!(baseline["name"], "before");
    assert_eq!(baseline["provider"]["name"], "pbx-sim");
    assert_eq!(baseline["provider"]["version"], "0.1.0");
    assert_eq!(baseline["provider"]["config"], "");
    assert_eq!(baseline["sizes"][1]["n"], 10);
    assert!(baseline["sizes"][1]["median_ns"].is_u64());

    // Any machine is within a factor of ten thousand of itself.
    let compared = bench(
        &dir,
        &["--baseline", "before", "--threshold", "1000000", "--quiet"],
    );
    exit(&compared, 0);
    let text = stdout(&compared);
    assert!(
        text.contains(
            "compared with baseline `before` (pbx-sim 0.1.0, config default), threshold 1000000%:"
        ),
        "{text}"
    );
    assert!(text.contains("no regression"), "{text}");
    assert!(!text.contains("REGRESSED"), "{text}");
}

#[test]
fn bench_regression_beyond_the_threshold_exits_1_naming_n() {
    let dir = scratch("bench-regression");
    exit(&bench(&dir, &["--save-baseline", "tiny", "--quiet"]), 0);
    // A baseline no real run can match: every median 1 ns.
    edit_baseline(&dir, "tiny", |b| {
        for size in b["sizes"].as_array_mut().expect("sizes") {
            size["median_ns"] = 1.into();
        }
    });
    // Compared, then saved: both flags at once.
    let output = bench(
        &dir,
        &[
            "--baseline",
            "tiny",
            "--threshold",
            "10",
            "--save-baseline",
            "after",
        ],
    );
    exit(&output, 1);
    let text = stdout(&output);
    for n in ["1", "10"] {
        let row = text
            .lines()
            .skip_while(|l| !l.starts_with("compared with baseline `tiny`"))
            .find(|l| l.split_whitespace().next() == Some(n))
            .unwrap_or_else(|| panic!("no comparison row for N={n}:\n{text}"));
        assert!(row.contains("1 ns") && row.ends_with("REGRESSED"), "{row}");
    }
    let verdict = text
        .lines()
        .find(|l| l.starts_with("regression: "))
        .unwrap_or_else(|| panic!("no verdict:\n{text}"));
    assert!(verdict.contains("N=1 +"), "{verdict}");
    assert!(verdict.contains("N=10 +"), "{verdict}");
    assert!(
        verdict.ends_with("slower than baseline `tiny` by more than 10%"),
        "{verdict}"
    );
    assert!(
        baseline_file(&dir, "after").is_file(),
        "saved after comparing"
    );
    // The plot shows the baseline, dashed.
    let svg = std::fs::read_to_string(dir.join("latency.svg")).expect("plot");
    assert!(svg.contains("stroke-dasharray"), "{svg}");
    assert!(svg.contains("baseline `tiny`"), "{svg}");

    // The same in JSON: the comparison in the document, the verdict on stderr.
    let output = bench(&dir, &["--baseline", "tiny", "--format", "json", "--quiet"]);
    exit(&output, 1);
    let report = json(&output);
    let comparison = &report["comparison"];
    assert_eq!(comparison["baseline"], "tiny");
    assert_eq!(comparison["threshold_pct"], 10.0);
    for change in comparison["sizes"].as_array().expect("sizes") {
        assert_eq!(change["baseline_ns"], 1);
        assert_eq!(change["regressed"], true);
        assert!(change["change_pct"].as_f64().expect("pct") > 10.0);
    }
    assert!(
        stderr(&output).contains("regression: N=1 +"),
        "{}",
        stderr(&output)
    );
}

#[test]
fn bench_baseline_errors_exit_2_with_one_line() {
    let dir = scratch("bench-baseline-errors");
    let d = dir.to_str().expect("utf-8");
    let args = |extra: &'static [&'static str]| {
        let mut args = vec![
            "bench",
            "--plugin",
            "pbx-sim",
            "--sizes",
            "1,10",
            "--samples",
            "2",
            "--baseline-dir",
            d,
        ];
        args.extend_from_slice(extra);
        args
    };
    check_refused(
        &args(&["--baseline", "nope"]),
        &format!("no baseline `nope` in {d} (save one with --save-baseline nope)"),
    );
    exit(&bench(&dir, &["--save-baseline", "good", "--quiet"]), 0);
    check_refused(
        &[
            "bench",
            "--plugin",
            "pbx-sim",
            "--sizes",
            "1,100",
            "--baseline-dir",
            d,
            "--baseline",
            "good",
        ],
        "baseline `good` has sizes 1,10, this run 1,100 (run with --sizes 1,10)",
    );
    std::fs::copy(baseline_file(&dir, "good"), baseline_file(&dir, "other"))
        .expect("copy baseline");
    edit_baseline(&dir, "other", |b| b["provider"]["name"] = "sip".into());
    check_refused(
        &args(&["--baseline", "other"]),
        "baseline `other` measured provider sip, this run pbx-sim",
    );
    std::fs::write(baseline_file(&dir, "garbage"), "{\"schema\": ").expect("write");
    check_refused(
        &args(&["--baseline", "garbage"]),
        "is not a cleardown bench baseline",
    );
    check_refused(&args(&["--baseline", "../escape"]), "baseline name");
    check_refused(&args(&["--save-baseline", "a/b"]), "baseline name");
    check_refused(
        &args(&["--baseline", "good", "--threshold=-5"]),
        "--threshold must be a percentage",
    );
}

#[test]
fn c1_bench_needs_conf_drop() {
    let dir = scratch("bench-no-conf-drop");
    let d = dir.to_str().expect("utf-8");
    check_refused(
        &["bench", "--plugin", "analog-bridge", "--baseline-dir", d],
        "analog-bridge: declares conf_drop on none of its addresses (station-1, station-2, station-3)",
    );
    // pbx-sim with conf_drop off on ext-100 has none either.
    check_refused(
        &[
            "bench",
            "--plugin",
            "pbx-sim",
            "--config",
            "conf_drop=off",
            "--baseline-dir",
            d,
        ],
        "pbx-sim: declares conf_drop on none of its addresses (ext-100, ext-200)",
    );
    assert!(!dir.join("latency.svg").exists(), "no plot without a run");
}

#[test]
fn c1_d4_a_cascade_missing_an_event_is_an_error_not_a_number() {
    let dir = scratch("bench-mutant");
    let d = dir.to_str().expect("utf-8");
    let mutant = cleardown_host::locate::find("mutant-provider").expect("mutant-provider builds");
    let pbx = cleardown_host::locate::find("pbx-sim").expect("pbx-sim builds");
    let mutant = mutant.to_str().expect("utf-8");
    let config = |name: &str| format!("mutant={name};inner={}", pbx.display());
    // The control measures.
    let none = config("none");
    let output = cleardown(&[
        "bench",
        "--plugin",
        mutant,
        "--config",
        &none,
        "--sizes",
        "1,10",
        "--samples",
        "2",
        "--baseline-dir",
        d,
        "--quiet",
    ]);
    exit(&output, 0);
    // One Idle swallowed: the lone call's at N=1, a party's at N=10.
    let skip = config("skip_child_event");
    for (sizes, words) in [
        (
            "1",
            "N=1: the drop of the call gave 0 CallState events before its Reply, an Idle for 0 of the 1 calls; SPEC C1 and D4",
        ),
        (
            "10",
            "N=10: the drop of the conference parent gave 10 CallState events before its Reply, an Idle for 10 of the 11 calls; SPEC C1 and D4",
        ),
    ] {
        check_refused(
            &[
                "bench",
                "--plugin",
                mutant,
                "--config",
                &skip,
                "--sizes",
                sizes,
                "--baseline-dir",
                d,
            ],
            words,
        );
    }
    // No Reply at all: named after D3 once the timeout passes.
    let no_reply = config("no_reply");
    check_refused(
        &[
            "bench",
            "--plugin",
            mutant,
            "--config",
            &no_reply,
            "--sizes",
            "10",
            "--timeout",
            "0.2",
            "--baseline-dir",
            d,
        ],
        "N=10: no Reply to the drop of the conference parent within 200ms (SPEC D3",
    );
}

#[test]
fn bench_usage_and_load_errors_exit_2_with_one_line() {
    let dir = scratch("bench-usage");
    let d = dir.to_str().expect("utf-8");
    check_refused(&["bench"], "--plugin <NAME|PATH>");
    check_refused(
        &["bench", "--plugin", "pbx-sim", "--sizes", "1,0"],
        "`0` is not a size in 1..=100000",
    );
    check_refused(
        &["bench", "--plugin", "pbx-sim", "--sizes", "100001"],
        "`100001` is not a size in 1..=100000",
    );
    check_refused(
        &["bench", "--plugin", "pbx-sim", "--samples", "0"],
        "`0` is not a count of 1 or more",
    );
    check_refused(
        &[
            "bench",
            "--plugin",
            "pbx-sim",
            "--plot",
            "x.svg",
            "--no-plot",
        ],
        "cannot be used with",
    );
    check_refused(
        &[
            "bench",
            "--plugin",
            "/nonexistent/libx.so",
            "--baseline-dir",
            d,
        ],
        "/nonexistent/libx.so: no such file",
    );
    check_refused(
        &[
            "bench",
            "--plugin",
            "pbx-sim",
            "--config",
            "uui=500",
            "--baseline-dir",
            d,
        ],
        "pbx-sim: refused its configuration \"uui=500\"",
    );
}

#[test]
fn bench_writes_a_well_formed_svg_plot_by_default_under_target() {
    let dir = scratch("bench-plot");
    // No --baseline-dir: baselines and the plot go to target/cleardown-bench
    // under the current directory.
    let output = Command::new(env!("CARGO_BIN_EXE_cleardown"))
        .current_dir(&dir)
        .args([
            "bench",
            "--plugin",
            "pbx-sim",
            "--sizes",
            "1,10,100",
            "--samples",
            "2",
            "--quiet",
            "--save-baseline",
            "here",
        ])
        .output()
        .expect("cleardown runs");
    exit(&output, 0);
    let out = dir.join("target/cleardown-bench");
    assert!(out.join("here.json").is_file());
    let svg = std::fs::read_to_string(out.join("latency.svg")).expect("plot written");
    let root = well_formed(&svg).unwrap_or_else(|e| panic!("not well-formed XML: {e}\n{svg}"));
    assert_eq!(root.name, "svg");
    for attribute in ["width", "height", "viewBox", "xmlns"] {
        assert!(root.attributes.contains_key(attribute), "{attribute}");
    }
    assert_eq!(root.attributes["xmlns"], "http://www.w3.org/2000/svg");
    // One point per N with its numbers, a line through them, labelled axes.
    assert_eq!(svg.matches("<circle ").count(), 3, "{svg}");
    assert!(svg.contains("<title>N=100: median "), "{svg}");
    assert!(svg.contains("<polyline "), "{svg}");
    assert!(svg.contains("conference size N (parties; log scale)"));
    assert!(svg.contains("latency (ns, µs, ms; log scale)"));
    assert!(svg.contains("median per affected call"));

    // --plot puts it elsewhere, creating directories; --no-plot writes none.
    let elsewhere = dir.join("plots/deep/cascade.svg");
    let output = bench(
        &dir,
        &["--quiet", "--plot", elsewhere.to_str().expect("utf-8")],
    );
    exit(&output, 0);
    well_formed(&std::fs::read_to_string(&elsewhere).expect("plot")).expect("well-formed");
    let bare = scratch("bench-no-plot");
    exit(&bench(&bare, &["--quiet", "--no-plot"]), 0);
    assert!(!bare.join("latency.svg").exists());
}

/// The root element of a well-formed XML document.
struct Element {
    name: String,
    attributes: std::collections::HashMap<String, String>,
}

/// A small XML 1.0 well-formedness check, enough for generated documents:
/// an optional `<?xml …?>` declaration, one root element, every tag closed
/// in order, attributes quoted and unique, no `<` in attribute values,
/// only the five predefined entities and character references, no stray
/// `&`, nothing but whitespace outside the root.
fn well_formed(text: &str) -> Result<Element, String> {
    let mut rest = text;
    if let Some(after) = rest.strip_prefix("<?xml") {
        let end = after.find("?>").ok_or("unterminated XML declaration")?;
        rest = &after[end + 2..];
    }
    let mut stack: Vec<String> = Vec::new();
    let mut root: Option<Element> = None;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            check_text(rest, !stack.is_empty())?;
            break;
        };
        check_text(&rest[..lt], !stack.is_empty())?;
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            let end = after.find("-->").ok_or("unterminated comment")?;
            rest = &after[end + 3..];
            continue;
        }
        let gt = tag_end(rest).ok_or("unterminated tag")?;
        let tag = &rest[1..gt];
        rest = &rest[gt + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            let name = name.trim_end();
            match stack.pop() {
                Some(open) if open == name => {}
                other => return Err(format!("</{name}> closes {other:?}")),
            }
            continue;
        }
        let (body, empty) = match tag.strip_suffix('/') {
            Some(body) => (body, true),
            None => (tag, false),
        };
        let element = parse_tag(body)?;
        if stack.is_empty() {
            if root.is_some() {
                return Err(format!("a second root element <{}>", element.name));
            }
            if !empty {
                stack.push(element.name.clone());
            }
            root = Some(element);
        } else if !empty {
            stack.push(element.name);
        }
    }
    if let Some(open) = stack.pop() {
        return Err(format!("<{open}> is never closed"));
    }
    root.ok_or_else(|| "no root element".to_owned())
}

/// The index of the `>` ending the tag at the start of `text`, skipping
/// quoted attribute values.
fn tag_end(text: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in text.char_indices().skip(1) {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

fn parse_tag(body: &str) -> Result<Element, String> {
    let is_name = |s: &str| {
        !s.is_empty()
            && s.chars()
                .next()
                .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
            && s.chars()
                .all(|c| c.is_alphanumeric() || matches!(c, '_' | ':' | '-' | '.'))
    };
    let name_end = body.find(|c: char| c.is_whitespace()).unwrap_or(body.len());
    let name = &body[..name_end];
    if !is_name(name) {
        return Err(format!("bad element name {name:?}"));
    }
    let mut attributes = std::collections::HashMap::new();
    let mut rest = body[name_end..].trim_start();
    while !rest.is_empty() {
        let eq = rest
            .find('=')
            .ok_or_else(|| format!("attribute without value in <{name}>"))?;
        let key = rest[..eq].trim();
        if !is_name(key) {
            return Err(format!("bad attribute name {key:?} in <{name}>"));
        }
        let after = rest[eq + 1..].trim_start();
        let quote = after
            .chars()
            .next()
            .filter(|c| matches!(c, '"' | '\''))
            .ok_or_else(|| format!("unquoted attribute {key} in <{name}>"))?;
        let close = after[1..]
            .find(quote)
            .ok_or_else(|| format!("unterminated attribute {key} in <{name}>"))?;
        let value = &after[1..1 + close];
        if value.contains('<') {
            return Err(format!("`<` in attribute {key} of <{name}>"));
        }
        check_entities(value)?;
        if attributes
            .insert(key.to_owned(), value.to_owned())
            .is_some()
        {
            return Err(format!("attribute {key} twice in <{name}>"));
        }
        let next = &after[1 + close + 1..];
        if !next.is_empty() && !next.starts_with(char::is_whitespace) {
            return Err(format!("no space after attribute {key} in <{name}>"));
        }
        rest = next.trim_start();
    }
    Ok(Element {
        name: name.to_owned(),
        attributes,
    })
}

fn check_text(text: &str, inside_root: bool) -> Result<(), String> {
    if !inside_root && !text.trim().is_empty() {
        return Err(format!("text outside the root element: {text:?}"));
    }
    if text.contains("]]>") {
        return Err("`]]>` in text".to_owned());
    }
    check_entities(text)
}

fn check_entities(text: &str) -> Result<(), String> {
    let mut rest = text;
    while let Some(amp) = rest.find('&') {
        let after = &rest[amp + 1..];
        let semi = after
            .find(';')
            .ok_or_else(|| format!("stray `&` in {text:?}"))?;
        let entity = &after[..semi];
        let ok = matches!(entity, "amp" | "lt" | "gt" | "quot" | "apos")
            || entity
                .strip_prefix("#x")
                .is_some_and(|h| !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()))
            || entity
                .strip_prefix('#')
                .is_some_and(|d| !d.is_empty() && d.chars().all(|c| c.is_ascii_digit()));
        if !ok {
            return Err(format!("unknown entity &{entity}; in {text:?}"));
        }
        rest = &after[semi + 1..];
    }
    Ok(())
}

#[test]
fn the_xml_check_catches_what_it_should() {
    assert!(
        well_formed("<?xml version=\"1.0\"?>\n<svg a=\"1\"><g/><text>x &amp; y</text></svg>\n")
            .is_ok()
    );
    for bad in [
        "<svg><g></svg>",
        "<svg></svg><svg></svg>",
        "<svg a=1></svg>",
        "<svg a=\"1\" a=\"2\"></svg>",
        "<svg a=\"<\"></svg>",
        "<svg>a & b</svg>",
        "<svg>&nbsp;</svg>",
        "<svg>",
        "text<svg/>",
        "",
    ] {
        assert!(well_formed(bad).is_err(), "{bad:?} passed");
    }
}

/// Runs `cleardown ARGS` on a pseudo-terminal (util-linux `script`), so
/// stderr is a terminal; returns everything the terminal got.
fn on_a_terminal(args: &str) -> String {
    let command = format!("{} {args}", env!("CARGO_BIN_EXE_cleardown"));
    let output = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("script (util-linux) runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stdout)
    );
    String::from_utf8_lossy(&output.stdout).into_owned()
}

/// Issue 16 (11): on a terminal, `bench` and `conformance` draw a bar with
/// the elapsed time and an ETA, and clear it when done, so the results are
/// printed once, not after lines that repeat them.
#[test]
fn progress_bars_on_a_terminal_show_elapsed_and_eta_and_are_cleared() {
    let dir = scratch("bench-terminal");
    let shown = on_a_terminal(&format!(
        "bench --plugin pbx-sim --sizes 1,10 --samples 20 --plot {}",
        dir.join("p.svg").display()
    ));
    assert!(shown.contains("/42 samples, ETA "), "{shown}");
    assert_eq!(
        shown.matches("      N   calls").count(),
        1,
        "the table once: {shown}"
    );
    assert!(
        !shown.contains("N=1: median"),
        "no per-N lines above it: {shown}"
    );
    let table = shown.find("      N   calls").expect("the table");
    let last_frame = shown.rfind("samples, ETA").expect("a frame");
    assert!(last_frame < table, "the bar ends before the table: {shown}");

    let shown = on_a_terminal("conformance --plugin pbx-sim --scenarios 50");
    assert!(shown.contains("runs, ETA "), "{shown}");
    let totals = shown.find("1 target(s): ").expect("the totals");
    assert!(
        shown.rfind("runs, ETA").expect("a frame") < totals,
        "{shown}"
    );
    let _ = std::fs::remove_dir_all(dir);
}
