use anchor_lang::prelude::*;

/// The last successful access check of a wallet, PDA `[SEED_ACCESS, wallet]`.
/// Programs gating on it must check `valid_until` against the clock.
#[account]
#[derive(InitSpace)]
pub struct AccessPass {
    pub wallet: Pubkey,
    /// Token base units the wallet held at the check.
    pub balance: u64,
    /// The effective requirement at the check.
    pub required: u64,
    pub checked_at: i64,
    pub valid_until: i64,
    pub bump: u8,
}

/// What `verify_access` returns (return data) to a calling program.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessResult {
    pub wallet: Pubkey,
    pub balance: u64,
    pub required: u64,
    pub valid_until: i64,
}
