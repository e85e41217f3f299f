//! The configuration string (SPEC L3): which transport carries the SIP
//! messages, and how long an offered call may ring. `transport=memory`
//! (the default) joins our line to a far user agent inside the plugin, for
//! the conformance suite; `transport=udp` and `transport=tcp` speak real
//! SIP over UDP or TCP and then need `bind=IP:PORT` (where we listen; port
//! 0 picks a free one) and `peer=IP:PORT` (where new requests go). `no_answer_ms=N` (default
//! 120000; 0: never) is how long an offered call waits for the app's
//! answer before the caller is told 480 and the call goes
//! Disconnected/NoAnswer.

use std::net::SocketAddr;

use cleardown_sdk::config::ConfigReader;

/// Every key, in the order error messages list them.
const KEYS: &[&str] = &["transport", "bind", "peer", "no_answer_ms"];

/// How long an offered call rings unanswered, unless configured.
pub(crate) const NO_ANSWER_MS: u64 = 120_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Memory,
    Udp,
    Tcp,
}

/// The transport a configuration string selects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Transport {
    Memory,
    Udp { bind: SocketAddr, peer: SocketAddr },
    Tcp { bind: SocketAddr, peer: SocketAddr },
}

/// A parsed configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Config {
    pub(crate) transport: Transport,
    /// 0: an offered call rings until the app or the caller ends it.
    pub(crate) no_answer_ms: u64,
}

fn address(key: &str, value: &str) -> Result<SocketAddr, String> {
    value.parse().map_err(|_| {
        format!(
            "bad value `{value}` for `{key}` in sip configuration; \
             expected an IP:PORT socket address such as 127.0.0.1:5070"
        )
    })
}

impl Config {
    /// Parses `key=value` pairs separated by `;` (an empty string is the
    /// memory transport); anything not understood is a sentence naming it.
    pub(crate) fn parse(text: &str) -> Result<Config, String> {
        let read = ConfigReader::new("sip");
        let mut kind = Kind::Memory;
        let (mut bind, mut peer) = (None, None);
        let mut no_answer_ms = NO_ANSWER_MS;
        for (key, value) in read.pairs(text, "transport=udp")? {
            match key {
                "transport" => {
                    let kinds = [
                        ("memory", Kind::Memory),
                        ("udp", Kind::Udp),
                        ("tcp", Kind::Tcp),
                    ];
                    kind = read.choice(key, value, &kinds)?;
                }
                "bind" => bind = Some(address(key, value)?),
                "peer" => peer = Some(address(key, value)?),
                "no_answer_ms" => {
                    no_answer_ms = read.number(key, value, 0..=86_400_000, "milliseconds")?;
                }
                _ => return Err(read.unknown(key, KEYS)),
            }
        }
        let transport = match (kind, bind, peer) {
            (Kind::Memory, None, None) => Transport::Memory,
            (Kind::Memory, Some(_), _) | (Kind::Memory, _, Some(_)) => {
                return Err(
                    "`bind` and `peer` in sip configuration apply only to transport=udp or tcp"
                        .to_owned(),
                );
            }
            (Kind::Udp, Some(bind), Some(peer)) => Transport::Udp { bind, peer },
            (Kind::Tcp, Some(bind), Some(peer)) => Transport::Tcp { bind, peer },
            (Kind::Udp | Kind::Tcp, bind, _) => {
                let name = if kind == Kind::Udp { "udp" } else { "tcp" };
                return Err(format!(
                    "transport={name} in sip configuration needs `{}`; \
                     give bind=IP:PORT (where to listen) and peer=IP:PORT (where new requests go)",
                    if bind.is_none() { "bind" } else { "peer" }
                ));
            }
        };
        Ok(Config {
            transport,
            no_answer_ms,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// SPEC L3: accepted forms and what they select.
    #[test]
    fn l3_good_configurations() {
        let config = |transport| Config {
            transport,
            no_answer_ms: NO_ANSWER_MS,
        };
        let memory = config(Transport::Memory);
        let udp = |bind: &str, peer: &str| {
            config(Transport::Udp {
                bind: bind.parse().expect("test address"),
                peer: peer.parse().expect("test address"),
            })
        };
        let cases = [
            ("", memory),
            (" transport = memory ;", memory),
            (
                "no_answer_ms=0",
                Config {
                    no_answer_ms: 0,
                    ..memory
                },
            ),
            (
                "transport=udp;bind=127.0.0.1:5070;peer=127.0.0.1:5080",
                udp("127.0.0.1:5070", "127.0.0.1:5080"),
            ),
            (
                "peer=[::1]:5080; bind=127.0.0.1:0; transport=udp",
                udp("127.0.0.1:0", "[::1]:5080"),
            ),
            (
                "transport=tcp;bind=127.0.0.1:0;peer=127.0.0.1:5080",
                config(Transport::Tcp {
                    bind: "127.0.0.1:0".parse().expect("test address"),
                    peer: "127.0.0.1:5080".parse().expect("test address"),
                }),
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Config::parse(text), Ok(expected), "{text:?}");
        }
    }

    /// SPEC L3: every malformed form is refused with a sentence naming it.
    #[test]
    fn l3_bad_configurations() {
        let cases = [
            (
                "transport=sctp",
                "bad value `sctp` for `transport` in sip configuration; expected memory, udp or tcp",
            ),
            (
                "transport=tcp;bind=127.0.0.1:5070",
                "transport=tcp in sip configuration needs `peer`; give bind=IP:PORT (where to listen) and peer=IP:PORT (where new requests go)",
            ),
            (
                "transport=udp;bind=localhost:5070;peer=127.0.0.1:5080",
                "bad value `localhost:5070` for `bind` in sip configuration; expected an IP:PORT socket address such as 127.0.0.1:5070",
            ),
            (
                "transport=udp;bind=127.0.0.1;peer=127.0.0.1:5080",
                "bad value `127.0.0.1` for `bind` in sip configuration; expected an IP:PORT socket address such as 127.0.0.1:5070",
            ),
            (
                "transport=udp;bind=127.0.0.1:5070;peer=127.0.0.1:99999",
                "bad value `127.0.0.1:99999` for `peer` in sip configuration; expected an IP:PORT socket address such as 127.0.0.1:5070",
            ),
            (
                "transport=udp;peer=127.0.0.1:5080",
                "transport=udp in sip configuration needs `bind`; give bind=IP:PORT (where to listen) and peer=IP:PORT (where new requests go)",
            ),
            (
                "transport=udp;bind=127.0.0.1:5070",
                "transport=udp in sip configuration needs `peer`; give bind=IP:PORT (where to listen) and peer=IP:PORT (where new requests go)",
            ),
            (
                "bind=127.0.0.1:5070",
                "`bind` and `peer` in sip configuration apply only to transport=udp or tcp",
            ),
            (
                "port=5060",
                "unknown key `port` in sip configuration; expected one of transport, bind, peer, no_answer_ms",
            ),
            (
                "no_answer_ms=soon",
                "bad value `soon` for `no_answer_ms` in sip configuration; expected milliseconds from 0 to 86400000",
            ),
            (
                "transport",
                "`transport` in sip configuration is not a key=value pair; expected e.g. `transport=udp`",
            ),
            (
                "transport=udp;transport=memory",
                "duplicate key `transport` in sip configuration; give each key at most once",
            ),
        ];
        for (text, expected) in cases {
            assert_eq!(Config::parse(text), Err(expected.to_owned()), "{text:?}");
        }
    }
}
