//! Drawing a script from a declaration.
//!
//! Shaped so that the rare combinations come up within a CI budget: one to
//! three of SPEC §0's situations the address supports are built first,
//! near uniformly, then one to five operations meet them, each situation's
//! key calls first with an operation that ends calls, then every call is
//! queried, the far end looked at, every call's handles freed one at a
//! time (T3 wherever the script left the call) and the far end looked at
//! again. Bridged stations are `stations.rs`'s. The script does not have
//! to be sensible: a refused operation is judged as much as an accepted
//! one.

use std::collections::BTreeSet;

use cleardown_contract::{AddressCaps, CallFeatures, Capabilities, Sharing};

use crate::{Scenario, rng::Rng};

mod stations;

/// The second app, when there is one.
const OTHER: &str = "other";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Outbound,
    Inbound,
    Consultation,
    Conference,
}

struct Call {
    alias: String,
    kind: Kind,
}

struct Gen {
    rng: Rng,
    steps: Vec<String>,
    calls: Vec<Call>,
    parties: usize,
    other: bool,
    size: usize,
    /// The declared `uui_received_size`: the far end sends no more.
    received: usize,
    features: CallFeatures,
    reject: bool,
    rules: BTreeSet<&'static str>,
    /// The call each situation was built around (its last call): the
    /// operations meet these first, where the situations are.
    keys: Vec<usize>,
    /// Key calls no operation has met yet, the next one last.
    unmet: Vec<usize>,
    /// The sharing mode of the address(es) the script runs on.
    sharing: Sharing,
    /// The station line aliases of a bridged script (`s1`, `s2`…).
    stations: Vec<String>,
}

/// A script for a provider declaring `caps`, fixed by `seed`; `None` when
/// none of its addresses is one the explorer drives (a `Monitored`
/// address only watches calls; SPEC gives its drops no rule of their own).
pub fn generate(caps: &Capabilities, seed: u64) -> Option<Scenario> {
    let mut rng = Rng::new(seed);
    let drivable: Vec<_> = caps
        .addresses
        .iter()
        .filter(|a| {
            matches!(
                a.sharing,
                Sharing::Private
                    | Sharing::BridgedShared
                    | Sharing::BridgedExclusive
                    | Sharing::BridgedNew
            )
        })
        .collect();
    if drivable.is_empty() {
        return None;
    }
    let address = *rng.pick(&drivable);
    let mut line = vec![
        format!("sharing == {:?}", address.sharing),
        if address.conf_drop {
            "conf_drop".to_owned()
        } else {
            "!conf_drop".to_owned()
        },
    ];
    for (name, features) in cleardown_fixture::FEATURE_CONDITIONS {
        if address.features.contains(*features) {
            line.push((*name).to_owned());
        }
    }
    // A bridged script runs on two or three stations that meet the same
    // conditions, where the provider has them: the situations of §6 need
    // a second station.
    let alike = caps.addresses.iter().filter(|a| alike(a, address)).count();
    let stations: Vec<String> = if address.sharing == Sharing::Private {
        Vec::new()
    } else {
        let count = match alike {
            0 | 1 => 1,
            2 => 2,
            _ if rng.chance(60) => 2,
            _ => 3,
        };
        (1..=count).map(|n| format!("s{n}")).collect()
    };
    let lines = if stations.is_empty() {
        vec![("main".to_owned(), line)]
    } else {
        stations.iter().map(|s| (s.clone(), line.clone())).collect()
    };
    let mut generator = Gen {
        rng,
        steps: Vec::new(),
        calls: Vec::new(),
        parties: 0,
        other: false,
        size: caps.uui_drop_size as usize,
        received: caps.uui_received_size as usize,
        features: address.features,
        reject: caps.reject_by_drop,
        // What every script meets: replies (D3) after their states (D4),
        // no call leaving Idle (S1), no leak at the end (T5).
        rules: ["D3", "D4", "S1", "T5"].into_iter().collect(),
        keys: Vec::new(),
        unmet: Vec::new(),
        sharing: address.sharing,
        stations,
    };
    if generator.stations.is_empty() {
        generator.run();
    } else {
        generator.run_stations();
    }
    Some(Scenario {
        seed,
        rules: generator.rules.iter().map(|r| (*r).to_owned()).collect(),
        lines,
        steps: generator.steps,
    })
}

