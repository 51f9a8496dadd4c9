//! Pure checked arithmetic for prices and amounts. Every operation returns
//! `MathOverflow` instead of wrapping, and rounding favours the protocol.

use anchor_lang::prelude::*;

use crate::errors::Aistm7Error;

/// Basis points: 10_000 = 100%.
pub const BPS_DENOMINATOR: u128 = 10_000;
/// Micro-USD per USD.
const MICRO_USD_EXPONENT: i32 = 6;

fn pow10(exponent: u32) -> Result<u128> {
    10u128.checked_pow(exponent).ok_or_else(|| error!(Aistm7Error::MathOverflow))
}

/// Token base units worth `target_micro_usd` at `price * 10^expo` USD per
/// whole token, for a mint with `decimals`, rounded up.
pub fn tokens_for_usd(target_micro_usd: u64, price: i64, expo: i32, decimals: u8) -> Result<u64> {
    require!(price > 0, Aistm7Error::NonPositivePrice);
    // units = target * 10^-6 / (price * 10^expo) * 10^decimals
    //       = target * 10^(decimals - 6 - expo) / price
    let shift = i32::from(decimals)
        .checked_sub(MICRO_USD_EXPONENT)
        .and_then(|s| s.checked_sub(expo))
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    let (numerator, denominator) = if shift >= 0 {
        let scale = pow10(shift.unsigned_abs())?;
        (u128::from(target_micro_usd).checked_mul(scale), Some(price as u128))
    } else {
        let scale = pow10(shift.unsigned_abs())?;
        (Some(u128::from(target_micro_usd)), (price as u128).checked_mul(scale))
    };
    let (numerator, denominator) = numerator
        .zip(denominator)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    let units = numerator.div_ceil(denominator);
    u64::try_from(units).map_err(|_| error!(Aistm7Error::MathOverflow))
}

/// `whole_tokens` in base units of a mint with `decimals`.
pub fn whole_tokens(whole_tokens: u64, decimals: u8) -> Result<u64> {
    let units = u128::from(whole_tokens)
        .checked_mul(pow10(u32::from(decimals))?)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    u64::try_from(units).map_err(|_| error!(Aistm7Error::MathOverflow))
}

/// `a * 10^a_expo` and `b * 10^b_expo` as integers at the smaller exponent.
fn at_common_exponent(a: i64, a_expo: i32, b: i64, b_expo: i32) -> Result<(i128, i128)> {
    let scale = |value: i64, by: i32| -> Result<i128> {
        let factor = 10i128
            .checked_pow(by.unsigned_abs())
            .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
        i128::from(value)
            .checked_mul(factor)
            .ok_or_else(|| error!(Aistm7Error::MathOverflow))
    };
    let common = a_expo.min(b_expo);
    Ok((scale(a, a_expo - common)?, scale(b, b_expo - common)?))
}

/// Whether `value` differs from `reference` by at least `bps` of `reference`
/// (both `* 10^expo`); `reference` must be positive.
pub fn moved_at_least(value: i64, value_expo: i32, reference: i64, reference_expo: i32, bps: u16) -> Result<bool> {
    let (value, reference) = at_common_exponent(value, value_expo, reference, reference_expo)?;
    let difference = value
        .checked_sub(reference)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?
        .unsigned_abs();
    let lhs = difference
        .checked_mul(BPS_DENOMINATOR)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    let rhs = reference
        .unsigned_abs()
        .checked_mul(u128::from(bps))
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    Ok(lhs >= rhs)
}

/// Whether `part` exceeds `bps` of `whole` (`part * 10_000 > bps * whole`).
pub fn exceeds_bps(part: u128, whole: u128, bps: u16) -> Result<bool> {
    let lhs = part
        .checked_mul(BPS_DENOMINATOR)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    let rhs = whole
        .checked_mul(u128::from(bps))
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?;
    Ok(lhs > rhs)
}

/// |a - b| in basis points of b, rounded up (both `* 10^expo`, b > 0).
pub fn divergence_bps(a: i64, a_expo: i32, b: i64, b_expo: i32) -> Result<u64> {
    let (a, b) = at_common_exponent(a, a_expo, b, b_expo)?;
    let difference = a.checked_sub(b).ok_or_else(|| error!(Aistm7Error::MathOverflow))?.unsigned_abs();
    let bps = difference
        .checked_mul(BPS_DENOMINATOR)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))?
        .div_ceil(b.unsigned_abs().max(1));
    Ok(u64::try_from(bps).unwrap_or(u64::MAX))
}

