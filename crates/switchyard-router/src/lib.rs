//! Switchyard's router: pick a deployment for each request, call it, and keep
//! the state that routing needs. Usable from Rust without any HTTP server.

pub mod config;
mod error;
pub mod state;
pub mod strategy;

pub use error::{Attempt, RouterError};
