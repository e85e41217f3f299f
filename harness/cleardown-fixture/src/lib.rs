//! The fixture format: one scenario per TOML file.
//!
//! ```toml
//! title = "Dropping a conference parent drops every party"
//! rules = ["C1", "D4"]
//! requires = ["uui_drop_size >= 4"]     # gates: skipped unless all hold
//! profile = ["conf.conf_drop"]          # one snapshot per value
//! lines = { conf = [] }                 # line aliases and their conditions
//! steps = [
//!   { do = "open", line = "conf" },
//!   { do = "make_call", call = "a", line = "conf", to = "alice" },
//!   { do = "far_answer", call = "a" },
//!   { do = "drop", call = "a", uui = "04 68 69" },
//!   { do = "deallocate", call = "a" },
//! ]
//! ```
//!
//! Parsing checks everything that can be checked without a provider: the
//! syntax, every step's name and fields, the conditions, and that every call
//! alias is defined before it is used. Errors name the file, the line and
//! what was expected.

use std::{
    collections::{BTreeMap, HashSet},
    fmt,
    ops::Range,
};

use cleardown_contract::{Capabilities, DisconnectCode, Privilege};
use serde::Deserialize;

mod gate;

pub use gate::{Condition, FEATURE_CONDITIONS, Flag, LineCondition, Number, Op, ProfileKey, flag};
use gate::{parse_condition, parse_line_condition, parse_profile_key};

/// A fixture that cannot be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{file}:{line}:{column}: {message}")]
pub struct FixtureError {
    /// The fixture's file, as given.
    pub file: String,
    /// 1-based line of the offending text.
    pub line: usize,
    /// 1-based column.
    pub column: usize,
    /// What is wrong and what was expected.
    pub message: String,
}

/// A parsed, checked fixture.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// The file stem: the fixture's name in reports and snapshot names.
    pub name: String,
    /// The file, as given (for messages).
    pub file: String,
    /// One line saying what the scenario shows.
    pub title: String,
    /// The SPEC rules it covers.
    pub rules: Vec<String>,
    /// Provider-level gates.
    pub requires: Vec<Condition>,
    /// The capabilities whose values select the snapshot.
    pub profile: Vec<ProfileKey>,
    /// Also snapshot what went over the wire (the `wire` text of every
    /// signal the far end received), per provider: that text is the
    /// provider's own (a SIP BYE, an ISDN release), never neutral.
    pub wire: bool,
    /// Line aliases, in order, with the conditions their address must meet.
    pub lines: Vec<(String, Vec<LineCondition>)>,
    /// The steps, each with its 1-based source line.
    pub steps: Vec<(usize, Step)>,
}

/// A UUI payload in a step: hex bytes, or sized from the declaration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Uui {
    /// Literal bytes.
    Bytes(Vec<u8>),
    /// `max`: exactly `uui_drop_size` bytes of the test pattern.
    Max,
    /// `max+1`: one byte more than declared.
    OverMax,
    /// `received_max`: exactly `uui_received_size` bytes of the test
    /// pattern, the most the far end's UUI the provider keeps (U5).
    ReceivedMax,
}

impl Uui {
    /// The bytes this payload stands for against a provider declaring
    /// `caps`: what the replay sends and the oracle expects.
    pub fn bytes(&self, caps: &Capabilities) -> Vec<u8> {
        match self {
            Uui::Bytes(bytes) => bytes.clone(),
            Uui::Max => uui_pattern(caps.uui_drop_size as usize),
            Uui::OverMax => uui_pattern(caps.uui_drop_size as usize + 1),
            Uui::ReceivedMax => uui_pattern(caps.uui_received_size as usize),
        }
    }

    /// Whether its length is taken from the declaration.
    pub fn is_sized(&self) -> bool {
        !matches!(self, Uui::Bytes(_))
    }
}

/// The test pattern `max` and `max+1` UUI is made of: the IA5 protocol
/// discriminator, then bytes that make truncation and reordering visible.
pub fn uui_pattern(len: usize) -> Vec<u8> {
    (0..len)
        .map(|i| if i == 0 { 0x04 } else { (i * 37 + 11) as u8 })
        .collect()
}

