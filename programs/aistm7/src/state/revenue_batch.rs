use anchor_lang::prelude::*;

use crate::constants::MAX_REVENUE_ENTRY_CENTS;
use crate::errors::Aistm7Error;

/// Revenue reported so far, ZAR cents.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default)]
pub struct RevenueTotals {
    pub course_sale: u64,
    pub subscription: u64,
    pub other: u64,
    pub total: u64,
}

impl RevenueTotals {
    pub fn add(&mut self, other: &RevenueTotals) -> Result<()> {
        let add = |a: u64, b: u64| a.checked_add(b).ok_or(error!(Aistm7Error::MathOverflow));
        *self = RevenueTotals {
            course_sale: add(self.course_sale, other.course_sale)?,
            subscription: add(self.subscription, other.subscription)?,
            other: add(self.other, other.other)?,
            total: add(self.total, other.total)?,
        };
        Ok(())
    }
}

/// What a revenue batch commits to: the root of its Merkle-sum tree (format
/// v1, `keeper/revenue_tree.py`) and the sums that root carries. The program
/// never sees the events; it checks that the sums are possible for `events`
/// events of 1 cent to `MAX_REVENUE_ENTRY_CENTS` each, and counts them.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct BatchCommitment {
    pub root: [u8; 32],
    pub course_sale: u64,
    pub subscription: u64,
    pub other: u64,
    pub events: u64,
}

impl BatchCommitment {
    /// The batch's totals: `InvalidRevenueBatch` for no events, a zero root or
    /// less than a cent an event; `RevenueEntryTooLarge` when the events
    /// cannot all be within the largest entry; `MathOverflow` when the sum
    /// does not fit.
    pub fn totals(&self) -> Result<RevenueTotals> {
        require!(self.events > 0 && self.root != [0; 32], Aistm7Error::InvalidRevenueBatch);
        let total = self
            .course_sale
            .checked_add(self.subscription)
            .and_then(|sum| sum.checked_add(self.other))
            .ok_or(Aistm7Error::MathOverflow)?;
        require!(total >= self.events, Aistm7Error::InvalidRevenueBatch);
        require!(
            u128::from(total) <= u128::from(self.events) * u128::from(MAX_REVENUE_ENTRY_CENTS),
            Aistm7Error::RevenueEntryTooLarge
        );
        Ok(RevenueTotals { course_sale: self.course_sale, subscription: self.subscription, other: self.other, total })
    }
}

/// PDA `[SEED_REVENUE_BATCH, batch_seq as u64 LE]`: one per reported batch,
/// never closed, so every root ever committed can be read back from
/// accounts (an auditor needs no transaction history).
#[account]
#[derive(InitSpace)]
pub struct RevenueBatch {
    pub batch_seq: u64,
    pub root: [u8; 32],
    pub totals: RevenueTotals,
    pub events: u64,
    pub reported_at: i64,
    pub slot: u64,
    pub bump: u8,
}