/// `other` meets every condition a script writes for `address`.
fn alike(other: &AddressCaps, address: &AddressCaps) -> bool {
    other.sharing == address.sharing
        && other.conf_drop == address.conf_drop
        && other.features.contains(address.features)
}

impl Gen {
    fn has(&self, features: CallFeatures) -> bool {
        self.features.contains(features)
    }

    fn push(&mut self, step: String) {
        self.steps.push(step);
    }

    fn app(&mut self) -> String {
        if self.other && self.rng.chance(25) {
            format!(", app = {OTHER:?}")
        } else {
            String::new()
        }
    }

    fn party(&mut self) -> String {
        self.parties += 1;
        format!("p{}", self.parties)
    }

    fn new_call(&mut self, kind: Kind) -> String {
        let alias = format!("c{}", self.calls.len() + 1);
        self.calls.push(Call {
            alias: alias.clone(),
            kind,
        });
        alias
    }

    /// UUI bytes as a fixture writes them: the discriminator, then
    /// arbitrary bytes.
    fn bytes(&mut self, len: usize) -> String {
        let mut bytes = Vec::with_capacity(len);
        for i in 0..len {
            bytes.push(if i == 0 {
                0x04
            } else {
                (self.rng.next_u64() & 0xff) as u8
            });
        }
        bytes
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// A drop's UUI: none, or at one of the declared size's edges.
    fn drop_uui(&mut self) -> String {
        let size = self.size;
        let choice = *self.rng.weighted(&[
            (4, 0usize),
            (1, 1),
            (1, 2),
            (1, 3),
            (2, size.saturating_sub(1)),
            (2, size.min(12)),
            (3, size),
            (3, size + 1),
        ]);
        if choice == 0 {
            return String::new();
        }
        self.rules.insert(if self.size == 0 { "U4" } else { "U2" });
        self.rules.insert("U3");
        if choice == size && self.rng.chance(30) {
            return ", uui = \"max\"".to_owned();
        }
        if choice == size + 1 && self.rng.chance(30) {
            return ", uui = \"max+1\"".to_owned();
        }
        format!(", uui = {:?}", self.bytes(choice))
    }

    /// A far end's UUI on its hang-up or offer: up to the most the
    /// provider declares it keeps (L2), at the edges of that and of the
    /// drop size, which it may exceed.
    fn far_uui(&mut self) -> String {
        let (drop, received) = (self.size, self.received);
        let len = *self.rng.weighted(&[
            (5, 0usize),
            (1, 1),
            (2, drop),
            (1, drop + 1),
            (1, received.saturating_sub(1)),
            (2, received),
        ]);
        if len == 0 || len > received {
            return String::new();
        }
        self.rules.insert("U5");
        if len == received && self.rng.chance(30) {
            return ", uui = \"received_max\"".to_owned();
        }
        format!(", uui = {:?}", self.bytes(len))
    }

    fn run(&mut self) {
        self.push("{ do = \"open\", line = \"main\" }".to_owned());
        if self.rng.chance(30) {
            self.other = true;
            let privilege = if self.rng.chance(50) {
                "Owner"
            } else {
                "Monitor"
            };
            self.rules.insert("P1");
            self.push(format!(
                "{{ do = \"open\", line = \"main\", app = {OTHER:?}, privilege = {privilege:?} }}"
            ));
        }
        let situations = 1 + self.rng.below(3);
        for _ in 0..situations {
            self.situation();
            if let Some(last) = self.calls.len().checked_sub(1) {
                self.keys.push(last);
            }
        }
        self.unmet = self.keys.clone();
        self.unmet.sort_unstable();
        self.unmet.dedup();
        self.rng.shuffle(&mut self.unmet);
        let operations = 1 + self.rng.below(5);
        for _ in 0..operations {
            self.operation();
        }
        self.finish();
    }

    /// The end of every script: calls queried, the far end looked at, and
    /// then each call's handles freed one at a time, in an order the seed
    /// picks, so that the last handle of every call meets T3 in whatever
    /// situation the script left it (a `deallocate *` of several live
    /// calls at once is not judged call by call), and the far end looked
    /// at again for what those drops sent. `deallocate *` then frees what
    /// is left (calls the script did not name).
    fn finish(&mut self) {
        for index in 0..self.calls.len() {
            if self.rng.chance(40) {
                let alias = self.calls[index].alias.clone();
                self.push(format!("{{ do = \"info\", call = {alias:?} }}"));
                self.rules.insert("Q1");
            }
        }
        self.push("{ do = \"far_end\" }".to_owned());
        let mut order: Vec<usize> = (0..self.calls.len()).collect();
        self.rng.shuffle(&mut order);
        for index in order {
            let alias = self.calls[index].alias.clone();
            if self.other {
                self.push(format!(
                    "{{ do = \"deallocate\", call = {alias:?}, app = {OTHER:?} }}"
                ));
            }
            self.push(format!("{{ do = \"deallocate\", call = {alias:?} }}"));
        }
        self.rules.insert("T1");
        self.rules.insert("T3");
        self.push("{ do = \"far_end\" }".to_owned());
        self.push("{ do = \"deallocate\", call = \"*\" }".to_owned());
        if self.other {
            self.push(format!(
                "{{ do = \"deallocate\", call = \"*\", app = {OTHER:?} }}"
            ));
        }
    }

    fn connected(&mut self) -> String {
        let call = self.new_call(Kind::Outbound);
        let party = self.party();
        let app = self.app();
        self.push(format!(
            "{{ do = \"make_call\", call = {call:?}, line = \"main\", to = {party:?}{app} }}"
        ));
        self.push(format!("{{ do = \"far_answer\", call = {call:?} }}"));
        call
    }

    fn situation(&mut self) {
        let conference = self.has(CallFeatures(
            CallFeatures::SETUP_CONFERENCE.0 | CallFeatures::ADD_TO_CONFERENCE.0,
        ));
        let transfer = self.has(CallFeatures::SETUP_TRANSFER);
        let hold = self.has(CallFeatures::HOLD);
        // Near-flat over SPEC §0's situations, each sub-case (a
        // consultation's stage, a nested conference) as likely as the
        // next: where situations meet is where the bugs are.
        let menu = [
            (3, "connected"),
            (3, "unanswered"),
            (3, "offered"),
            (3, "disconnected"),
            (if hold { 2 } else { 0 }, "held"),
            (if conference || transfer { 4 } else { 0 }, "consultation"),
            (if conference { 3 } else { 0 }, "conference"),
            (if conference { 2 } else { 0 }, "nested"),
            (if conference { 1 } else { 0 }, "direct"),
        ];
        match *self.rng.weighted(&menu) {
            "connected" => {
                self.connected();
            }
            "unanswered" => {
                let call = self.new_call(Kind::Outbound);
                let party = self.party();
                let app = self.app();
                self.push(format!(
                    "{{ do = \"make_call\", call = {call:?}, line = \"main\", to = {party:?}{app} }}"
                ));
                if self.rng.chance(50) {
                    self.push(format!("{{ do = \"far_alert\", call = {call:?} }}"));
                }
                self.rules.insert("D7");
            }
            "offered" => {
                let call = self.new_call(Kind::Inbound);
                let party = self.party();
                let uui = self.far_uui();
                self.push(format!(
                    "{{ do = \"far_offer\", call = {call:?}, line = \"main\", from = {party:?}{uui} }}"
                ));
                if self.has(CallFeatures::ACCEPT) && self.rng.chance(30) {
                    let app = self.app();
                    self.push(format!("{{ do = \"accept\", call = {call:?}{app} }}"));
                }
                self.rules.insert(if self.reject { "R1" } else { "R2" });
            }
            "disconnected" => {
                let call = if self.rng.chance(70) {
                    self.connected()
                } else {
                    let call = self.new_call(Kind::Inbound);
                    let party = self.party();
                    self.push(format!(
                        "{{ do = \"far_offer\", call = {call:?}, line = \"main\", from = {party:?} }}"
                    ));
                    call
                };
                self.hang_up(&call);
            }
            "held" => {
                let call = self.connected();
                let app = self.app();
                self.push(format!("{{ do = \"hold\", call = {call:?}{app} }}"));
            }
            "consultation" => {
                let primary = self.connected();
                let consult = self.new_call(Kind::Consultation);
                let party = self.party();
                let kind = if conference && (!transfer || self.rng.chance(50)) {
                    "setup_conference"
                } else {
                    "setup_transfer"
                };
                self.push(format!(
                    "{{ do = {kind:?}, call = {primary:?}, consult = {consult:?}, to = {party:?} }}"
                ));
                // Each stage of D7 and D8 alike: answered, alerting,
                // proceeding, or left by its far end.
                match *self
                    .rng
                    .weighted(&[(1, "answer"), (1, "alert"), (1, "none"), (1, "left")])
                {
                    "answer" => {
                        self.push(format!("{{ do = \"far_answer\", call = {consult:?} }}"));
                    }
                    "alert" => {
                        self.push(format!("{{ do = \"far_alert\", call = {consult:?} }}"));
                    }
                    "left" => {
                        self.push(format!("{{ do = \"far_answer\", call = {consult:?} }}"));
                        self.hang_up(&consult);
                    }
                    _ => {}
                }
                self.rules.insert("D8");
            }
            "direct" => {
                // Two calls joined without a consultation: the parent is
                // still the joining app's alone (P1).
                let a = self.connected();
                let b = self.connected();
                let parent = self.new_call(Kind::Conference);
                let app = self.app();
                self.push(format!(
                    "{{ do = \"add_to_conference\", call = {a:?}, consult = {b:?}, conference = {parent:?}{app} }}"
                ));
                self.rules.insert("P1");
            }
            "nested" => self.conference(true),
            _ => self.conference(false),
        }
    }

    /// A conference of two or three parties; `nested`: joined as one
    /// party of another conference (C5).
    fn conference(&mut self, nested: bool) {
        let first = self.connected();
        let parent = self.new_call(Kind::Conference);
        let mut parties = vec![first.clone()];
        let mut host = first;
        let count = 2 + self.rng.below(2);
        for _ in 1..count {
            let consult = self.new_call(Kind::Consultation);
            let party = self.party();
            self.push(format!(
                "{{ do = \"setup_conference\", call = {host:?}, consult = {consult:?}, to = {party:?} }}"
            ));
            self.push(format!("{{ do = \"far_answer\", call = {consult:?} }}"));
            if host == parent {
                self.push(format!(
                    "{{ do = \"add_to_conference\", call = {parent:?}, consult = {consult:?} }}"
                ));
            } else {
                self.push(format!(
                    "{{ do = \"add_to_conference\", call = {host:?}, consult = {consult:?}, conference = {parent:?} }}"
                ));
                host = parent.clone();
            }
            parties.push(consult);
        }
        self.rules.insert("C1");
        self.rules.insert("C3");
        if nested {
            // Nested: the conference joins another call as one party (C5).
            let other = self.connected();
            let outer = self.new_call(Kind::Conference);
            self.push(format!(
                "{{ do = \"add_to_conference\", call = {other:?}, consult = {parent:?}, conference = {outer:?} }}"
            ));
            self.rules.insert("C5");
        }
        // A party is where C3-C6 (and, nested, C5) meet the operations:
        // one of them is a key call too, the one that left when one did.
        let party = self.rng.pick(&parties).clone();
        if self.rng.chance(25) {
            self.hang_up(&party);
            self.rules.insert("C6");
        }
        if let Some(index) = self.calls.iter().position(|c| c.alias == party) {
            self.keys.push(index);
        }
    }

    fn hang_up(&mut self, call: &str) {
        let cause = *self
            .rng
            .weighted(&[(4, 16u32), (2, 17), (2, 21), (1, 19), (1, 31)]);
        let uui = self.far_uui();
        self.push(format!(
            "{{ do = \"far_hang_up\", call = {call:?}, cause = {cause}{uui} }}"
        ));
        self.rules.insert("S3");
        self.rules.insert("D6");
    }

    fn operation(&mut self) {
        if self.calls.is_empty() {
            self.connected();
        }
        // Calls with links are where situations meet: weight them up.
        let weighted: Vec<(u32, usize)> = self
            .calls
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let weight = match c.kind {
                    Kind::Conference => 4,
                    Kind::Consultation => 3,
                    Kind::Inbound | Kind::Outbound => 2,
                };
                (weight, i)
            })
            .collect();
        // Each situation's key calls meet an operation first, in an order
        // the seed picks; then any call, the keys still favoured.
        let focused = self.unmet.pop();
        let index = if let Some(index) = focused {
            index
        } else if !self.keys.is_empty() && self.rng.chance(60) {
            *self.rng.pick(&self.keys)
        } else {
            *self.rng.weighted(&weighted)
        };
        let call = self.calls[index].alias.clone();
        let kind = self.calls[index].kind;
        let conference = kind == Kind::Conference;
        // A key call meets one of the operations that end calls, each
        // about as likely (every disconnect code in every situation);
        // other calls meet anything, drops most.
        let menu = if focused.is_some() {
            [
                (4, "drop"),
                (4, "disconnect"),
                (3, "deallocate"),
                (if conference { 0 } else { 2 }, "hang_up"),
                (0, "answer"),
                (1, "close"),
                (0, "advance"),
                (0, "info"),
                (0, "far_end"),
                (1, "late"),
            ]
        } else {
            [
                (if conference { 10 } else { 8 }, "drop"),
                (if kind == Kind::Inbound { 6 } else { 3 }, "disconnect"),
                (5, "deallocate"),
                (if conference { 0 } else { 3 }, "hang_up"),
                (1, "answer"),
                (1, "close"),
                (2, "advance"),
                (2, "info"),
                (2, "far_end"),
                (1, "late"),
            ]
        };
        match *self.rng.weighted(&menu) {
            "drop" => {
                self.drop_step(&call);
                if self.rng.chance(15) {
                    // Time passing after a drop: nothing may come back.
                    self.push("{ do = \"advance\", ms = 5000 }".to_owned());
                }
            }
            "disconnect" => self.disconnect_step(&call),
            "deallocate" => self.deallocate_step(&call),
            "hang_up" => self.hang_up(&call),
            "answer" => {
                let step = if kind == Kind::Inbound {
                    let app = self.app();
                    format!("{{ do = \"answer\", call = {call:?}{app} }}")
                } else {
                    format!("{{ do = \"far_answer\", call = {call:?} }}")
                };
                self.push(step);
            }
            "close" => {
                self.push("{ do = \"close\", line = \"main\" }".to_owned());
                self.rules.insert("B5");
            }
            "advance" => self.advance_step(),
            "info" => self.info_step(&call),
            "far_end" => self.push("{ do = \"far_end\" }".to_owned()),
            _ => self.late_step(&call),
        }
    }

    // ---- steps both kinds of script write ------------------------------

    /// A drop with UUI at the size's edges, by either app, sometimes with
    /// the far end looked at right after.
    fn drop_step(&mut self, call: &str) {
        let uui = self.drop_uui();
        let app = self.app();
        self.push(format!("{{ do = \"drop\", call = {call:?}{uui}{app} }}"));
        self.rules.insert("D5");
        if self.rng.chance(40) {
            self.push("{ do = \"far_end\" }".to_owned());
        }
    }

    fn disconnect_step(&mut self, call: &str) {
        let code =
            *self
                .rng
                .weighted(&[(1, "Normal"), (2, "NoAnswer"), (1, "Rejected"), (2, "Busy")]);
        let app = self.app();
        // R3: a disconnect carries UUI exactly as a drop does.
        let uui = if self.rng.chance(30) {
            self.drop_uui()
        } else {
            String::new()
        };
        self.push(format!(
            "{{ do = \"disconnect\", call = {call:?}, code = {code:?}{uui}{app} }}"
        ));
        self.rules.insert("R3");
    }

    fn deallocate_step(&mut self, call: &str) {
        let app = self.app();
        self.push(format!("{{ do = \"deallocate\", call = {call:?}{app} }}"));
        self.rules.insert("T1");
        self.rules.insert("T3");
    }

    fn advance_step(&mut self) {
        let ms = *self.rng.pick(&[10u64, 1_000, 5_000]);
        self.push(format!("{{ do = \"advance\", ms = {ms} }}"));
    }

    fn info_step(&mut self, call: &str) {
        let app = self.app();
        self.push(format!("{{ do = \"info\", call = {call:?}{app} }}"));
        self.rules.insert("Q1");
    }

    /// Events read late: the drop's Reply must still come after its handle
    /// is freed (T4), and nothing else for it (D10).
    fn late_step(&mut self, call: &str) {
        self.push("{ do = \"pause_events\" }".to_owned());
        self.push(format!("{{ do = \"drop\", call = {call:?} }}"));
        self.push(format!("{{ do = \"deallocate\", call = {call:?} }}"));
        self.push("{ do = \"resume_events\" }".to_owned());
        self.rules.insert("T4");
        self.rules.insert("D10");
    }
}
