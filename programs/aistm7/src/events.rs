//! Events for every state change. On SBF they go through `emit!`
//! (`sol_log_data`); when the program runs as a native builtin they are logged
//! as `Program data: <base64>` through `msg!`, which the local validator
//! reports exactly as `sol_log_data` output.

use anchor_lang::prelude::*;

use crate::state::{
    Authorities, BuybackParams, OracleParams, OrderStatus, PriceSource, ProposalAction, RequirementOverride,
    RequirementParams, RevenueTotals, ServiceTerms, TokenInfo, TokenParams,
};

/// Emit an Anchor event, on SBF and natively alike.
#[macro_export]
macro_rules! emit_event {
    ($event:expr) => {{
        #[cfg(target_os = "solana")]
        ::anchor_lang::prelude::emit!($event);
        #[cfg(not(target_os = "solana"))]
        $crate::events::log_event_data(&::anchor_lang::Event::data(&$event));
    }};
}

#[cfg(not(target_os = "solana"))]
pub fn log_event_data(data: &[u8]) {
    use base64::Engine as _;
    msg!(
        "Program data: {}",
        base64::engine::general_purpose::STANDARD.encode(data)
    );
}

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub mint: Pubkey,
    pub treasury_vault: Pubkey,
    pub authorities: Authorities,
    pub token_info: TokenInfo,
}

#[event]
pub struct AuthoritiesUpdated {
    pub old: Authorities,
    pub new: Authorities,
}

