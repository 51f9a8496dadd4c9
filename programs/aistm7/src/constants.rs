//! PDA seeds and fixed limits. `keeper/addresses.py` mirrors the seeds.

/// The single config account: `[SEED_CONFIG]`.
pub const SEED_CONFIG: &[u8] = b"config";

/// The treasury token account of the configured mint: `[SEED_TREASURY, mint]`.
pub const SEED_TREASURY: &[u8] = b"treasury";

/// Layout version written into new config accounts.
pub const CONFIG_VERSION: u8 = 1;

/// An `AccessPass` per wallet: `[SEED_ACCESS, wallet]`.
pub const SEED_ACCESS: &[u8] = b"access";

/// Defaults of the access requirement (see `RequirementParams`).
pub const DEFAULT_TARGET_USD_MICROS: u64 = 15_000_000;
pub const DEFAULT_MIN_TOKENS: u64 = 100;
pub const DEFAULT_MAX_TOKENS: u64 = 10_000;
pub const DEFAULT_UPDATE_THRESHOLD_BPS: u16 = 100;
pub const DEFAULT_MIN_UPDATE_INTERVAL_SECS: u32 = 60;
pub const DEFAULT_PASS_VALIDITY_SECS: u32 = 3_600;

/// Defaults of the oracle guard rails (see `OracleParams`).
pub const DEFAULT_MAX_PRICE_AGE_SECS: u32 = 60;
pub const DEFAULT_MAX_CONFIDENCE_BPS: u16 = 200;
pub const DEFAULT_MAX_EMA_DIVERGENCE_BPS: u16 = 500;
pub const DEFAULT_MAX_FEED_DIVERGENCE_BPS: u16 = 200;

/// How far a Pyth publish time may run ahead of the cluster clock, which
/// trails wall-clock time by a few seconds on mainnet.
pub const MAX_PUBLISH_TIME_AHEAD_SECS: i64 = 10;
