//! The error every rejected operation returns (SPEC §8, TAPI `LINEERR_*`).

use crate::state::code_enum;

code_enum! {
    /// Why an operation was rejected. Values are TAPI's `LINEERR_*` (SPEC §8).
    ///
    /// A rejected operation changes nothing (SPEC S2, X1).
    LineError {
        /// The call handle is not valid for this app, or was deallocated (T2).
        InvalCallHandle = 0x8000_0018,
        /// The call is in a state where this operation is not allowed (D2, R3).
        InvalCallState = 0x8000_001C,
        /// An argument is malformed (an address or call the provider does not know).
        InvalPointer = 0x8000_0035,
        /// The provider ran out of memory.
        NoMem = 0x8000_0044,
        /// The app holds the call with Monitor privilege only (D1).
        NotOwner = 0x8000_0046,
        /// The provider failed the operation, or is faulted (D9, X2).
        OperationFailed = 0x8000_0048,
        /// The provider does not offer this operation (R2, capability absent).
        OperationUnavail = 0x8000_0049,
        /// A resource the operation needs is busy.
        ResourceUnavail = 0x8000_004B,
        /// The line or provider is not open.
        Uninitialized = 0x8000_0050,
        /// The user-user information is longer than `uui_drop_size` (U2, U4).
        UserUserInfoTooBig = 0x8000_0051,
    }
}

impl LineError {
    /// A sentence a person can act on.
    pub const fn description(self) -> &'static str {
        match self {
            LineError::InvalCallHandle => {
                "the call handle is not valid (never issued, or deallocated)"
            }
            LineError::InvalCallState => "the call is not in a state that allows this operation",
            LineError::InvalPointer => "an argument names something the provider does not know",
            LineError::NoMem => "the provider ran out of memory",
            LineError::NotOwner => "the app holds this call as a monitor, not an owner",
            LineError::OperationFailed => "the provider failed the operation",
            LineError::OperationUnavail => "the provider does not offer this operation",
            LineError::ResourceUnavail => "a resource the operation needs is unavailable",
            LineError::Uninitialized => "the line or provider is not open",
            LineError::UserUserInfoTooBig => {
                "the user-user information is larger than the provider accepts"
            }
        }
    }
}

impl std::error::Error for LineError {}

/// What most contract operations return.
pub type LineResult<T> = Result<T, LineError>;
