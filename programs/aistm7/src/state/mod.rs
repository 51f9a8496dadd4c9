pub mod access_pass;
pub mod buyback;
pub mod config;
pub mod fee_schedule;
pub mod requirement;
pub mod token_params;
pub mod wallet_link;

pub use access_pass::*;
pub use buyback::*;
pub use config::*;
pub use fee_schedule::*;
pub use requirement::*;
pub use token_params::*;
pub use wallet_link::*;
