pub mod cancel_withdrawal;
pub mod reset_circuit_breaker;
pub mod set_paused;

pub use cancel_withdrawal::*;
pub use reset_circuit_breaker::*;
pub use set_paused::*;
