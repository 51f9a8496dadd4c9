pub mod initialize;
pub mod set_authorities;

pub use initialize::*;
pub use set_authorities::*;
