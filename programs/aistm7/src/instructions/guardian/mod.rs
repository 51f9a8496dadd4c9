pub mod reset_circuit_breaker;
pub mod set_paused;

pub use reset_circuit_breaker::*;
pub use set_paused::*;
