//! Properties of the pure math over random inputs: monotonic in price,
//! rounding always in the program's favour, an error (never a panic) on
//! overflow.

use aistm7::{
    buyback_pricing::{cost_of, token_price_in_quote, zar_to_quote},
    math::tokens_for_usd,
    oracle::OraclePrice,
    state::{allocate, BuybackParams, QuoteRate},
};
use proptest::prelude::*;

fn price(price: i64, expo: i32) -> OraclePrice {
    OraclePrice { price, conf: 0, expo, publish_time: 0, posted_slot: 0, ema_price: price }
}

fn params(allocation_bps: u16, min: u64, max: u64) -> BuybackParams {
    BuybackParams {
        quote_rate: QuoteRate::UsdViaPyth,
        token_feed_id: [2; 32],
        usd_zar_feed_id: [1; 32],
        allocation_bps,
        min_allocation_cents: min,
        max_allocation_cents: max,
        max_slippage_bps: 100,
        order_ttl_secs: 3_600,
        daily_spend_cap: u64::MAX,
        burn_on_fill: true,
        direct_withdraw_limit: 0,
        timelock_secs: 172_800,
        approvals_required: 1,
    }
}

proptest! {
    #[test]
    fn the_requirement_never_undercounts_and_falls_as_the_price_rises(
        target in 1u64..=1_000_000_000_000,
        low in 1i64..=1_000_000_000_000,
        rise in 0i64..=1_000_000_000,
        expo in -12i32..=0,
        decimals in 0u8..=9,
    ) {
        let high = low + rise;
        let (Ok(at_low), Ok(at_high)) = (
            tokens_for_usd(target, low, expo, decimals),
            tokens_for_usd(target, high, expo, decimals),
        ) else {
            return Ok(());
        };
        prop_assert!(at_high <= at_low);
        // units * price * 10^expo / 10^decimals >= target / 10^6, in integers.
        let shift = i32::from(decimals) - 6 - expo;
        let (lhs, rhs) = if shift >= 0 {
            (u128::from(at_low) * low as u128, u128::from(target) * 10u128.pow(shift as u32))
        } else {
            (u128::from(at_low) * low as u128 * 10u128.pow((-shift) as u32), u128::from(target))
        };
        prop_assert!(lhs >= rhs, "rounded against the program");
    }

    #[test]
    fn the_requirement_math_never_panics(target: u64, price: i64, expo in -40i32..=40, decimals: u8) {
        let _ = tokens_for_usd(target, price, expo, decimals);
    }

    #[test]
    fn allocation_uses_no_more_than_it_may_and_grows_with_revenue(
        available: u64,
        more in 0u64..=1_000_000_000,
        bps in 1u16..=10_000,
        min in 1u64..=1_000_000,
        span in 0u64..=1_000_000_000_000,
    ) {
        let p = params(bps, min, min.saturating_add(span));
        let Ok(a) = allocate(available, &p) else {
            // Refused only below the minimum.
            prop_assert!(u128::from(available) * u128::from(bps) / 10_000 < u128::from(min));
            return Ok(());
        };
        prop_assert!(a.revenue_used_cents <= available);
        prop_assert!(a.allocated_cents <= p.max_allocation_cents);
        // The revenue used funds at least what was allocated, at allocation_bps.
        prop_assert!(u128::from(a.allocated_cents) * 10_000 <= u128::from(a.revenue_used_cents) * u128::from(bps));
        if let Ok(b) = allocate(available.saturating_add(more), &p) {
            prop_assert!(b.allocated_cents >= a.allocated_cents);
        }
    }

    #[test]
    fn budgets_round_down_and_shrink_as_the_rand_strengthens(
        cents in 0u64..=100_000_000_000,
        fx in 1i64..=100_000_000_000,
        rise in 0i64..=1_000_000_000,
        decimals in 0u8..=9,
    ) {
        let (Ok(weak), Ok(strong)) = (
            zar_to_quote(cents, QuoteRate::UsdViaPyth, &price(fx, -8), decimals),
            zar_to_quote(cents, QuoteRate::UsdViaPyth, &price(fx + rise, -8), decimals),
        ) else {
            return Ok(());
        };
        prop_assert!(strong <= weak);
        // quote / 10^decimals <= cents / 100 / (fx * 10^-8)
        prop_assert!(
            u128::from(weak) * fx as u128 * 100 <= u128::from(cents) * 10u128.pow(u32::from(decimals) + 8),
            "escrowed more than the exact value"
        );
    }

    #[test]
    fn token_prices_follow_the_oracle_and_fills_round_down(
        token in 1i64..=10_000_000_000,
        rise in 0i64..=1_000_000_000,
        fx in 1i64..=10_000_000_000,
        units_per_zar in 1u64..=1_000_000_000,
        tokens in 0u64..=1_000_000_000_000_000,
        decimals in 0u8..=9,
    ) {
        for rate in [QuoteRate::UsdViaPyth, QuoteRate::FixedZar { quote_units_per_zar: units_per_zar }] {
            let (Ok(low), Ok(high)) = (
                token_price_in_quote(&price(token, -8), rate, &price(fx, -8), 6),
                token_price_in_quote(&price(token + rise, -8), rate, &price(fx, -8), 6),
            ) else {
                continue;
            };
            prop_assert!(low <= high);
            if let Ok(paid) = cost_of(tokens, low, decimals) {
                prop_assert!(u128::from(paid) * 10u128.pow(u32::from(decimals)) <= u128::from(tokens) * u128::from(low));
            }
        }
    }

    #[test]
    fn the_lower_bound_never_exceeds_the_price(p in 1i64..=i64::MAX, conf: u64) {
        let oracle = OraclePrice { conf, ..price(p, -8) };
        if let Ok(bound) = oracle.lower_bound() {
            prop_assert!(bound.price > 0 && bound.price <= p);
            prop_assert_eq!(bound.price, p - conf as i64);
        }
    }
}
