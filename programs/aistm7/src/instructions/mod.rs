pub mod admin;
pub mod collector;
pub mod crank;
pub mod guardian;
pub mod rewarder;
pub mod user;

pub use admin::*;
pub use collector::*;
pub use crank::*;
pub use guardian::*;
pub use rewarder::*;
pub use user::*;
