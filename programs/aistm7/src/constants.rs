//! PDA seeds and fixed limits. `keeper/addresses.py` mirrors the seeds.

/// The single config account: `[SEED_CONFIG]`.
pub const SEED_CONFIG: &[u8] = b"config";

/// The treasury token account of the configured mint: `[SEED_TREASURY, mint]`.
pub const SEED_TREASURY: &[u8] = b"treasury";

/// The reward vault: `[SEED_REWARD_VAULT, mint]`, paid out by the rewarder.
pub const SEED_REWARD_VAULT: &[u8] = b"reward_vault";

/// The buy-back vault: `[SEED_BUYBACK_VAULT, mint]`, where bought tokens land.
pub const SEED_BUYBACK_VAULT: &[u8] = b"buyback_vault";

/// The PDA that is the token's mint authority: `[SEED_MINT_AUTHORITY]`.
pub const SEED_MINT_AUTHORITY: &[u8] = b"mint_authority";

/// The PDA users approve as delegate for backend-charged fees: `[SEED_FEE_DELEGATE]`.
pub const SEED_FEE_DELEGATE: &[u8] = b"fee_delegate";

/// The service-fee schedule: `[SEED_FEES]`.
pub const SEED_FEES: &[u8] = b"fees";

/// One receipt per charged request id: `[SEED_CHARGE, request_id]`.
pub const SEED_CHARGE: &[u8] = b"charge";

/// A wallet's link to an off-chain user: `[SEED_LINK, wallet]`.
pub const SEED_LINK: &[u8] = b"link";

/// One account per reported revenue batch: `[SEED_REVENUE_BATCH, batch_seq as u64 LE]`.
pub const SEED_REVENUE_BATCH: &[u8] = b"revenue_batch";

/// Room in the fee schedule, and the longest service name in bytes.
pub const MAX_SERVICES: usize = 32;
pub const MAX_SERVICE_NAME_LEN: usize = 32;

pub const SECONDS_PER_DAY: i64 = 86_400;

/// Longest token name and symbol in bytes (Metaplex's limits).
pub const MAX_TOKEN_NAME_LEN: usize = 32;
pub const MAX_TOKEN_SYMBOL_LEN: usize = 10;

/// Layout version written into new config accounts.
pub const CONFIG_VERSION: u8 = 1;

/// A wallet's locked tokens: `[SEED_LOCK, wallet]`; all locks share the
/// vault `[SEED_LOCK_VAULT, mint]` the config owns.
pub const SEED_LOCK: &[u8] = b"lock";
pub const SEED_LOCK_VAULT: &[u8] = b"lock_vault";

/// Defaults of the access requirement (see `RequirementParams`).
pub const DEFAULT_TARGET_USD_MICROS: u64 = 15_000_000;
pub const DEFAULT_MIN_TOKENS: u64 = 100;
pub const DEFAULT_MAX_TOKENS: u64 = 10_000;
pub const DEFAULT_UPDATE_THRESHOLD_BPS: u16 = 100;
pub const DEFAULT_MIN_UPDATE_INTERVAL_SECS: u32 = 60;
pub const DEFAULT_PASS_VALIDITY_SECS: u32 = 3_600;
/// Locked tokens leave the lock this long after `request_unlock`; never
/// shorter than the pass validity, so units a pass counted stay locked while
/// the pass is valid.
pub const DEFAULT_UNLOCK_COOLDOWN_SECS: u32 = 86_400;

/// Defaults of the oracle guard rails (see `OracleParams`).
pub const DEFAULT_MAX_PRICE_AGE_SECS: u32 = 60;
pub const DEFAULT_MAX_CONFIDENCE_BPS: u16 = 200;
pub const DEFAULT_MAX_EMA_DIVERGENCE_BPS: u16 = 500;
pub const DEFAULT_MAX_FEED_DIVERGENCE_BPS: u16 = 200;

/// How far a Pyth publish time may run ahead of the cluster clock, which
/// trails wall-clock time by a few seconds on mainnet.
pub const MAX_PUBLISH_TIME_AHEAD_SECS: i64 = 10;

/// The buy-order treasury: `[SEED_BUYBACK]`; its quote vault `[SEED_QUOTE_VAULT]`.
pub const SEED_BUYBACK: &[u8] = b"buyback";
pub const SEED_QUOTE_VAULT: &[u8] = b"quote_vault";
/// A buy-order and its escrow: `[SEED_ORDER, id as u64 LE]`, `[SEED_ORDER_ESCROW, id]`.
pub const SEED_ORDER: &[u8] = b"order";
pub const SEED_ORDER_ESCROW: &[u8] = b"order_escrow";
/// A council proposal: `[SEED_PROPOSAL, id as u64 LE]`.
pub const SEED_PROPOSAL: &[u8] = b"proposal";

/// Settled orders, executed or cancelled proposals and charge receipts can be
/// closed (rent back to whoever paid it) this long after they settled.
pub const RECORD_RETENTION_SECS: i64 = 7 * SECONDS_PER_DAY;

/// An approved proposal can be executed for this long after its time-lock;
/// then it expires, so an old approval cannot be spent later.
pub const PROPOSAL_EXECUTION_WINDOW_SECS: i64 = 14 * SECONDS_PER_DAY;

/// Two feeds are compared only when their publish times are this close.
pub const MAX_FEED_SKEW_SECS: i64 = 10;

/// The largest single revenue entry, ZAR cents (10,000,000 ZAR): a batch
/// whose total exceeds its events times this cannot be reported.
pub const MAX_REVENUE_ENTRY_CENTS: u64 = 10_000_000 * 100;
/// Council seats.
pub const MAX_COUNCIL: usize = 10;