#[event]
pub struct TreasuryDeposited {
    pub funder: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

#[event]
pub struct RequirementParamsUpdated {
    pub old: RequirementParams,
    pub new: RequirementParams,
}

#[event]
pub struct OracleParamsUpdated {
    pub old: OracleParams,
    pub new: OracleParams,
}

#[event]
pub struct RequirementOverrideSet {
    pub old: Option<RequirementOverride>,
    pub new: Option<RequirementOverride>,
}

#[event]
pub struct PauseChanged {
    pub old: bool,
    pub new: bool,
    pub guardian: Pubkey,
}

/// The computed requirement changed. `old` is 0 before the first price.
#[event]
pub struct RequirementUpdated {
    pub old: u64,
    pub new: u64,
    pub price: i64,
    pub expo: i32,
    pub feed: [u8; 32],
    pub source: PriceSource,
    pub publish_time: i64,
}

/// Both feeds were usable and disagreed beyond the limit: the requirement is
/// frozen until the guardian resets the breaker.
#[event]
pub struct CircuitBreakerTripped {
    pub primary_price: i64,
    pub primary_expo: i32,
    pub backup_price: i64,
    pub backup_expo: i32,
    pub divergence_bps: u64,
}

#[event]
pub struct CircuitBreakerReset {
    pub guardian: Pubkey,
}

#[event]
pub struct AccessVerified {
    pub wallet: Pubkey,
    pub locked: u64,
    pub required: u64,
    pub valid_until: i64,
}

#[event]
pub struct TokensLocked {
    pub wallet: Pubkey,
    pub amount: u64,
    /// The wallet's locked amount after this.
    pub locked: u64,
}

#[event]
pub struct UnlockRequested {
    pub wallet: Pubkey,
    pub amount: u64,
    pub locked: u64,
    pub unlocking: u64,
    pub unlock_at: i64,
}

/// Unlocked tokens went back to the wallet; `closed` when its lock emptied and closed.
#[event]
pub struct TokensUnlocked {
    pub wallet: Pubkey,
    pub amount: u64,
    pub closed: bool,
}

#[event]
pub struct TokenParamsUpdated {
    pub old: TokenParams,
    pub new: TokenParams,
}

#[event]
pub struct TokensMinted {
    pub destination: Pubkey,
    pub amount: u64,
    pub supply: u64,
}

#[event]
pub struct RewardVaultFunded {
    pub funder: Pubkey,
    pub amount: u64,
    pub balance: u64,
}

/// A service was added (`old` is `None`) or changed.
#[event]
pub struct ServiceFeeSet {
    pub name: String,
    pub old: Option<ServiceTerms>,
    pub new: ServiceTerms,
}

/// A service fee moved to the treasury. `request_id` is all zeroes when the
/// user paid directly.
#[event]
pub struct FeePaid {
    pub payer: Pubkey,
    pub service: String,
    pub amount: u64,
    pub request_id: [u8; 32],
    pub charged_by: Option<Pubkey>,
}

#[event]
pub struct RewardPaid {
    pub recipient: Pubkey,
    pub reward_type: u8,
    pub amount: u64,
    pub paid_today: u64,
}

#[event]
pub struct WalletLinked {
    pub wallet: Pubkey,
    pub user_ref: [u8; 32],
}

#[event]
pub struct WalletUnlinked {
    pub wallet: Pubkey,
    pub user_ref: [u8; 32],
}

#[event]
pub struct BuybackInitialized {
    pub quote_mint: Pubkey,
    pub quote_vault: Pubkey,
    pub params: BuybackParams,
    pub council: Vec<Pubkey>,
}

#[event]
pub struct RevenueReported {
    pub batch_seq: u64,
    /// The batch's account, holding its root for good.
    pub account: Pubkey,
    pub root: [u8; 32],
    pub events: u64,
    /// ZAR cents in this batch, per source.
    pub batch: RevenueTotals,
    /// ZAR cents reported so far.
    pub totals: RevenueTotals,
}

#[event]
pub struct BuyOrderOpened {
    pub id: u64,
    pub zar_allocated_cents: u64,
    pub revenue_used_cents: u64,
    pub quote_budget: u64,
    pub limit_price: u64,
    pub expires_at: i64,
}

#[event]
pub struct BuyOrderFilled {
    pub id: u64,
    pub seller: Pubkey,
    pub tokens: u64,
    pub price: u64,
    pub quote_paid: u64,
    pub burned: bool,
    pub status: OrderStatus,
}

#[event]
pub struct BuyOrderClosed {
    pub id: u64,
    pub status: OrderStatus,
    pub quote_returned: u64,
}

/// Tokens left a program vault: a direct quote withdrawal (`proposal` None)
/// or an executed council proposal.
#[event]
pub struct VaultWithdrawn {
    pub vault: Pubkey,
    pub amount: u64,
    pub destination: Pubkey,
    pub proposal: Option<u64>,
    /// Direct withdrawals so far today (unchanged by a proposal).
    pub withdrawn_today: u64,
}

#[event]
pub struct ProposalCreated {
    pub id: u64,
    pub action: ProposalAction,
    pub proposer: Pubkey,
}

/// `executable_at` is 0 until the approvals reach the threshold.
#[event]
pub struct ProposalApproved {
    pub id: u64,
    pub member: Pubkey,
    pub approvals: u8,
    pub executable_at: i64,
}

#[event]
pub struct ProposalExecuted {
    pub id: u64,
    pub action: ProposalAction,
}

#[event]
pub struct ProposalCancelled {
    pub id: u64,
    pub guardian: Pubkey,
}

#[event]
pub struct CouncilChanged {
    pub old_members: Vec<Pubkey>,
    pub old_approvals_required: u8,
    pub new_members: Vec<Pubkey>,
    pub new_approvals_required: u8,
    /// Pending proposals up to this id can no longer pass.
    pub proposals_stale_through: u64,
}

/// Quote sent to a settled order's escrow was returned to the quote vault
/// before the escrow closed (it was never part of the order's budget).
#[event]
pub struct EscrowSwept {
    pub order: u64,
    pub amount: u64,
}

/// A settled record was closed and its rent returned to whoever paid it.
#[event]
pub struct AccountClosed {
    pub account: Pubkey,
    pub rent_recipient: Pubkey,
    pub lamports: u64,
}
