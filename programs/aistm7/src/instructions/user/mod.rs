pub mod deposit_treasury;
pub mod verify_access;

pub use deposit_treasury::*;
pub use verify_access::*;
