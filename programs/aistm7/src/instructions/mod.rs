pub mod admin;
pub mod crank;
pub mod guardian;
pub mod user;

pub use admin::*;
pub use crank::*;
pub use guardian::*;
pub use user::*;
