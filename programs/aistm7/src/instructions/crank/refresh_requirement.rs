use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::{CircuitBreakerTripped, RequirementUpdated};
use crate::math;
use crate::oracle::{load_price, OraclePrice};
use crate::state::{Config, PriceSource};

/// Permissionless: re-price the access requirement from the pinned Pyth feeds.
#[derive(Accounts)]
pub struct RefreshRequirement<'info> {
    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    /// CHECK: validated by `oracle::load_price` against the primary feed id.
    pub primary_price: UncheckedAccount<'info>,

    /// CHECK: validated by `oracle::load_price` against the backup feed id;
    /// used only when a backup feed is configured.
    pub backup_price: Option<UncheckedAccount<'info>>,
}

/// The price to apply, or a tripped breaker.
enum Pricing {
    Use(OraclePrice, PriceSource, [u8; 32]),
    Trip(CircuitBreakerTripped),
}

impl RefreshRequirement<'_> {
    fn pricing(&self, clock: &Clock) -> Result<Pricing> {
        let oracle = &self.config.oracle_params;
        let primary = load_price(&self.primary_price, &oracle.primary_feed_id, oracle, clock);
        let backup = match &self.backup_price {
            Some(account) if oracle.has_backup() => Some(load_price(account, &oracle.backup_feed_id, oracle, clock)),
            _ => None,
        };
        Ok(match (primary, backup) {
            (Ok(p), Some(Ok(b))) => {
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
            (Ok(p), _) => Pricing::Use(p, PriceSource::Primary, oracle.primary_feed_id),
            (Err(primary_error), Some(Ok(b))) => {
                msg!("primary feed unusable ({}); priced by the backup feed", primary_error);
                Pricing::Use(b, PriceSource::Backup, oracle.backup_feed_id)
            }
            (Err(primary_error), _) => return Err(primary_error),
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
