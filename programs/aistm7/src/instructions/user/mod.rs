pub mod connect_wallet;
pub mod deposit_treasury;
pub mod disconnect_wallet;
pub mod fill_buy_order;
pub mod pay_service_fee;
pub mod verify_access;

pub use connect_wallet::*;
pub use deposit_treasury::*;
pub use disconnect_wallet::*;
pub use fill_buy_order::*;
pub use pay_service_fee::*;
pub use verify_access::*;
