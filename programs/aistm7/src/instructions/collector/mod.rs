pub mod charge_service_fee;

pub use charge_service_fee::*;
