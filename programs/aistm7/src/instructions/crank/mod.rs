pub mod refresh_requirement;

pub use refresh_requirement::*;
