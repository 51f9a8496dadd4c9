//! PDA seeds and fixed limits. `keeper/addresses.py` mirrors the seeds.

/// The single config account: `[SEED_CONFIG]`.
pub const SEED_CONFIG: &[u8] = b"config";

/// The treasury token account of the configured mint: `[SEED_TREASURY, mint]`.
pub const SEED_TREASURY: &[u8] = b"treasury";

/// Layout version written into new config accounts.
pub const CONFIG_VERSION: u8 = 1;