/// One step of a scenario. App-side steps act as `app` ("app" unless
/// named); far-end steps (`far_*`, `station`, `advance`) play the other side.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Step {
    Open {
        app: String,
        line: String,
        privilege: Privilege,
    },
    Close {
        app: String,
        line: String,
    },
    MakeCall {
        app: String,
        call: String,
        line: String,
        to: String,
    },
    /// answer, accept, hold, unhold.
    Simple {
        app: String,
        op: SimpleOp,
        call: String,
    },
    /// setup_conference or setup_transfer.
    Setup {
        app: String,
        transfer: bool,
        call: String,
        consult: String,
        to: String,
    },
    AddToConference {
        app: String,
        call: String,
        consult: String,
        conference: Option<String>,
    },
    CompleteTransfer {
        app: String,
        call: String,
        consult: String,
    },
    Drop {
        app: String,
        call: String,
        uui: Uui,
    },
    Disconnect {
        app: String,
        call: String,
        code: DisconnectCode,
        /// As a drop's: sent with the rejection or release (SPEC R3).
        uui: Uui,
    },
    Deallocate {
        app: String,
        call: String,
    },
    Info {
        app: String,
        call: String,
    },
    Leaks,
    FarOffer {
        call: String,
        line: String,
        from: String,
        uui: Uui,
        /// `(station line, alias)`: the call's appearance at another
        /// station, named as it shows up with this step (BridgedShared).
        appearances: Vec<(String, String)>,
    },
    FarAlert {
        call: String,
    },
    FarAnswer {
        call: String,
        /// As for `FarOffer`: the appearances the answer shows at other
        /// stations.
        appearances: Vec<(String, String)>,
    },
    FarHangUp {
        call: String,
        cause: u32,
        uui: Uui,
    },
    Station {
        line: String,
        off_hook: bool,
        call: Option<String>,
    },
    Advance {
        ms: u64,
    },
    FarEnd,
    /// Stop reading events after steps until `resume_events` (D10, T4: what
    /// an app that frees a handle before reading its queue sees).
    PauseEvents,
    /// Read every app's events now and after every later step again.
    ResumeEvents,
    Wait {
        app: String,
        call: String,
        state: String,
        timeout_ms: u64,
    },
}

/// The app operations that take a call and nothing else.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SimpleOp {
    Answer,
    Accept,
    Hold,
    Unhold,
}

impl fmt::Display for SimpleOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SimpleOp::Answer => "answer",
            SimpleOp::Accept => "accept",
            SimpleOp::Hold => "hold",
            SimpleOp::Unhold => "unhold",
        })
    }
}

/// `deallocate`'s `call` for every handle the app holds that the fixture
/// has seen: the usual last step.
pub const ALL_CALLS: &str = "*";

/// The default app's name.
pub const DEFAULT_APP: &str = "app";
/// How long a `wait` step waits unless it says.
pub const DEFAULT_WAIT_MS: u64 = 5_000;

/// The longest `wait` a fixture may ask for: a bound on how long a replay
/// can hang on one step.
pub const MAX_WAIT_MS: u64 = 600_000;

// ---- the TOML shape ----

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFixture {
    title: toml::Spanned<String>,
    rules: toml::Spanned<Vec<toml::Spanned<String>>>,
    #[serde(default)]
    requires: Vec<toml::Spanned<String>>,
    #[serde(default)]
    profile: Vec<toml::Spanned<String>>,
    #[serde(default)]
    lines: Option<toml::Spanned<toml::Table>>,
    #[serde(default)]
    wire: bool,
    // Each step is read as a table first, so an error inside one is
    // reported at that step's line, not at the start of the list.
    steps: toml::Spanned<Vec<toml::Spanned<toml::Table>>>,
}

fn default_app() -> String {
    DEFAULT_APP.to_owned()
}

fn default_cause() -> u32 {
    16
}

