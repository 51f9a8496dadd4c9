pub mod close_expired_buy_order;
pub mod execute_withdrawal;
pub mod refresh_requirement;

pub use close_expired_buy_order::*;
pub use execute_withdrawal::*;
pub use refresh_requirement::*;
