pub mod cancel_proposal;
pub mod reset_circuit_breaker;
pub mod set_guardian;
pub mod set_paused;

pub use cancel_proposal::*;
pub use reset_circuit_breaker::*;
pub use set_guardian::*;
pub use set_paused::*;
