//! The configuration string (SPEC L3): how many stations the card has, how
//! they share the loop, and how it notices that the far end hung up.

use cleardown_sdk::config::ConfigReader;

/// Every key, in the order error messages list them.
const KEYS: &[&str] = &["stations", "sharing", "supervision", "tone_ms"];

/// The most stations one card bridges.
pub(crate) const MAX_STATIONS: u32 = 8;

/// The longest tone-detection delay, in milliseconds.
pub(crate) const MAX_TONE_MS: u64 = 60_000;

/// How the stations share the loop (SPEC §6).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// One loop; every station has an appearance of its call and may bridge
    /// in (BridgedShared: B1, B2, B3).
    Shared,
    /// One loop; the call belongs to the station that took it, the others
    /// cannot barge in (BridgedExclusive: B4).
    Exclusive,
    /// One loop; a station going off-hook while it is busy gets a new call
    /// of its own (BridgedNew: B4).
    New,
    /// A loop per station: independent lines (Private).
    Private,
}

/// The capability profile a configuration string selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    /// Stations `station-1` … `station-N`, addresses 0 … N-1.
    pub(crate) stations: u32,
    /// How they share the loop.
    pub(crate) mode: Mode,
    /// Disconnect supervision: the far end hanging up drops loop current,
    /// which the card sees at once (SPEC S3, Disconnected/Normal).
    pub(crate) supervision: bool,
    /// Without supervision, how long after the far end hung up the card
    /// recognises reorder or busy tone (Disconnected/Unknown).
    pub(crate) tone_ms: u64,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            stations: 3,
            mode: Mode::Shared,
            supervision: true,
            tone_ms: 4000,
        }
    }
}

impl Config {
    /// Parses `key=value` pairs separated by `;` (an empty string is the
    /// defaults); anything not understood is an error naming the text.
    pub(crate) fn parse(text: &str) -> Result<Config, String> {
        let read = ConfigReader::new("analog-bridge");
        let mut config = Config::default();
        for (key, value) in read.pairs(text, "sharing=exclusive")? {
            match key {
                "stations" => {
                    config.stations =
                        read.number(key, value, 1..=MAX_STATIONS, "a station count")?;
                }
                "sharing" => {
                    config.mode = read.choice(
                        key,
                        value,
                        &[
                            ("shared", Mode::Shared),
                            ("exclusive", Mode::Exclusive),
                            ("new", Mode::New),
                            ("private", Mode::Private),
                        ],
                    )?;
                }
                "supervision" => config.supervision = read.on_off(key, value)?,
                "tone_ms" => {
                    config.tone_ms = read.number(key, value, 1..=MAX_TONE_MS, "milliseconds")?;
                }
                _ => return Err(read.unknown(key, KEYS)),
            }
        }
        Ok(config)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(stations: u32, mode: Mode, supervision: bool, tone_ms: u64) -> Config {
        Config {
            stations,
            mode,
            supervision,
            tone_ms,
        }
    }

    /// SPEC L3: accepted forms and what they select.
    #[test]
    fn l3_good_configurations() {
        let cases = [
            ("", Config::default()),
            ("  ;  ", Config::default()),
            ("sharing=exclusive", config(3, Mode::Exclusive, true, 4000)),
            ("sharing=new", config(3, Mode::New, true, 4000)),
            ("sharing = private ;", config(3, Mode::Private, true, 4000)),
            (
                " stations=1; sharing=shared ;supervision=off;tone_ms=1",
                config(1, Mode::Shared, false, 1),
            ),
            (
                "tone_ms=60000;stations=8;supervision=on",
                config(8, Mode::Shared, true, 60_000),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Config::parse(text), Ok(expected), "{text:?}");
        }
    }

    /// SPEC L3: every malformed form is refused with a sentence naming the
    /// offending text and what was expected.
    #[test]
    fn l3_bad_configurations() {
        let cases = [
            (
                "lines=2",
                "unknown key `lines` in analog-bridge configuration; expected one of stations, sharing, supervision, tone_ms",
            ),
            (
                "=2",
                "unknown key `` in analog-bridge configuration; expected one of stations, sharing, supervision, tone_ms",
            ),
            (
                "stations=0",
                "bad value `0` for `stations` in analog-bridge configuration; expected a station count from 1 to 8",
            ),
            (
                "stations=9",
                "bad value `9` for `stations` in analog-bridge configuration; expected a station count from 1 to 8",
            ),
            (
                "stations=two",
                "bad value `two` for `stations` in analog-bridge configuration; expected a station count from 1 to 8",
            ),
            (
                "sharing=monitored",
                "bad value `monitored` for `sharing` in analog-bridge configuration; expected shared, exclusive, new or private",
            ),
            (
                "sharing=Shared",
                "bad value `Shared` for `sharing` in analog-bridge configuration; expected shared, exclusive, new or private",
            ),
            (
                "supervision=yes",
                "bad value `yes` for `supervision` in analog-bridge configuration; expected on or off",
            ),
            (
                "tone_ms=0",
                "bad value `0` for `tone_ms` in analog-bridge configuration; expected milliseconds from 1 to 60000",
            ),
            (
                "tone_ms=60001",
                "bad value `60001` for `tone_ms` in analog-bridge configuration; expected milliseconds from 1 to 60000",
            ),
            (
                "tone_ms=-5",
                "bad value `-5` for `tone_ms` in analog-bridge configuration; expected milliseconds from 1 to 60000",
            ),
            (
                "stations=2;stations=3",
                "duplicate key `stations` in analog-bridge configuration; give each key at most once",
            ),
            (
                "supervision",
                "`supervision` in analog-bridge configuration is not a key=value pair; expected e.g. `sharing=exclusive`",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Config::parse(text), Err(expected.to_owned()), "{text:?}");
        }
    }
}
