pub mod close_buy_order;
pub mod close_charge_receipt;
pub mod close_expired_buy_order;
pub mod close_proposal;
pub mod execute_proposal;
pub mod refresh_requirement;

pub use close_buy_order::*;
pub use close_charge_receipt::*;
pub use close_expired_buy_order::*;
pub use close_proposal::*;
pub use execute_proposal::*;
pub use refresh_requirement::*;
