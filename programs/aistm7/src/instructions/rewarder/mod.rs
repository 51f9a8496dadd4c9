pub mod distribute_reward;

pub use distribute_reward::*;
