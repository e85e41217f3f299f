//! The configuration string (SPEC L3): one plugin, several capability
//! profiles, so the conformance suite can run both sides of every MAY rule.

use cleardown_sdk::config::ConfigReader;

/// The ISDN user-user element carries at most 128 octets; neither a drop nor
/// a far-end hang-up may carry more.
pub(crate) const MAX_UUI: u32 = 128;

/// Every key, in the order error messages list them.
const KEYS: &[&str] = &["reject_by_drop", "close_drop", "uui", "conf_drop"];

/// The capability profile a configuration string selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    /// SPEC R1/R2: dropping an offered call rejects it.
    pub(crate) reject_by_drop: bool,
    /// SPEC B5: the host drops an app's calls when it closes the line.
    pub(crate) close_drop: bool,
    /// SPEC U1: the largest UUI a drop may carry.
    pub(crate) uui_drop_size: u32,
    /// SPEC C1/C2, for address 0 only: address 1 never has it, so one
    /// profile exercises both paths.
    pub(crate) conf_drop: bool,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            reject_by_drop: true,
            close_drop: true,
            uui_drop_size: MAX_UUI,
            conf_drop: true,
        }
    }
}

impl Config {
    /// Parses `key=value` pairs separated by `;` (an empty string is the
    /// defaults); anything not understood is an error naming the text.
    pub(crate) fn parse(text: &str) -> Result<Config, String> {
        let read = ConfigReader::new("pbx-sim");
        let mut config = Config::default();
        for (key, value) in read.pairs(text, "conf_drop=off")? {
            match key {
                "reject_by_drop" => config.reject_by_drop = read.on_off(key, value)?,
                "close_drop" => config.close_drop = read.on_off(key, value)?,
                "conf_drop" => config.conf_drop = read.on_off(key, value)?,
                "uui" => {
                    config.uui_drop_size = read.number(key, value, 0..=MAX_UUI, "a byte count")?;
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

    fn config(reject_by_drop: bool, close_drop: bool, uui: u32, conf_drop: bool) -> Config {
        Config {
            reject_by_drop,
            close_drop,
            uui_drop_size: uui,
            conf_drop,
        }
    }

    /// SPEC L3: accepted forms and what they select.
    #[test]
    fn l3_good_configurations() {
        let cases = [
            ("", Config::default()),
            ("   ", Config::default()),
            ("conf_drop=off", config(true, true, 128, false)),
            (
                " reject_by_drop = off ; close_drop=off;uui= 0 ",
                config(false, false, 0, true),
            ),
            ("uui=128;conf_drop=on;", config(true, true, 128, true)),
            ("uui=7", config(true, true, 7, true)),
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
                "foo=on",
                "unknown key `foo` in pbx-sim configuration; expected one of reject_by_drop, close_drop, uui, conf_drop",
            ),
            (
                "=on",
                "unknown key `` in pbx-sim configuration; expected one of reject_by_drop, close_drop, uui, conf_drop",
            ),
            (
                "conf_drop=maybe",
                "bad value `maybe` for `conf_drop` in pbx-sim configuration; expected on or off",
            ),
            (
                "close_drop=",
                "bad value `` for `close_drop` in pbx-sim configuration; expected on or off",
            ),
            (
                "reject_by_drop=ON",
                "bad value `ON` for `reject_by_drop` in pbx-sim configuration; expected on or off",
            ),
            (
                "uui=129",
                "bad value `129` for `uui` in pbx-sim configuration; expected a byte count from 0 to 128",
            ),
            (
                "uui=-1",
                "bad value `-1` for `uui` in pbx-sim configuration; expected a byte count from 0 to 128",
            ),
            (
                "uui=lots",
                "bad value `lots` for `uui` in pbx-sim configuration; expected a byte count from 0 to 128",
            ),
            (
                "uui=1; uui=2",
                "duplicate key `uui` in pbx-sim configuration; give each key at most once",
            ),
            (
                "conf_drop",
                "`conf_drop` in pbx-sim configuration is not a key=value pair; expected e.g. `conf_drop=off`",
            ),
            (
                "uui=3;close_drop off",
                "`close_drop off` in pbx-sim configuration is not a key=value pair; expected e.g. `conf_drop=off`",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Config::parse(text), Err(expected.to_owned()), "{text:?}");
        }
    }
}
