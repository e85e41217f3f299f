//! A fixture that cannot be used gets one clear error naming the file, the
//! line and what was expected; never a panic.

use cleardown_conformance::{
    fixture::parse,
    suite::{Suite, SuiteError},
};

/// Parses `source` as `bad.toml` and checks the error's line and that its
/// message contains `expected`.
fn check(source: &str, line: usize, expected: &str) {
    let error = parse("bad.toml", source).expect_err("the fixture is refused");
    assert_eq!(error.file, "bad.toml");
    assert_eq!(error.line, line, "line of: {error}");
    assert!(
        error.message.contains(expected),
        "`{}` should contain `{expected}`",
        error.message
    );
    let shown = error.to_string();
    assert!(shown.starts_with(&format!("bad.toml:{line}:")), "{shown}");
}

const HEAD: &str = "title = \"t\"\nrules = [\"D1\"]\n";

/// SPEC §10: a wire fixture shows the far-end view, so what the far end
/// must receive is judged for every provider, not only where wire text
/// is pinned.
#[test]
fn wire_fixture_without_far_end_view_is_refused() {
    check(
        &format!("{HEAD}wire = true\nsteps = [\n  {{ do = \"open\", line = \"main\" }},\n]\n"),
        4,
        "`wire = true` needs a `far_end` step",
    );
    let fine = format!(
        "{HEAD}wire = true\nsteps = [\n  {{ do = \"open\", line = \"main\" }},\n  {{ do = \"far_end\" }},\n]\n"
    );
    assert!(parse("ok.toml", &fine).is_ok());
}

#[test]
fn syntax_error_names_the_line() {
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"open\", line = \"main\" }},\n  {{ do = \"drop\" call = \"a\" }},\n]\n"
        ),
        5,
        "expected",
    );
}

#[test]
fn unknown_step_lists_the_known_ones() {
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"open\", line = \"main\" }},\n  {{ do = \"dorp\", call = \"a\" }},\n]\n"
        ),
        5,
        "unknown step `dorp`, expected one of `open`",
    );
    check(
        &format!("{HEAD}steps = [\n  {{ do = \"dorp\", call = \"a\" }},\n]\n"),
        4,
        "make_call",
    );
}

#[test]
fn unknown_or_missing_field_of_a_step() {
    check(
        &format!("{HEAD}steps = [\n  {{ do = \"open\", lines = \"main\" }},\n]\n"),
        4,
        "lines",
    );
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"make_call\", call = \"a\", line = \"main\" }},\n]\n"
        ),
        4,
        "missing field `to`",
    );
}

#[test]
fn alias_used_before_it_is_defined() {
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"open\", line = \"main\" }},\n  {{ do = \"drop\", call = \"a\" }},\n  {{ do = \"make_call\", call = \"a\", line = \"main\", to = \"x\" }},\n]\n"
        ),
        5,
        "call `a` is used before it is defined",
    );
}

#[test]
fn alias_defined_twice() {
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"make_call\", call = \"a\", line = \"main\", to = \"x\" }},\n  {{ do = \"far_offer\", call = \"a\", line = \"main\", from = \"y\" }},\n]\n"
        ),
        5,
        "call `a` is already defined",
    );
}

#[test]
fn undeclared_line() {
    check(
        &format!(
            "{HEAD}lines = {{ conf = [] }}\nsteps = [\n  {{ do = \"open\", line = \"main\" }},\n]\n"
        ),
        5,
        "line `main` is not declared; `lines` declares `conf`",
    );
}

#[test]
fn unknown_capability_in_requires_and_lines_and_profile() {
    check(
        &format!(
            "{HEAD}requires = [\"reject_by_drop\", \"conference\"]\nsteps = [{{ do = \"leaks\" }}]\n"
        ),
        3,
        "unknown capability `conference`",
    );
    check(
        &format!("{HEAD}requires = [\"uui_drop_size >= lots\"]\nsteps = [{{ do = \"leaks\" }}]\n"),
        3,
        "`lots` in `uui_drop_size >= lots` is not a number",
    );
    check(
        &format!(
            "{HEAD}lines = {{ main = [\"sharing == Party\"] }}\nsteps = [{{ do = \"leaks\" }}]\n"
        ),
        3,
        "unknown sharing `Party`",
    );
    check(
        &format!("{HEAD}profile = [\"other.conf_drop\"]\nsteps = [{{ do = \"leaks\" }}]\n"),
        3,
        "names line `other`, which `lines` does not define",
    );
}

#[test]
fn bad_values_in_steps() {
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"open\", line = \"main\", privilege = \"Boss\" }},\n]\n"
        ),
        4,
        "unknown privilege `Boss`; expected Owner or Monitor",
    );
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"make_call\", call = \"a\", line = \"main\", to = \"x\" }},\n  {{ do = \"drop\", call = \"a\", uui = \"04 6\" }},\n]\n"
        ),
        5,
        "odd number of digits",
    );
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"make_call\", call = \"a\", line = \"main\", to = \"x\" }},\n  {{ do = \"disconnect\", call = \"a\", code = \"Rude\" }},\n]\n"
        ),
        5,
        "unknown disconnect code `Rude`",
    );
    check(
        &format!("{HEAD}steps = [\n  {{ do = \"wait\", call = \"a\", state = \"Ringing\" }},\n]\n"),
        4,
        "unknown call state `Ringing`",
    );
}

