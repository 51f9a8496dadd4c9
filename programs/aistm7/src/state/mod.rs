pub mod access_pass;
pub mod config;
pub mod requirement;

pub use access_pass::*;
pub use config::*;
pub use requirement::*;
