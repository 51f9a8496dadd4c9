pub mod deposit_treasury;

pub use deposit_treasury::*;
