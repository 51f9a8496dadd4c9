pub mod approve_proposal;
pub mod create_proposal;

pub use approve_proposal::*;
pub use create_proposal::*;
