use anchor_lang::prelude::*;

use crate::constants::{MAX_TOKEN_NAME_LEN, MAX_TOKEN_SYMBOL_LEN};
use crate::errors::Aistm7Error;
use crate::state::spend_daily;

/// Supply and reward limits.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct TokenParams {
    /// `mint_to` never takes the supply above this (base units).
    pub max_supply: u64,
    /// Rewards paid per UTC day at most (base units).
    pub reward_daily_cap: u64,
}

impl TokenParams {
    pub fn validate(&self) -> Result<()> {
        require!(self.max_supply > 0, Aistm7Error::InvalidParameter);
        Ok(())
    }
}

/// The token's display name and symbol, as the program records them (the
/// Metaplex metadata program is not part of this deployment).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct TokenInfo {
    #[max_len(MAX_TOKEN_NAME_LEN)]
    pub name: String,
    #[max_len(MAX_TOKEN_SYMBOL_LEN)]
    pub symbol: String,
}

impl TokenInfo {
    pub fn validate(&self) -> Result<()> {
        require!(
            !self.name.is_empty() && self.name.len() <= MAX_TOKEN_NAME_LEN,
            Aistm7Error::InvalidParameter
        );
        require!(
            !self.symbol.is_empty() && self.symbol.len() <= MAX_TOKEN_SYMBOL_LEN,
            Aistm7Error::InvalidParameter
        );
        Ok(())
    }
}

/// Rewards paid on the current UTC day.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default)]
pub struct RewardLedger {
    /// Days since the epoch of `paid_today`.
    pub day: i64,
    pub paid_today: u64,
    pub paid_total: u64,
}

impl RewardLedger {
    /// Record `amount` paid at `now`, failing past `daily_cap`.
    pub fn record(&mut self, amount: u64, now: i64, daily_cap: u64) -> Result<()> {
        spend_daily(&mut self.day, &mut self.paid_today, amount, now, daily_cap, Aistm7Error::RewardCapExceeded)?;
        self.paid_total = self.paid_total.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
        Ok(())
    }
}