/// `value * 10^exponent`, dividing (rounded down) for a negative exponent.
pub fn shift_down(value: u128, exponent: i32) -> Result<u128> {
    let factor = pow10(exponent.unsigned_abs())?;
    if exponent >= 0 {
        value.checked_mul(factor).ok_or_else(|| error!(Aistm7Error::MathOverflow))
    } else {
        Ok(value / factor)
    }
}

/// `value * bps / 10_000`, rounded down.
pub fn apply_bps(value: u128, bps: u16) -> Result<u128> {
    value
        .checked_mul(u128::from(bps))
        .map(|scaled| scaled / BPS_DENOMINATOR)
        .ok_or_else(|| error!(Aistm7Error::MathOverflow))
}

pub fn to_u64(value: u128) -> Result<u64> {
    u64::try_from(value).map_err(|_| error!(Aistm7Error::MathOverflow))
}

#[cfg(test)]
mod tests {
    use super::*;

    const TARGET: u64 = 15_000_000;

    #[test]
    fn requirement_table_at_eight_decimals() {
        assert_eq!(tokens_for_usd(TARGET, 15_000_000, -8, 8).unwrap(), 10_000_000_000);
        assert_eq!(tokens_for_usd(TARGET, 10_000_000, -8, 8).unwrap(), 15_000_000_000);
        assert_eq!(tokens_for_usd(TARGET, 100_000, -8, 8).unwrap(), 1_500_000_000_000);
        assert_eq!(tokens_for_usd(TARGET, 100_000_000, -8, 8).unwrap(), 1_500_000_000);
        // 121.500009963... tokens, rounded up in base units.
        assert_eq!(tokens_for_usd(TARGET, 12_345_678, -8, 8).unwrap(), 12_150_000_997);
    }

    #[test]
    fn exponents_and_decimals_shift_the_same_value() {
        // $0.15 written with expo -5 and a 6-decimal mint: 100 tokens.
        assert_eq!(tokens_for_usd(TARGET, 15_000, -5, 6).unwrap(), 100_000_000);
        // A positive exponent: $150 per token -> 0.1 token.
        assert_eq!(tokens_for_usd(TARGET, 15, 1, 8).unwrap(), 10_000_000);
    }

    #[test]
    fn rejects_non_positive_prices_and_overflow() {
        assert!(tokens_for_usd(TARGET, 0, -8, 8).is_err());
        assert!(tokens_for_usd(TARGET, -1, -8, 8).is_err());
        assert!(tokens_for_usd(u64::MAX, 1, -30, 18).is_err());
        assert!(whole_tokens(u64::MAX, 8).is_err());
        assert_eq!(whole_tokens(10_000, 8).unwrap(), 1_000_000_000_000);
    }

    #[test]
    fn one_percent_threshold_boundary() {
        // 0.99% from 15_000_000 is 148_500; 1.00% is 150_000.
        assert!(!moved_at_least(15_148_500, -8, 15_000_000, -8, 100).unwrap());
        assert!(moved_at_least(15_150_000, -8, 15_000_000, -8, 100).unwrap());
        assert!(moved_at_least(14_850_000, -8, 15_000_000, -8, 100).unwrap());
        assert!(!moved_at_least(14_851_500, -8, 15_000_000, -8, 100).unwrap());
        // Same price written at another exponent has not moved.
        assert!(!moved_at_least(1_500_000, -7, 15_000_000, -8, 1).unwrap());
    }

    #[test]
    fn bps_comparisons() {
        assert!(!exceeds_bps(200, 10_000, 200).unwrap());
        assert!(exceeds_bps(201, 10_000, 200).unwrap());
        assert_eq!(divergence_bps(102, 0, 100, 0).unwrap(), 200);
        assert_eq!(divergence_bps(98, 0, 100, 0).unwrap(), 200);
        assert_eq!(divergence_bps(1_001, -1, 100, 0).unwrap(), 10);
    }
}
