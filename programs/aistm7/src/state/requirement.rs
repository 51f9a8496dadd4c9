use anchor_lang::prelude::*;

use crate::errors::Aistm7Error;
use crate::math;

/// What a holder must own: `target_usd_micros` worth of tokens, clamped to
/// [`min_tokens`, `max_tokens`] whole tokens.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct RequirementParams {
    /// USD value to hold, in micro-USD (15_000_000 = $15).
    pub target_usd_micros: u64,
    pub min_tokens: u64,
    pub max_tokens: u64,
    /// Minimum price move since the last applied price, in bps (100 = 1%).
    pub update_threshold_bps: u16,
    /// Minimum seconds between two applied updates.
    pub min_update_interval_secs: u32,
    /// How long a successful `verify_access` result stays valid: its
    /// `valid_until` is the check's time plus this.
    pub pass_validity_secs: u32,
    /// Seconds between `request_unlock` and `withdraw_unlocked`; at least
    /// `pass_validity_secs`, so counted tokens outlive the results they backed.
    pub unlock_cooldown_secs: u32,
}

impl RequirementParams {
    pub fn validate(&self, decimals: u8) -> Result<()> {
        require!(self.target_usd_micros > 0, Aistm7Error::InvalidParameter);
        require!(
            self.min_tokens > 0 && self.min_tokens <= self.max_tokens,
            Aistm7Error::InvalidParameter
        );
        math::whole_tokens(self.max_tokens, decimals).map_err(|_| error!(Aistm7Error::InvalidParameter))?;
        require!(
            self.update_threshold_bps as u128 <= math::BPS_DENOMINATOR,
            Aistm7Error::InvalidParameter
        );
        require!(self.pass_validity_secs > 0, Aistm7Error::InvalidParameter);
        require!(
            self.unlock_cooldown_secs >= self.pass_validity_secs,
            Aistm7Error::InvalidParameter
        );
        Ok(())
    }
}

/// Which Pyth feeds price the requirement and how much they are trusted.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct OracleParams {
    pub primary_feed_id: [u8; 32],
    /// All zeroes: no backup feed.
    pub backup_feed_id: [u8; 32],
    pub max_price_age_secs: u32,
    /// Maximum confidence interval, in bps of the price.
    pub max_confidence_bps: u16,
    /// Maximum spot/EMA divergence, in bps of the EMA price.
    pub max_ema_divergence_bps: u16,
    /// Maximum primary/backup divergence, in bps of the primary price.
    pub max_feed_divergence_bps: u16,
}

impl OracleParams {
    pub fn has_backup(&self) -> bool {
        self.backup_feed_id != [0; 32]
    }

    pub fn validate(&self) -> Result<()> {
        require!(self.primary_feed_id != [0; 32], Aistm7Error::InvalidParameter);
        require!(self.backup_feed_id != self.primary_feed_id, Aistm7Error::InvalidParameter);
        require!(self.max_price_age_secs > 0, Aistm7Error::InvalidParameter);
        for bps in [
            self.max_confidence_bps,
            self.max_ema_divergence_bps,
            self.max_feed_divergence_bps,
        ] {
            require!(
                bps > 0 && bps as u128 <= math::BPS_DENOMINATOR,
                Aistm7Error::InvalidParameter
            );
        }
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum PriceSource {
    None,
    Primary,
    Backup,
}

/// A fixed requirement the admin set for an emergency, until `expires_at`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct RequirementOverride {
    /// Token base units.
    pub amount: u64,
    pub expires_at: i64,
}

/// The requirement as last computed, and the price that set it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct RequirementState {
    /// Token base units; 0 until the first price is applied.
    pub required: u64,
    pub price: i64,
    pub expo: i32,
    pub publish_time: i64,
    pub posted_slot: u64,
    pub source: PriceSource,
    /// Cluster time of the last applied update.
    pub updated_at: i64,
    pub breaker_tripped: bool,
    pub emergency_override: Option<RequirementOverride>,
    /// Publish times of the newest primary and backup updates a refresh
    /// used: an older update of either feed is refused.
    pub primary_publish_time: i64,
    pub backup_publish_time: i64,
}

impl RequirementState {
    pub const UNPRICED: RequirementState = RequirementState {
        required: 0,
        price: 0,
        expo: 0,
        publish_time: 0,
        posted_slot: 0,
        source: PriceSource::None,
        updated_at: 0,
        breaker_tripped: false,
        emergency_override: None,
        primary_publish_time: 0,
        backup_publish_time: 0,
    };

    pub fn is_priced(&self) -> bool {
        self.required > 0
    }

    /// The override while it lasts, else the computed requirement.
    pub fn effective(&self, now: i64) -> Result<u64> {
        match self.emergency_override {
            Some(o) if now < o.expires_at => Ok(o.amount),
            _ if self.is_priced() => Ok(self.required),
            _ => err!(Aistm7Error::RequirementNotPriced),
        }
    }
}
