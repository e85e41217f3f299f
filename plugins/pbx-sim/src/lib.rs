//! pbx-sim: a deterministic PBX simulation with an ISDN-like trunk, the
//! reference provider of the cleardown drop contract (SPEC.md).
//!
//! Everything happens synchronously inside the call that caused it: no
//! threads, clock or randomness, so a transcript of events is the same on
//! every run and the conformance suite and benchmarks can compare them
//! byte for byte. Its capabilities come from the configuration string
//! (SPEC L3), e.g. `conf_drop=off;uui=16`.

mod config;
mod remote;
mod world;

use cleardown_sdk::{
    AddressId, CallId, CallInfo, CallState, CallStatus, DisconnectCode, LineResult, Provider,
    ProviderInfo, RemoteParty, Reporter, RequestId,
};

use crate::config::Config;
use crate::world::World;

cleardown_sdk::export_provider!(PbxSim);

/// The PBX provider: two private extensions, `ext-100` (address 0, whose
/// `conf_drop` the configuration chooses) and `ext-200` (address 1, never
/// `conf_drop`), reaching remote parties named by the caller.
#[derive(Debug)]
pub struct PbxSim {
    world: World,
}

impl Provider for PbxSim {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        Ok(PbxSim {
            world: World::new(Config::parse(config)?, events),
        })
    }

    fn info(&self) -> ProviderInfo {
        self.world.info()
    }

    fn open_line(&mut self, address: AddressId) -> LineResult<()> {
        world::address(address).map(drop)
    }

    fn close_line(&mut self, address: AddressId) -> LineResult<()> {
        world::address(address).map(drop)
    }

    fn make_call(
        &mut self,
        request: RequestId,
        address: AddressId,
        destination: &str,
    ) -> LineResult<CallId> {
        self.world.make_call(request, address, destination)
    }

    fn answer(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        self.world.answer(request, call)
    }

    fn accept(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        self.world.accept(request, call)
    }

    fn hold(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        self.world
            .switch(request, call, CallState::Connected, CallStatus::OnHold)
    }

    fn unhold(&mut self, request: RequestId, call: CallId) -> LineResult<()> {
        self.world
            .switch(request, call, CallState::OnHold, CallStatus::connected())
    }

    fn setup_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: &str,
    ) -> LineResult<CallId> {
        self.world
            .setup_consult(request, call, destination, CallStatus::OnHoldPendConf)
    }

    fn add_to_conference(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> LineResult<CallId> {
        self.world.add_to_conference(request, call, consult)
    }

    fn setup_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        destination: &str,
    ) -> LineResult<CallId> {
        self.world
            .setup_consult(request, call, destination, CallStatus::OnHoldPendTransfer)
    }

    fn complete_transfer(
        &mut self,
        request: RequestId,
        call: CallId,
        consult: CallId,
    ) -> LineResult<()> {
        self.world.complete_transfer(request, call, consult)
    }

    fn drop_call(
        &mut self,
        request: RequestId,
        call: CallId,
        code: DisconnectCode,
        uui: &[u8],
    ) -> LineResult<()> {
        self.world.drop_call(request, call, code, uui)
    }

    fn close_call(&mut self, call: CallId) -> LineResult<()> {
        self.world.close_call(call)
    }

    fn call_info(&self, call: CallId) -> LineResult<CallInfo<CallId>> {
        self.world.call_info(call)
    }

    fn far_end(&self) -> LineResult<Vec<RemoteParty>> {
        Ok(self.world.far_end())
    }

    fn remote_offer(&mut self, address: AddressId, from: &str, uui: &[u8]) -> LineResult<CallId> {
        self.world.remote_offer(address, from, uui)
    }

    fn remote_alert(&mut self, call: CallId) -> LineResult<()> {
        self.world.remote_alert(call)
    }

    fn remote_answer(&mut self, call: CallId) -> LineResult<()> {
        self.world.remote_answer(call)
    }

    fn remote_hang_up(&mut self, call: CallId, cause: u32, uui: &[u8]) -> LineResult<()> {
        self.world.remote_hang_up(call, cause, uui)
    }
}

#[cfg(test)]
mod tests;
