//! Load and validate a Pyth `PriceUpdateV2` account, nothing else.
//!
//! Two kinds of check, kept apart because the backup feed may stand in for
//! the primary only on the second kind:
//! - identity (`load_update`): owner, layout, full verification, feed id.
//!   A failure means the account is not the feed at all: always an error.
//! - quality (`check_quality`): positive, not in the future, fresh, tight
//!   confidence, near its EMA. A failure means the feed is unusable now.

use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};

use crate::constants::MAX_PUBLISH_TIME_AHEAD_SECS;
use crate::errors::Aistm7Error;
use crate::math;
use crate::state::OracleParams;

/// A price that passed every guard rail.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OraclePrice {
    pub price: i64,
    pub conf: u64,
    pub expo: i32,
    pub publish_time: i64,
    pub posted_slot: u64,
    pub ema_price: i64,
}

impl OraclePrice {
    /// The price less its confidence: what the treasury pays per unit when it
    /// buys, so a wide band costs the seller, not the treasury.
    pub fn lower_bound(&self) -> Result<OraclePrice> {
        let conf = i64::try_from(self.conf).map_err(|_| error!(Aistm7Error::NonPositivePrice))?;
        let price = self.price.checked_sub(conf).ok_or(Aistm7Error::MathOverflow)?;
        require!(price > 0, Aistm7Error::NonPositivePrice);
        Ok(OraclePrice { price, conf: 0, ..*self })
    }
}

/// Read `account` as the price of `feed_id` and apply the guard rails of `params`.
pub fn load_price(account: &AccountInfo, feed_id: &[u8; 32], params: &OracleParams, clock: &Clock) -> Result<OraclePrice> {
    check_quality(&load_update(account, feed_id)?, params, clock)
}

/// Read `account` as a fully verified update of `feed_id` (identity checks only).
pub fn load_update(account: &AccountInfo, feed_id: &[u8; 32]) -> Result<PriceUpdateV2> {
    require_keys_eq!(*account.owner, pyth_solana_receiver_sdk::ID, Aistm7Error::WrongPriceOwner);
    let data = account.try_borrow_data()?;
    let update = PriceUpdateV2::try_deserialize(&mut &data[..]).map_err(|_| error!(Aistm7Error::MalformedPriceAccount))?;
    check_identity(&update, feed_id)?;
    Ok(update)
}

fn check_identity(update: &PriceUpdateV2, feed_id: &[u8; 32]) -> Result<()> {
    require!(
        update.verification_level == VerificationLevel::Full,
        Aistm7Error::PartialVerification
    );
    require!(update.price_message.feed_id == *feed_id, Aistm7Error::WrongFeedId);
    Ok(())
}

/// The guard rails on the price itself.
pub fn check_quality(update: &PriceUpdateV2, params: &OracleParams, clock: &Clock) -> Result<OraclePrice> {
    let message = &update.price_message;
    require!(message.price > 0 && message.ema_price > 0, Aistm7Error::NonPositivePrice);
    require!(
        message.publish_time <= clock.unix_timestamp.saturating_add(MAX_PUBLISH_TIME_AHEAD_SECS)
            && update.posted_slot <= clock.slot,
        Aistm7Error::FuturePrice
    );
    require!(
        clock.unix_timestamp.saturating_sub(message.publish_time) <= i64::from(params.max_price_age_secs),
        Aistm7Error::StalePrice
    );
    require!(
        !math::exceeds_bps(u128::from(message.conf), message.price as u128, params.max_confidence_bps)?,
        Aistm7Error::ConfidenceTooWide
    );
    let ema_gap = message.price.abs_diff(message.ema_price);
    require!(
        !math::exceeds_bps(u128::from(ema_gap), message.ema_price as u128, params.max_ema_divergence_bps)?,
        Aistm7Error::EmaDivergence
    );
    Ok(OraclePrice {
        price: message.price,
        conf: message.conf,
        expo: message.exponent,
        publish_time: message.publish_time,
        posted_slot: update.posted_slot,
        ema_price: message.ema_price,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use pyth_solana_receiver_sdk::price_update::PriceFeedMessage;

    const FEED: [u8; 32] = [7; 32];

    /// Identity and quality, as `load_price` checks them, on a decoded update.
    fn validate(update: &PriceUpdateV2, feed_id: &[u8; 32], params: &OracleParams, clock: &Clock) -> Result<OraclePrice> {
        check_identity(update, feed_id)?;
        check_quality(update, params, clock)
    }
    const NOW: i64 = 1_800_000_000;

    fn params() -> OracleParams {
        OracleParams {
            primary_feed_id: FEED,
            backup_feed_id: [0; 32],
            max_price_age_secs: 60,
            max_confidence_bps: 200,
            max_ema_divergence_bps: 500,
            max_feed_divergence_bps: 200,
        }
    }

    fn clock() -> Clock {
        Clock { slot: 1_000, unix_timestamp: NOW, ..Clock::default() }
    }

    fn update(edit: impl FnOnce(&mut PriceUpdateV2)) -> PriceUpdateV2 {
        let mut update = PriceUpdateV2 {
            write_authority: Pubkey::default(),
            verification_level: VerificationLevel::Full,
            price_message: PriceFeedMessage {
                feed_id: FEED,
                price: 15_000_000,
                conf: 10_000,
                exponent: -8,
                publish_time: NOW - 5,
                prev_publish_time: NOW - 6,
                ema_price: 15_000_000,
                ema_conf: 10_000,
            },
            posted_slot: 999,
        };
        edit(&mut update);
        update
    }

    fn rejects(edit: impl FnOnce(&mut PriceUpdateV2), expected: Aistm7Error) {
        let err = validate(&update(edit), &FEED, &params(), &clock()).unwrap_err();
        assert_eq!(err, error!(expected), "expected {expected:?}");
    }

    #[test]
    fn accepts_a_fresh_tight_price() {
        let price = validate(&update(|_| {}), &FEED, &params(), &clock()).unwrap();
        assert_eq!((price.price, price.expo, price.publish_time), (15_000_000, -8, NOW - 5));
    }

    #[test]
    fn rejects_each_bad_field_by_name() {
        rejects(|u| u.verification_level = VerificationLevel::Partial { num_signatures: 13 }, Aistm7Error::PartialVerification);
        rejects(|u| u.price_message.feed_id = [8; 32], Aistm7Error::WrongFeedId);
        rejects(|u| u.price_message.price = 0, Aistm7Error::NonPositivePrice);
        rejects(|u| u.price_message.price = -15_000_000, Aistm7Error::NonPositivePrice);
        rejects(|u| u.price_message.publish_time = NOW + MAX_PUBLISH_TIME_AHEAD_SECS + 1, Aistm7Error::FuturePrice);
        rejects(|u| u.posted_slot = 1_001, Aistm7Error::FuturePrice);
        rejects(|u| u.price_message.publish_time = NOW - 61, Aistm7Error::StalePrice);
        rejects(|u| u.price_message.conf = 300_001, Aistm7Error::ConfidenceTooWide);
        rejects(|u| u.price_message.ema_price = 14_200_000, Aistm7Error::EmaDivergence);
    }

    #[test]
    fn limits_are_inclusive() {
        let at_limits = update(|u| {
            u.price_message.publish_time = NOW - 60;
            u.price_message.conf = 300_000;
            u.price_message.ema_price = 15_000_000 * 10_000 / 10_500 + 1;
        });
        assert!(validate(&at_limits, &FEED, &params(), &clock()).is_ok());
    }
}
