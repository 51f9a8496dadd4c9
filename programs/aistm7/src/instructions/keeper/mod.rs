pub mod execute_buy_order;
pub mod report_revenue;

pub use execute_buy_order::*;
pub use report_revenue::*;