#[derive(Deserialize)]
#[serde(tag = "do", rename_all = "snake_case", deny_unknown_fields)]
enum RawStep {
    Open {
        line: String,
        #[serde(default = "default_app")]
        app: String,
        #[serde(default)]
        privilege: Option<String>,
    },
    Close {
        line: String,
        #[serde(default = "default_app")]
        app: String,
    },
    MakeCall {
        call: String,
        line: String,
        to: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Answer {
        call: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Accept {
        call: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Hold {
        call: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Unhold {
        call: String,
        #[serde(default = "default_app")]
        app: String,
    },
    SetupConference {
        call: String,
        consult: String,
        to: String,
        #[serde(default = "default_app")]
        app: String,
    },
    SetupTransfer {
        call: String,
        consult: String,
        to: String,
        #[serde(default = "default_app")]
        app: String,
    },
    AddToConference {
        call: String,
        consult: String,
        #[serde(default)]
        conference: Option<String>,
        #[serde(default = "default_app")]
        app: String,
    },
    CompleteTransfer {
        call: String,
        consult: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Drop {
        call: String,
        #[serde(default)]
        uui: Option<String>,
        #[serde(default = "default_app")]
        app: String,
    },
    Disconnect {
        call: String,
        code: String,
        #[serde(default)]
        uui: Option<String>,
        #[serde(default = "default_app")]
        app: String,
    },
    Deallocate {
        call: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Info {
        call: String,
        #[serde(default = "default_app")]
        app: String,
    },
    Leaks {},
    FarOffer {
        call: String,
        line: String,
        from: String,
        #[serde(default)]
        uui: Option<String>,
        #[serde(default)]
        appearances: BTreeMap<String, String>,
    },
    FarAlert {
        call: String,
    },
    FarAnswer {
        call: String,
        #[serde(default)]
        appearances: BTreeMap<String, String>,
    },
    FarHangUp {
        call: String,
        #[serde(default = "default_cause")]
        cause: u32,
        #[serde(default)]
        uui: Option<String>,
    },
    Station {
        line: String,
        hook: String,
        #[serde(default)]
        call: Option<String>,
    },
    Advance {
        ms: u64,
    },
    FarEnd {},
    PauseEvents {},
    ResumeEvents {},
    Wait {
        call: String,
        state: String,
        #[serde(default = "default_app")]
        app: String,
        #[serde(default)]
        timeout_ms: Option<u64>,
    },
}

/// Parses and checks a fixture. `file` is used in messages and its stem
/// names the fixture.
pub fn parse(file: &str, source: &str) -> Result<Fixture, FixtureError> {
    if source.len() > MAX_FIXTURE_BYTES {
        return Err(FixtureError {
            file: file.to_owned(),
            line: 1,
            column: 1,
            message: too_large(source.len() as u64),
        });
    }
    let index = LineIndex::new(source);
    let at = |span: Option<Range<usize>>, message: String| {
        let (line, column) = span.map_or((1, 1), |s| index.line_col(s.start));
        FixtureError {
            file: file.to_owned(),
            line,
            column,
            message,
        }
    };
    let raw: RawFixture =
        toml::from_str(source).map_err(|e| at(e.span(), clean_toml_message(e.message())))?;
    let name = std::path::Path::new(file)
        .file_stem()
        .map_or_else(|| file.to_owned(), |s| s.to_string_lossy().into_owned());

    let mut rules = Vec::new();
    for rule in raw.rules.get_ref() {
        if !is_rule_id(rule.get_ref()) {
            return Err(at(
                Some(rule.span()),
                format!(
                    "`{}` is not a SPEC rule id; expected a letter and a number, e.g. `D3`",
                    rule.get_ref()
                ),
            ));
        }
        rules.push(rule.get_ref().clone());
    }
    if rules.is_empty() {
        return Err(at(
            Some(raw.rules.span()),
            "`rules` is empty; name the SPEC rules this fixture covers".to_owned(),
        ));
    }

    let requires = raw
        .requires
        .iter()
        .map(|c| parse_condition(c.get_ref()).map_err(|m| at(Some(c.span()), m)))
        .collect::<Result<Vec<_>, _>>()?;

    let mut lines = Vec::new();
    match &raw.lines {
        None => lines.push(("main".to_owned(), Vec::new())),
        Some(table) => {
            for (alias, conditions) in table.get_ref() {
                let span = Some(table.span());
                let Some(list) = conditions.as_array() else {
                    return Err(at(
                        span,
                        format!(
                            "line `{alias}` must be a list of conditions, e.g. `{alias} = [\"conf_drop\"]`"
                        ),
                    ));
                };
                let mut parsed = Vec::new();
                for condition in list {
                    let Some(text) = condition.as_str() else {
                        return Err(at(span, format!("line `{alias}`: conditions are strings")));
                    };
                    parsed.push(
                        parse_line_condition(text)
                            .map_err(|m| at(span.clone(), format!("line `{alias}`: {m}")))?,
                    );
                }
                lines.push((alias.clone(), parsed));
            }
        }
    }
    let line_names: HashSet<&str> = lines.iter().map(|(n, _)| n.as_str()).collect();

    let profile = raw
        .profile
        .iter()
        .map(|key| {
            parse_profile_key(key.get_ref(), &line_names).map_err(|m| at(Some(key.span()), m))
        })
        .collect::<Result<Vec<_>, _>>()?;

    let mut steps = Vec::new();
    let mut calls: HashSet<String> = HashSet::new();
    for raw_step in raw.steps.get_ref() {
        let span = raw_step.span();
        let line = index.line_col(span.start).0;
        let raw: RawStep =
            raw_step
                .get_ref()
                .clone()
                .try_into()
                .map_err(|e: toml::de::Error| {
                    at(Some(span.clone()), clean_toml_message(e.message()))
                })?;
        let step = convert(&raw).map_err(|m| at(Some(span.clone()), m))?;
        check_names(&step, &line_names, &mut calls).map_err(|m| at(Some(span.clone()), m))?;
        steps.push((line, step));
    }
    if steps.is_empty() {
        return Err(at(
            Some(raw.steps.span()),
            "`steps` is empty; a fixture needs at least one step".to_owned(),
        ));
    }
    if raw.wire && !steps.iter().any(|(_, step)| *step == Step::FarEnd) {
        return Err(at(
            Some(raw.steps.span()),
            "`wire = true` needs a `far_end` step: the wire text is each provider's own and judged only once its author pins it, so what SPEC §10 fixes (signal, cause, UUI bytes) must be in the transcript, for every provider".to_owned(),
        ));
    }
    Ok(Fixture {
        name,
        file: file.to_owned(),
        title: raw.title.into_inner(),
        rules,
        requires,
        profile,
        wire: raw.wire,
        lines,
        steps,
    })
}

fn clean_toml_message(message: &str) -> String {
    // serde calls a step name a variant; say what it is to a fixture author.
    message
        .trim()
        .replace("unknown variant", "unknown step")
        .replace("missing field `do`", "missing field `do` (the step's name)")
}

/// The largest fixture `parse` reads: 16 MiB, some 200 000 steps, far
/// beyond any scenario a person writes or exploration shrinks to.
pub const MAX_FIXTURE_BYTES: usize = 16 * 1024 * 1024;

fn too_large(bytes: u64) -> String {
    format!(
        "the fixture is {bytes} bytes; a fixture may be at most {MAX_FIXTURE_BYTES} bytes (16 MiB)"
    )
}

/// Reads the fixture at `path` for [`parse`]: a regular file (not a FIFO or
/// a device, which could block or never end) of at most
/// [`MAX_FIXTURE_BYTES`], read no further than that.
pub fn read(path: &std::path::Path) -> Result<String, FixtureError> {
    use std::io::Read as _;
    let error = |message: String| FixtureError {
        file: path.display().to_string(),
        line: 1,
        column: 1,
        message,
    };
    let metadata = std::fs::metadata(path).map_err(|e| error(format!("cannot read it: {e}")))?;
    if !metadata.is_file() {
        return Err(error(
            "not a regular file; a fixture is a TOML file".to_owned(),
        ));
    }
    let file = std::fs::File::open(path).map_err(|e| error(format!("cannot read it: {e}")))?;
    let mut bytes = Vec::new();
    file.take(MAX_FIXTURE_BYTES as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| error(format!("cannot read it: {e}")))?;
    if bytes.len() > MAX_FIXTURE_BYTES {
        return Err(error(too_large(metadata.len().max(bytes.len() as u64))));
    }
    String::from_utf8(bytes).map_err(|e| error(format!("not UTF-8 text: {e}")))
}

/// Where each line of a source starts, so that an offset's line and column
/// cost a binary search, not a scan of everything before it (a fixture of
/// 40 000 steps asks for 40 000 of them).
struct LineIndex {
    starts: Vec<usize>,
}

impl LineIndex {
    fn new(source: &str) -> LineIndex {
        let starts = std::iter::once(0)
            .chain(source.match_indices('\n').map(|(at, _)| at + 1))
            .collect();
        LineIndex { starts }
    }

    /// 1-based line and column (in bytes) of `offset`.
    fn line_col(&self, offset: usize) -> (usize, usize) {
        let line = self.starts.partition_point(|start| *start <= offset);
        (line, offset - self.starts[line - 1] + 1)
    }
}

/// `D3`, `B5`, `X2`: an upper-case letter and a number.
pub fn is_rule_id(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && !chars.as_str().is_empty()
        && chars.all(|c| c.is_ascii_digit())
}

fn parse_uui(text: Option<&str>) -> Result<Uui, String> {
    let Some(text) = text else {
        return Ok(Uui::Bytes(Vec::new()));
    };
    match text.trim() {
        "max" => Ok(Uui::Max),
        "max+1" => Ok(Uui::OverMax),
        "received_max" => Ok(Uui::ReceivedMax),
        hex => {
            const FORMS: &str =
                "expected hex bytes like \"04 68 69\", \"max\", \"max+1\" or \"received_max\"";
            if let Some(bad) = hex
                .chars()
                .find(|c| !c.is_ascii_hexdigit() && !c.is_whitespace())
            {
                return Err(format!(
                    "uui `{hex}`: `{bad}` is not a hex digit, and `{hex}` is no size keyword; {FORMS}"
                ));
            }
            let digits: String = hex.chars().filter(|c| !c.is_whitespace()).collect();
            cleardown_contract::hex_bytes::decode(&digits)
                .map(Uui::Bytes)
                .map_err(|e| {
                    format!("uui: {e}; expected hex bytes like \"04 68 69\", \"max\", \"max+1\" or \"received_max\"")
                })
        }
    }
}

fn parse_privilege(text: Option<&str>) -> Result<Privilege, String> {
    match text {
        None | Some("Owner") => Ok(Privilege::Owner),
        Some("Monitor") => Ok(Privilege::Monitor),
        Some(other) => Err(format!(
            "unknown privilege `{other}`; expected Owner or Monitor"
        )),
    }
}

fn parse_code(text: &str) -> Result<DisconnectCode, String> {
    DisconnectCode::ALL
        .iter()
        .copied()
        .find(|c| c.name() == text)
        .ok_or_else(|| {
            format!("unknown disconnect code `{text}`; expected Normal, NoAnswer, Rejected or Busy")
        })
}

/// The state names a `wait` step may wait for.
pub fn is_state_name(text: &str) -> bool {
    cleardown_contract::CallState::ALL
        .iter()
        .any(|s| s.name() == text)
}

fn convert(raw: &RawStep) -> Result<Step, String> {
    let simple = |op, call: &String, app: &String| Step::Simple {
        app: app.clone(),
        op,
        call: call.clone(),
    };
    Ok(match raw {
        RawStep::Open {
            line,
            app,
            privilege,
        } => Step::Open {
            app: app.clone(),
            line: line.clone(),
            privilege: parse_privilege(privilege.as_deref())?,
        },
        RawStep::Close { line, app } => Step::Close {
            app: app.clone(),
            line: line.clone(),
        },
        RawStep::MakeCall {
            call,
            line,
            to,
            app,
        } => Step::MakeCall {
            app: app.clone(),
            call: call.clone(),
            line: line.clone(),
            to: to.clone(),
        },
        RawStep::Answer { call, app } => simple(SimpleOp::Answer, call, app),
        RawStep::Accept { call, app } => simple(SimpleOp::Accept, call, app),
        RawStep::Hold { call, app } => simple(SimpleOp::Hold, call, app),
        RawStep::Unhold { call, app } => simple(SimpleOp::Unhold, call, app),
        RawStep::SetupConference {
            call,
            consult,
            to,
            app,
        }
        | RawStep::SetupTransfer {
            call,
            consult,
            to,
            app,
        } => Step::Setup {
            app: app.clone(),
            transfer: matches!(raw, RawStep::SetupTransfer { .. }),
            call: call.clone(),
            consult: consult.clone(),
            to: to.clone(),
        },
        RawStep::AddToConference {
            call,
            consult,
            conference,
            app,
        } => Step::AddToConference {
            app: app.clone(),
            call: call.clone(),
            consult: consult.clone(),
            conference: conference.clone(),
        },
        RawStep::CompleteTransfer { call, consult, app } => Step::CompleteTransfer {
            app: app.clone(),
            call: call.clone(),
            consult: consult.clone(),
        },
        RawStep::Drop { call, uui, app } => Step::Drop {
            app: app.clone(),
            call: call.clone(),
            uui: parse_uui(uui.as_deref())?,
        },
        RawStep::Disconnect {
            call,
            code,
            uui,
            app,
        } => Step::Disconnect {
            app: app.clone(),
            call: call.clone(),
            code: parse_code(code)?,
            uui: parse_uui(uui.as_deref())?,
        },
        RawStep::Deallocate { call, app } => Step::Deallocate {
            app: app.clone(),
            call: call.clone(),
        },
        RawStep::Info { call, app } => Step::Info {
            app: app.clone(),
            call: call.clone(),
        },
        RawStep::Leaks {} => Step::Leaks,
        RawStep::FarOffer {
            call,
            line,
            from,
            uui,
            appearances,
        } => Step::FarOffer {
            call: call.clone(),
            line: line.clone(),
            from: from.clone(),
            uui: parse_uui(uui.as_deref())?,
            appearances: pairs(appearances),
        },
        RawStep::FarAlert { call } => Step::FarAlert { call: call.clone() },
        RawStep::FarAnswer { call, appearances } => Step::FarAnswer {
            call: call.clone(),
            appearances: pairs(appearances),
        },
        RawStep::FarHangUp { call, cause, uui } => Step::FarHangUp {
            call: call.clone(),
            cause: *cause,
            uui: parse_uui(uui.as_deref())?,
        },
        RawStep::Station { line, hook, call } => Step::Station {
            line: line.clone(),
            off_hook: match hook.as_str() {
                "off" => true,
                "on" => false,
                other => {
                    return Err(format!(
                        "unknown hook `{other}`; expected \"off\" or \"on\""
                    ));
                }
            },
            call: call.clone(),
        },
        RawStep::Advance { ms } => Step::Advance { ms: *ms },
        RawStep::FarEnd {} => Step::FarEnd,
        RawStep::PauseEvents {} => Step::PauseEvents,
        RawStep::ResumeEvents {} => Step::ResumeEvents,
        RawStep::Wait {
            call,
            state,
            app,
            timeout_ms,
        } => {
            if !is_state_name(state) {
                return Err(format!(
                    "unknown call state `{state}`; expected a TAPI state name such as Offering, Connected, Disconnected or Idle"
                ));
            }
            if let Some(ms) = timeout_ms.filter(|ms| *ms > MAX_WAIT_MS) {
                return Err(format!(
                    "`timeout_ms = {ms}` is too long; a wait may take at most {MAX_WAIT_MS} ms (10 minutes)"
                ));
            }
            Step::Wait {
                app: app.clone(),
                call: call.clone(),
                state: state.clone(),
                timeout_ms: timeout_ms.unwrap_or(DEFAULT_WAIT_MS),
            }
        }
    })
}

/// Checks that every line alias is declared and every call alias is defined
/// before use; records the aliases a step defines.
fn check_names(
    step: &Step,
    lines: &HashSet<&str>,
    calls: &mut HashSet<String>,
) -> Result<(), String> {
    let line = |name: &str| {
        if lines.contains(name) {
            Ok(())
        } else {
            let mut known: Vec<&&str> = lines.iter().collect();
            known.sort();
            Err(format!(
                "line `{name}` is not declared; `lines` declares {}",
                known
                    .iter()
                    .map(|n| format!("`{n}`"))
                    .collect::<Vec<_>>()
                    .join(", ")
            ))
        }
    };
    let used = |calls: &HashSet<String>, name: &str| {
        if calls.contains(name) {
            Ok(())
        } else {
            Err(format!(
                "call `{name}` is used before it is defined; a call alias is defined by make_call, far_offer, setup_conference/setup_transfer (consult), add_to_conference (conference), station (call) or wait"
            ))
        }
    };
    let define = |calls: &mut HashSet<String>, name: &str| {
        if name.starts_with('~') {
            return Err(format!(
                "call alias `{name}`: aliases starting with `~` are reserved for the calls a fixture does not name (`~1`, `~2`… in transcripts); pick another"
            ));
        }
        if calls.insert(name.to_owned()) {
            Ok(())
        } else {
            Err(format!(
                "call `{name}` is already defined; pick a new alias"
            ))
        }
    };
    match step {
        Step::Open { line: l, .. } | Step::Close { line: l, .. } => line(l),
        Step::MakeCall { call, line: l, .. } => {
            line(l)?;
            define(calls, call)
        }
        Step::FarOffer {
            call,
            line: l,
            appearances,
            ..
        } => {
            line(l)?;
            define(calls, call)?;
            for (station, alias) in appearances {
                line(station)?;
                define(calls, alias)?;
            }
            Ok(())
        }
        Step::FarAnswer { call, appearances } => {
            used(calls, call)?;
            for (station, alias) in appearances {
                line(station)?;
                define(calls, alias)?;
            }
            Ok(())
        }
        Step::Setup { call, consult, .. } => {
            used(calls, call)?;
            define(calls, consult)
        }
        Step::AddToConference {
            call,
            consult,
            conference,
            ..
        } => {
            used(calls, call)?;
            used(calls, consult)?;
            match conference {
                Some(name) if !calls.contains(name) => define(calls, name),
                _ => Ok(()),
            }
        }
        Step::CompleteTransfer { call, consult, .. } => {
            used(calls, call)?;
            used(calls, consult)
        }
        Step::Deallocate { call, .. } if call == ALL_CALLS => Ok(()),
        Step::Simple { call, .. }
        | Step::Drop { call, .. }
        | Step::Disconnect { call, .. }
        | Step::Deallocate { call, .. }
        | Step::Info { call, .. }
        | Step::FarAlert { call }
        | Step::FarHangUp { call, .. } => used(calls, call),
        Step::Station { line: l, call, .. } => {
            line(l)?;
            match call {
                Some(name) => define(calls, name),
                None => Ok(()),
            }
        }
        Step::Wait { call, .. } => {
            // A wait may name a call that appears on its own (an inbound
            // call on a real network): the first new call to reach the state.
            calls.insert(call.clone());
            Ok(())
        }
        Step::Leaks
        | Step::Advance { .. }
        | Step::FarEnd
        | Step::PauseEvents
        | Step::ResumeEvents => Ok(()),
    }
}

/// A fixture's `appearances` table as `(station line, alias)` pairs, in
/// line order.
fn pairs(table: &BTreeMap<String, String>) -> Vec<(String, String)> {
    table
        .iter()
        .map(|(line, alias)| (line.clone(), alias.clone()))
        .collect()
}
