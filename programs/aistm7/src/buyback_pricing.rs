//! ZAR and token prices in quote units, rounded down: the treasury never
//! escrows or pays more than the exact value.

use anchor_lang::prelude::*;

use crate::errors::Aistm7Error;
use crate::math::{shift_down, to_u64};
use crate::oracle::OraclePrice;
use crate::state::QuoteRate;

fn positive(price: &OraclePrice) -> Result<u128> {
    require!(price.price > 0, Aistm7Error::NonPositivePrice);
    Ok(price.price as u128)
}

/// Quote units worth `cents` ZAR. `usd_zar` (ZAR per USD) is needed for a USD quote.
pub fn zar_to_quote(cents: u64, rate: QuoteRate, usd_zar: &OraclePrice, quote_decimals: u8) -> Result<u64> {
    match rate {
        QuoteRate::FixedZar { quote_units_per_zar } => to_u64(u128::from(cents) * u128::from(quote_units_per_zar) / 100),
        QuoteRate::UsdViaPyth => {
            // cents / 100 / (p * 10^e) USD, times 10^decimals units per USD.
            let numerator = shift_down(u128::from(cents), i32::from(quote_decimals) - usd_zar.expo)?;
            let denominator = positive(usd_zar)?.checked_mul(100).ok_or(Aistm7Error::MathOverflow)?;
            to_u64(numerator / denominator)
        }
    }
}

/// Quote units per whole token at the token's USD price.
pub fn token_price_in_quote(token_usd: &OraclePrice, rate: QuoteRate, usd_zar: &OraclePrice, quote_decimals: u8) -> Result<u64> {
    let token = positive(token_usd)?;
    let units = match rate {
        QuoteRate::UsdViaPyth => shift_down(token, token_usd.expo + i32::from(quote_decimals))?,
        QuoteRate::FixedZar { quote_units_per_zar } => {
            // USD price * ZAR per USD * units per ZAR.
            let product = token
                .checked_mul(positive(usd_zar)?)
                .and_then(|v| v.checked_mul(u128::from(quote_units_per_zar)))
                .ok_or(Aistm7Error::MathOverflow)?;
            shift_down(product, token_usd.expo + usd_zar.expo)?
        }
    };
    to_u64(units)
}

/// What `tokens` base units cost at `price` quote units per whole token.
pub fn cost_of(tokens: u64, price: u64, token_decimals: u8) -> Result<u64> {
    to_u64(shift_down(u128::from(tokens) * u128::from(price), -i32::from(token_decimals))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn price(price: i64, expo: i32) -> OraclePrice {
        OraclePrice { price, conf: 0, expo, publish_time: 0, posted_slot: 0, ema_price: price }
    }

    #[test]
    fn zar_budgets_in_a_usd_and_a_zar_quote() {
        let fx = price(1_850_000_000, -8); // 18.5 ZAR per USD
        // 1,000,000 ZAR at 18.5 = 54,054.054054 USD -> 54,054,054,054 units (6 decimals), rounded down.
        assert_eq!(zar_to_quote(100_000_000, QuoteRate::UsdViaPyth, &fx, 6).unwrap(), 54_054_054_054);
        let zar = QuoteRate::FixedZar { quote_units_per_zar: 1_000_000 };
        assert_eq!(zar_to_quote(10_000, zar, &fx, 6).unwrap(), 100_000_000);
    }

    #[test]
    fn token_prices_in_quote_units() {
        let token = price(15_000_000, -8); // $0.15
        let fx = price(1_850_000_000, -8);
        assert_eq!(token_price_in_quote(&token, QuoteRate::UsdViaPyth, &fx, 6).unwrap(), 150_000);
        let zar = QuoteRate::FixedZar { quote_units_per_zar: 1_000_000 };
        // $0.15 * 18.5 = R2.775
        assert_eq!(token_price_in_quote(&token, zar, &fx, 6).unwrap(), 2_775_000);
        // 1.5 tokens (8 decimals) at 150_000 units each.
        assert_eq!(cost_of(150_000_000, 150_000, 8).unwrap(), 225_000);
        assert_eq!(cost_of(1, 150_000, 8).unwrap(), 0);
    }
}
