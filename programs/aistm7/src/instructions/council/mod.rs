pub mod approve_withdrawal;

pub use approve_withdrawal::*;
