pub mod initialize;
pub mod set_authorities;
pub mod set_oracle_params;
pub mod set_requirement_override;
pub mod set_requirement_params;

pub use initialize::*;
pub use set_authorities::*;
pub use set_oracle_params::*;
pub use set_requirement_override::*;
pub use set_requirement_params::*;
