use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::PriceUpdateV2;

use crate::constants::{MAX_FEED_SKEW_SECS, SEED_CONFIG};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::{CircuitBreakerTripped, RequirementUpdated};
use crate::math;
use crate::oracle::{check_quality, load_update, OraclePrice};
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

/// What a refresh read: the pricing and the publish times of the updates
/// whose identity checked out.
struct Reading {
    pricing: Pricing,
    primary_publish_time: i64,
    backup_publish_time: Option<i64>,
}

impl RefreshRequirement<'_> {
    /// Load a feed's update, refusing one older than the newest already used.
    fn load(&self, account: &AccountInfo, feed_id: &[u8; 32], newest_used: i64) -> Result<PriceUpdateV2> {
        let update = load_update(account, feed_id)?;
        require!(
            update.price_message.publish_time >= newest_used,
            Aistm7Error::PriceOlderThanLastUsed
        );
        Ok(update)
    }

    /// With a backup feed configured, both accounts must be that feed's and
    /// the primary's: an identity failure of either is an error, and only a
    /// quality failure of one lets the other price alone, within the feed
    /// divergence limit of the last applied price. Which feeds are consulted
    /// is the config's choice, never the caller's.
    fn read(&self, clock: &Clock) -> Result<Reading> {
        let oracle = &self.config.oracle_params;
        let state = &self.config.requirement;
        let backup_account = if oracle.has_backup() {
            let account = self.backup_price.as_ref().ok_or(Aistm7Error::MissingBackupPrice)?;
            require_keys_neq!(self.primary_price.key(), account.key(), Aistm7Error::DuplicatePriceAccount);
            Some(account)
        } else {
            None
        };
        let primary = self.load(&self.primary_price, &oracle.primary_feed_id, state.primary_publish_time)?;
        let primary_publish_time = primary.price_message.publish_time;
        let Some(backup_account) = backup_account else {
            let price = check_quality(&primary, oracle, clock)?;
            let pricing = Pricing::Use(price, PriceSource::Primary, oracle.primary_feed_id);
            return Ok(Reading { pricing, primary_publish_time, backup_publish_time: None });
        };
        let backup = self.load(backup_account, &oracle.backup_feed_id, state.backup_publish_time)?;
        let backup_publish_time = Some(backup.price_message.publish_time);
        let pricing = match (check_quality(&primary, oracle, clock), check_quality(&backup, oracle, clock)) {
            (Ok(p), Ok(b)) => {
                require!(
                    p.publish_time.abs_diff(b.publish_time) <= MAX_FEED_SKEW_SECS.unsigned_abs(),
                    Aistm7Error::FeedsOutOfSync
                );
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
                self.alone(p, PriceSource::Primary, oracle.primary_feed_id)?
            }
            (Err(primary_error), Ok(b)) => {
                msg!("primary feed unusable ({}); priced by the backup feed", primary_error);
                self.alone(b, PriceSource::Backup, oracle.backup_feed_id)?
            }
            (Err(primary_error), Err(_)) => return Err(primary_error),
        };
        Ok(Reading { pricing, primary_publish_time, backup_publish_time })
    }

    /// One feed pricing without the other to check it may move the
    /// requirement's price at most the feed divergence limit.
    fn alone(&self, price: OraclePrice, source: PriceSource, feed: [u8; 32]) -> Result<Pricing> {
        let state = &self.config.requirement;
        if state.is_priced() {
            let moved_bps = math::divergence_bps(price.price, price.expo, state.price, state.expo)?;
            require!(
                moved_bps <= u64::from(self.config.oracle_params.max_feed_divergence_bps),
                Aistm7Error::LoneFeedDiverges
            );
        }
        Ok(Pricing::Use(price, source, feed))
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

    let reading = ctx.accounts.read(&clock)?;
    let requirement = &mut ctx.accounts.config.requirement;
    requirement.primary_publish_time = reading.primary_publish_time;
    if let Some(backup_publish_time) = reading.backup_publish_time {
        requirement.backup_publish_time = backup_publish_time;
    }
    let (price, source, feed) = match reading.pricing {
        Pricing::Use(price, source, feed) => (price, source, feed),
        Pricing::Trip(event) => {
            requirement.breaker_tripped = true;
            emit_event!(event);
            return Ok(());
        }
    };
    let config = &ctx.accounts.config;

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
