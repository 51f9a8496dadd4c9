use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::{CircuitBreakerTripped, RequirementUpdated};
use crate::math;
use crate::oracle::{check_quality, load_price, load_update, OraclePrice};
use crate::state::{Config, PriceSource};

/// Permissionless: re-price the access requirement from the pinned Pyth feeds.
#[derive(Accounts)]
pub struct RefreshRequirement<'info> {
    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    /// CHECK: validated by `oracle::load_update` against the primary feed id.
    pub primary_price: UncheckedAccount<'info>,

    /// CHECK: validated by `oracle::load_update` against the backup feed id;
    /// required when a backup feed is configured, ignored otherwise.
    pub backup_price: Option<UncheckedAccount<'info>>,
}

/// The price to apply, or a tripped breaker.
enum Pricing {
    Use(OraclePrice, PriceSource, [u8; 32]),
    Trip(CircuitBreakerTripped),
}

impl RefreshRequirement<'_> {
    /// With a backup feed configured, both accounts must be that feed's and
    /// the primary's: an identity failure of either is an error, and only a
    /// quality failure of the primary lets the backup price alone. Which
    /// feeds are consulted is the config's choice, never the caller's.
    fn pricing(&self, clock: &Clock) -> Result<Pricing> {
        let oracle = &self.config.oracle_params;
        if !oracle.has_backup() {
            let price = load_price(&self.primary_price, &oracle.primary_feed_id, oracle, clock)?;
            return Ok(Pricing::Use(price, PriceSource::Primary, oracle.primary_feed_id));
        }
        let backup_account = self.backup_price.as_ref().ok_or(Aistm7Error::MissingBackupPrice)?;
        require_keys_neq!(self.primary_price.key(), backup_account.key(), Aistm7Error::DuplicatePriceAccount);
        let primary = check_quality(&load_update(&self.primary_price, &oracle.primary_feed_id)?, oracle, clock);
        let backup = check_quality(&load_update(backup_account, &oracle.backup_feed_id)?, oracle, clock);
        Ok(match (primary, backup) {
            (Ok(p), Ok(b)) => {
                let divergence_bps = math::divergence_bps(b.price, b.expo, p.price, p.expo)?;
                if divergence_bps > u64::from(oracle.max_feed_divergence_bps) {
                    Pricing::Trip(CircuitBreakerTripped {
                        primary_price: p.price,
                        primary_expo: p.expo,
                        backup_price: b.price,
                        backup_expo: b.expo,
                        divergence_bps,
                    })
                } else {
                    Pricing::Use(p, PriceSource::Primary, oracle.primary_feed_id)
                }
            }
            (Ok(p), Err(backup_error)) => {
                msg!("backup feed unusable ({}); priced by the primary feed", backup_error);
                Pricing::Use(p, PriceSource::Primary, oracle.primary_feed_id)
            }
            (Err(primary_error), Ok(b)) => {
                msg!("primary feed unusable ({}); priced by the backup feed", primary_error);
                Pricing::Use(b, PriceSource::Backup, oracle.backup_feed_id)
            }
            (Err(primary_error), Err(_)) => return Err(primary_error),
        })
    }
}

/// Applies a new requirement only when the price moved at least the update
/// threshold since the last applied price and the minimum interval has
/// passed; otherwise it fails with `BelowUpdateThreshold` / `UpdateTooSoon`
/// and changes nothing (a failed preflight costs the caller no fee).
pub fn handler(ctx: Context<RefreshRequirement>) -> Result<()> {
    let config = &ctx.accounts.config;
    config.require_not_paused()?;
    require!(!config.requirement.breaker_tripped, Aistm7Error::CircuitBreakerTripped);
    let clock = Clock::get()?;

    let (price, source, feed) = match ctx.accounts.pricing(&clock)? {
        Pricing::Use(price, source, feed) => (price, source, feed),
        Pricing::Trip(event) => {
            ctx.accounts.config.requirement.breaker_tripped = true;
            emit_event!(event);
            return Ok(());
        }
    };

    let params = config.requirement_params;
    let state = config.requirement;
    if state.is_priced() {
        let elapsed = clock.unix_timestamp.saturating_sub(state.updated_at);
        require!(
            elapsed >= i64::from(params.min_update_interval_secs),
            Aistm7Error::UpdateTooSoon
        );
        require!(
            math::moved_at_least(price.price, price.expo, state.price, state.expo, params.update_threshold_bps)?,
            Aistm7Error::BelowUpdateThreshold
        );
    }

    let decimals = config.mint_decimals;
    let computed = math::tokens_for_usd(params.target_usd_micros, price.price, price.expo, decimals)?;
    let required = computed.clamp(
        math::whole_tokens(params.min_tokens, decimals)?,
        math::whole_tokens(params.max_tokens, decimals)?,
    );

    let requirement = &mut ctx.accounts.config.requirement;
    let old = requirement.required;
    requirement.required = required;
    requirement.price = price.price;
    requirement.expo = price.expo;
    requirement.publish_time = price.publish_time;
    requirement.posted_slot = price.posted_slot;
    requirement.source = source;
    requirement.updated_at = clock.unix_timestamp;

    emit_event!(RequirementUpdated {
        old,
        new: required,
        price: price.price,
        expo: price.expo,
        feed,
        source,
        publish_time: price.publish_time,
    });
    Ok(())
}
