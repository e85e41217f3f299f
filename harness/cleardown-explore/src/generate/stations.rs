//! Scripts for bridged stations (SPEC §6): one far call and its
//! appearances at two or three stations, and the operations that meet
//! them.

use cleardown_contract::{CallFeatures, Sharing};

use super::{Gen, Kind, OTHER};

impl Gen {
    fn station(&mut self) -> String {
        self.rng.pick(&self.stations).clone()
    }

    /// A bridged script: every station opened, one far call (offered,
    /// placed, or a station's own dial tone) that other stations pick up or
    /// bridge into, then operations on its appearances (SPEC §6, B1-B4),
    /// and the usual queries and clean-up.
    pub(super) fn run_stations(&mut self) {
        let shared = self.sharing == Sharing::BridgedShared;
        self.rules.extend(if shared {
            ["B1", "B2", "B3"].as_slice()
        } else {
            ["B4"].as_slice()
        });
        for line in self.stations.clone() {
            self.push(format!("{{ do = \"open\", line = {line:?} }}"));
        }
        if self.rng.chance(30) {
            self.other = true;
            let privilege = if self.rng.chance(50) {
                "Owner"
            } else {
                "Monitor"
            };
            let line = self.station();
            self.rules.insert("P1");
            self.push(format!(
                "{{ do = \"open\", line = {line:?}, app = {OTHER:?}, privilege = {privilege:?} }}"
            ));
        }
        let first = self.stations[0].clone();
        let call = self.new_call(Kind::Inbound);
        let mut up = false;
        // Shared: the call shows at every station; each appearance is
        // named as it shows up, so every step can reach it.
        let mut named = Vec::new();
        let appearances = |generator: &mut Gen, named: &mut Vec<String>| {
            if !shared {
                return String::new();
            }
            let mut table = Vec::new();
            for station in generator.stations.clone().into_iter().skip(1) {
                let alias = generator.new_call(Kind::Inbound);
                table.push(format!("{station} = {alias:?}"));
                named.push(station);
            }
            format!(", appearances = {{ {} }}", table.join(", "))
        };
        match *self
            .rng
            .weighted(&[(5, "inbound"), (4, "outbound"), (1, "local")])
        {
            "inbound" => {
                let party = self.party();
                let uui = if self.size > 0 {
                    self.far_uui()
                } else {
                    String::new()
                };
                let shown = appearances(self, &mut named);
                self.push(format!(
                    "{{ do = \"far_offer\", call = {call:?}, line = {first:?}, from = {party:?}{uui}{shown} }}"
                ));
                self.rules.insert(if self.reject { "R1" } else { "R2" });
                match *self.rng.weighted(&[
                    (4, "pick_up"),
                    (2, "answer"),
                    (2, "ring"),
                    (if self.has(CallFeatures::ACCEPT) { 1 } else { 0 }, "accept"),
                ]) {
                    "pick_up" => {
                        self.push(format!(
                            "{{ do = \"station\", line = {first:?}, hook = \"off\" }}"
                        ));
                        up = true;
                    }
                    "answer" => {
                        self.push(format!("{{ do = \"answer\", call = {call:?} }}"));
                        up = true;
                    }
                    "accept" => self.push(format!("{{ do = \"accept\", call = {call:?} }}")),
                    _ => {}
                }
            }
            "outbound" => {
                if let Some(c) = self.calls.last_mut() {
                    c.kind = Kind::Outbound;
                }
                let party = self.party();
                self.push(format!(
                    "{{ do = \"make_call\", call = {call:?}, line = {first:?}, to = {party:?} }}"
                ));
                match *self
                    .rng
                    .weighted(&[(5, "answer"), (1, "alert"), (1, "none")])
                {
                    "answer" => {
                        let shown = appearances(self, &mut named);
                        self.push(format!("{{ do = \"far_answer\", call = {call:?}{shown} }}"));
                        up = true;
                    }
                    "alert" => {
                        self.push(format!("{{ do = \"far_alert\", call = {call:?} }}"));
                        self.rules.insert("D7");
                    }
                    _ => {
                        self.rules.insert("D7");
                    }
                }
            }
            _ => {
                if let Some(c) = self.calls.last_mut() {
                    c.kind = Kind::Outbound;
                }
                self.push(format!(
                    "{{ do = \"station\", line = {first:?}, hook = \"off\", call = {call:?} }}"
                ));
            }
        }
        self.keys.push(0);
        // Other stations pick up or bridge in: appearances of one call
        // (shared), or calls of their own (BridgedNew).
        let joins = self.sharing != Sharing::BridgedExclusive;
        for (index, station) in self.stations.clone().into_iter().enumerate().skip(1) {
            if joins && (up || self.rng.chance(20)) && self.rng.chance(65) {
                if named.contains(&station) {
                    self.push(format!(
                        "{{ do = \"station\", line = {station:?}, hook = \"off\" }}"
                    ));
                    self.keys.push(index);
                } else {
                    let alias = self.new_call(Kind::Inbound);
                    self.push(format!(
                        "{{ do = \"station\", line = {station:?}, hook = \"off\", call = {alias:?} }}"
                    ));
                    self.keys.push(self.calls.len() - 1);
                }
            }
        }
        if self.rng.chance(25) {
            let leaving = self.calls[0].alias.clone();
            self.hang_up(&leaving);
        }
        let operations = 1 + self.rng.below(4);
        for _ in 0..operations {
            self.station_operation();
        }
        self.finish();
    }

    fn station_operation(&mut self) {
        let index = if self.rng.chance(50) {
            *self.rng.pick(&self.keys)
        } else {
            self.rng.below(self.calls.len())
        };
        let call = self.calls[index].alias.clone();
        match *self.rng.weighted(&[
            (9, "drop"),
            (3, "disconnect"),
            (4, "deallocate"),
            (2, "hang_up"),
            (1, "on_hook"),
            (1, "off_hook"),
            (1, "close"),
            (2, "advance"),
            (2, "info"),
            (2, "far_end"),
            (1, "late"),
        ]) {
            "drop" => {
                self.drop_step(&call);
            }
            "disconnect" => self.disconnect_step(&call),
            "deallocate" => self.deallocate_step(&call),
            "hang_up" => self.hang_up(&call),
            "on_hook" => {
                let station = self.station();
                self.push(format!(
                    "{{ do = \"station\", line = {station:?}, hook = \"on\" }}"
                ));
            }
            "off_hook" => {
                let station = self.station();
                let alias = self.new_call(Kind::Inbound);
                self.push(format!(
                    "{{ do = \"station\", line = {station:?}, hook = \"off\", call = {alias:?} }}"
                ));
            }
            "close" => {
                let station = self.station();
                self.push(format!("{{ do = \"close\", line = {station:?} }}"));
                self.rules.insert("B5");
            }
            "advance" => self.advance_step(),
            "info" => self.info_step(&call),
            "far_end" => self.push("{ do = \"far_end\" }".to_owned()),
            _ => self.late_step(&call),
        }
    }
}