#[test]
fn missing_keys_and_bad_rule_ids() {
    check(
        "rules = [\"D1\"]\nsteps = [{ do = \"leaks\" }]\n",
        1,
        "missing field `title`",
    );
    check(
        "title = \"t\"\nrules = [\"D1\", \"drop\"]\nsteps = [{ do = \"leaks\" }]\n",
        2,
        "`drop` is not a SPEC rule id",
    );
    check(
        "title = \"t\"\nrules = []\nsteps = [{ do = \"leaks\" }]\n",
        2,
        "`rules` is empty",
    );
    check(&format!("{HEAD}steps = []\n"), 3, "`steps` is empty");
    check(&format!("{HEAD}stepz = []\n"), 3, "unknown field `stepz`");
}

#[test]
fn not_toml_at_all() {
    check("\u{0}\u{1}binary", 1, "");
    check("", 1, "missing field");
}

#[test]
fn a_directory_with_a_bad_fixture_is_refused_whole() {
    let dir = std::env::temp_dir().join(format!("cleardown-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    std::fs::write(
        dir.join("good.toml"),
        format!("{HEAD}steps = [{{ do = \"leaks\" }}]\n"),
    )
    .expect("write");
    std::fs::write(dir.join("worse.toml"), "title = ").expect("write");
    let mut suite = Suite::empty();
    let error = suite.add_dir(&dir).expect_err("refused");
    assert!(
        matches!(error, SuiteError::Fixture(ref e) if e.file.ends_with("worse.toml") && e.line == 1),
        "{error}"
    );
    assert!(suite.entries.is_empty() || suite.entries.len() == 1);
    // A name the bundled suite already has collides.
    let mut bundled = Suite::bundled().expect("bundled");
    let taken = bundled.entries[0].fixture.name.clone();
    let clash = std::env::temp_dir().join(format!("cleardown-clash-{}", std::process::id()));
    std::fs::create_dir_all(&clash).expect("temp dir");
    std::fs::write(
        clash.join(format!("{taken}.toml")),
        format!("{HEAD}steps = [{{ do = \"leaks\" }}]\n"),
    )
    .expect("write");
    let error = bundled.add_dir(&clash).expect_err("refused");
    assert!(
        error.to_string().contains("already in the suite"),
        "{error}"
    );
    let _ = std::fs::remove_dir_all(dir);
    let _ = std::fs::remove_dir_all(clash);
}

/// Issue 16 (8): a `wait` that could hang a replay for ever is refused.
#[test]
fn a_wait_beyond_ten_minutes_is_refused() {
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"open\", line = \"main\" }},\n  {{ do = \"make_call\", call = \"a\", line = \"main\", to = \"x\" }},\n  {{ do = \"wait\", call = \"a\", state = \"Idle\", timeout_ms = 9223372036854775807 }},\n]\n"
        ),
        6,
        "a wait may take at most 600000 ms",
    );
}

/// Issue 16 (7): the error of the last of 40 000 steps names its line (the
/// line index answers every step's line without rescanning the source), and
/// a fixture past the size limit is refused saying so.
#[test]
fn long_fixtures_name_the_right_line_and_oversize_ones_the_limit() {
    let mut source = format!("{HEAD}steps = [\n  {{ do = \"open\", line = \"main\" }},\n");
    for _ in 0..40_000 {
        source.push_str("  { do = \"leaks\" },\n");
    }
    source.push_str("  { do = \"drop\", call = \"nobody\" },\n]\n");
    check(&source, 40_005, "nobody");
    let huge = format!(
        "{source}{}",
        " ".repeat(cleardown_conformance::fixture::MAX_FIXTURE_BYTES)
    );
    check(&huge, 1, "a fixture may be at most 16777216 bytes (16 MiB)");
}

/// Issue 16 (6, 7): what is not a regular file is refused before it is
/// read (a FIFO would block, a device never end).
#[test]
fn a_fixture_that_is_not_a_regular_file_is_refused() {
    for path in ["/dev/zero", "/"] {
        let error =
            cleardown_conformance::fixture::read(std::path::Path::new(path)).expect_err("refused");
        assert!(
            error.message.contains("not a regular file"),
            "{path}: {error}"
        );
    }
}

/// Issue 16 (10): a UUI that is neither hex nor a size keyword says so
/// (not "odd number of digits"), and `~` aliases are reserved for the
/// calls transcripts show unnamed.
#[test]
fn messages_say_what_is_wrong() {
    let call = "{ do = \"make_call\", call = \"a\", line = \"main\", to = \"x\" }";
    check(
        &format!(
            "{HEAD}steps = [\n  {call},\n  {{ do = \"drop\", call = \"a\", uui = \"max+100\" }},\n]\n"
        ),
        5,
        "uui `max+100`: `m` is not a hex digit, and `max+100` is no size keyword",
    );
    check(
        &format!(
            "{HEAD}steps = [\n  {{ do = \"make_call\", call = \"~1\", line = \"main\", to = \"x\" }},\n]\n"
        ),
        4,
        "aliases starting with `~` are reserved",
    );
}
