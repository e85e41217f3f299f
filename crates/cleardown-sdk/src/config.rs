//! Reading a configuration string (SPEC L3) the way every bundled provider
//! does: `key=value` pairs separated by `;`, blanks ignored, each key at most
//! once, and every refusal a sentence that names the provider, the offending
//! text and what was expected — which is what the host shows the user.
//!
//! ```
//! use cleardown_sdk::config::ConfigReader;
//!
//! fn parse(text: &str) -> Result<(bool, u32), String> {
//!     let read = ConfigReader::new("my-provider");
//!     let (mut reject, mut uui) = (true, 128);
//!     for (key, value) in read.pairs(text, "uui=16")? {
//!         match key {
//!             "reject_by_drop" => reject = read.on_off(key, value)?,
//!             "uui" => uui = read.number(key, value, 0..=128, "a byte count")?,
//!             _ => return Err(read.unknown(key, &["reject_by_drop", "uui"])),
//!         }
//!     }
//!     Ok((reject, uui))
//! }
//!
//! assert_eq!(parse(" uui = 16 ;"), Ok((true, 16)));
//! assert_eq!(
//!     parse("uui=200"),
//!     Err("bad value `200` for `uui` in my-provider configuration; \
//!          expected a byte count from 0 to 128".to_owned())
//! );
//! ```

use std::{fmt::Display, ops::RangeInclusive, str::FromStr};

/// Reads the configuration string of the provider it is named after.
#[derive(Debug, Clone, Copy)]
pub struct ConfigReader<'p> {
    provider: &'p str,
}

impl<'p> ConfigReader<'p> {
    /// A reader whose errors name `provider`.
    pub fn new(provider: &'p str) -> Self {
        ConfigReader { provider }
    }

    /// The `key=value` pairs of `text`, trimmed, in order. Empty pairs are
    /// skipped (so `""` and a trailing `;` mean the defaults); a pair
    /// without `=` and a key given twice are refused. `example` is a pair
    /// the error message can show.
    pub fn pairs<'t>(
        &self,
        text: &'t str,
        example: &str,
    ) -> Result<Vec<(&'t str, &'t str)>, String> {
        let mut pairs: Vec<(&'t str, &'t str)> = Vec::new();
        for pair in text.split(';').map(str::trim).filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(format!(
                    "`{pair}` in {} configuration is not a key=value pair; expected e.g. `{example}`",
                    self.provider
                ));
            };
            let (key, value) = (key.trim(), value.trim());
            if pairs.iter().any(|(seen, _)| *seen == key) {
                return Err(format!(
                    "duplicate key `{key}` in {} configuration; give each key at most once",
                    self.provider
                ));
            }
            pairs.push((key, value));
        }
        Ok(pairs)
    }

    /// The refusal of a key the provider does not know; `keys` are the ones
    /// it does, in the order to list them.
    pub fn unknown(&self, key: &str, keys: &[&str]) -> String {
        format!(
            "unknown key `{key}` in {} configuration; expected one of {}",
            self.provider,
            keys.join(", ")
        )
    }

    fn bad(&self, key: &str, value: &str, expected: &str) -> String {
        format!(
            "bad value `{value}` for `{key}` in {} configuration; expected {expected}",
            self.provider
        )
    }

    /// `on` or `off`, exactly.
    pub fn on_off(&self, key: &str, value: &str) -> Result<bool, String> {
        self.choice(key, value, &[("on", true), ("off", false)])
    }

    /// A number within `range`; `what` says what it counts ("a byte count").
    pub fn number<T>(
        &self,
        key: &str,
        value: &str,
        range: RangeInclusive<T>,
        what: &str,
    ) -> Result<T, String>
    where
        T: FromStr + PartialOrd + Display,
    {
        match value.parse::<T>() {
            Ok(number) if range.contains(&number) => Ok(number),
            _ => Err(self.bad(
                key,
                value,
                &format!("{what} from {} to {}", range.start(), range.end()),
            )),
        }
    }

    /// One of `options`, by name.
    pub fn choice<T: Copy>(
        &self,
        key: &str,
        value: &str,
        options: &[(&str, T)],
    ) -> Result<T, String> {
        if let Some((_, chosen)) = options.iter().find(|(name, _)| *name == value) {
            return Ok(*chosen);
        }
        let names: Vec<&str> = options.iter().map(|(name, _)| *name).collect();
        let expected = match names.split_last() {
            Some((last, [])) => (*last).to_owned(),
            Some((last, rest)) => format!("{} or {last}", rest.join(", ")),
            None => "nothing".to_owned(),
        };
        Err(self.bad(key, value, &expected))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pairs_trim_skip_blanks_and_refuse_malformed_text() {
        let read = ConfigReader::new("p");
        assert_eq!(
            read.pairs(" a = 1 ;; b=2;", "a=1"),
            Ok(vec![("a", "1"), ("b", "2")])
        );
        assert_eq!(read.pairs("", "a=1"), Ok(vec![]));
        assert_eq!(
            read.pairs("a=1;b", "a=1"),
            Err("`b` in p configuration is not a key=value pair; expected e.g. `a=1`".to_owned())
        );
        assert_eq!(
            read.pairs("a=1;a=2", "a=1"),
            Err("duplicate key `a` in p configuration; give each key at most once".to_owned())
        );
    }

    #[test]
    fn values_are_refused_naming_what_was_expected() {
        let read = ConfigReader::new("p");
        assert_eq!(read.on_off("k", "off"), Ok(false));
        assert_eq!(
            read.on_off("k", "ON"),
            Err("bad value `ON` for `k` in p configuration; expected on or off".to_owned())
        );
        assert_eq!(read.number("n", "3", 1..=8, "a count"), Ok(3u32));
        assert_eq!(
            read.number("n", "-1", 1u32..=8, "a count"),
            Err(
                "bad value `-1` for `n` in p configuration; expected a count from 1 to 8"
                    .to_owned()
            )
        );
        assert_eq!(
            read.choice("m", "x", &[("a", 1), ("b", 2), ("c", 3)]),
            Err("bad value `x` for `m` in p configuration; expected a, b or c".to_owned())
        );
        assert_eq!(
            read.unknown("z", &["a", "b"]),
            "unknown key `z` in p configuration; expected one of a, b"
        );
    }
}
