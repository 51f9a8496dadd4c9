pub mod admin;
pub mod collector;
pub mod council;
pub mod crank;
pub mod guardian;
pub mod keeper;
pub mod rewarder;
pub mod user;

pub use admin::*;
pub use collector::*;
pub use council::*;
pub use crank::*;
pub use guardian::*;
pub use keeper::*;
pub use rewarder::*;
pub use user::*;
