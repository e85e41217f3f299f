//! analog-bridge: an analog loop-start line card whose stations share the
//! loop as bridged appearances (SPEC §6), a provider of the cleardown drop
//! contract (SPEC.md).
//!
//! Like pbx-sim, everything happens synchronously inside the call that
//! caused it: no threads, no clock, no randomness. Time only moves when the
//! host says so ([`Provider::advance_time`]), which is how tone detection
//! on a line without disconnect supervision is simulated. The configuration
//! string (SPEC L3) picks the number of stations, how they share the loop,
//! and the supervision, e.g. `stations=2;sharing=exclusive;supervision=off`.
//!
//! What an analog line cannot do it refuses: no user-user information
//! (SPEC U4), no rejection of a ringing call (SPEC R2), no hold, conference
//! or transfer (`OperationUnavail`, the SDK's default answer).

mod config;
mod remote;
mod world;

use cleardown_sdk::{
    AddressId, CallId, CallInfo, DisconnectCode, LineResult, Provider, ProviderInfo, RemoteParty,
    Reporter, RequestId,
};

use crate::config::Config;
use crate::world::World;

cleardown_sdk::export_provider!(AnalogBridge);

/// The line card: stations `station-1` … `station-N` (addresses 0 … N-1) on
/// one shared loop, or on a loop each in private mode.
#[derive(Debug)]
pub struct AnalogBridge {
    world: World,
}

impl Provider for AnalogBridge {
    fn open(config: &str, events: Reporter) -> Result<Self, String> {
        Ok(AnalogBridge {
            world: World::new(Config::parse(config)?, events),
        })
    }

    fn info(&self) -> ProviderInfo {
        self.world.info()
    }

    fn open_line(&mut self, address: AddressId) -> LineResult<()> {
        self.world.station(address).map(drop)
    }

    fn close_line(&mut self, address: AddressId) -> LineResult<()> {
        self.world.station(address).map(drop)
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

    fn station_hook(&mut self, address: AddressId, off_hook: bool) -> LineResult<()> {
        self.world.station_hook(address, off_hook)
    }

    fn advance_time(&mut self, millis: u64) -> LineResult<()> {
        self.world.advance_time(millis)
    }
}

#[cfg(test)]
mod tests;
