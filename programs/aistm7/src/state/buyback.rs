use anchor_lang::prelude::*;

use crate::constants::MAX_COUNCIL;
use crate::errors::Aistm7Error;
use crate::math::BPS_DENOMINATOR;
use crate::oracle::OraclePrice;
use crate::state::{spend_daily, RevenueTotals};

/// How ZAR converts to quote units.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum QuoteRate {
    /// The quote is a ZAR stablecoin: a fixed number of quote units per ZAR.
    FixedZar { quote_units_per_zar: u64 },
    /// The quote is a USD stablecoin: ZAR converts at the USD/ZAR Pyth feed.
    UsdViaPyth,
}

/// Everything an auditor needs without an off-chain database. Average price
/// = quote_spent / tokens_acquired; success rate = completed / (completed +
/// expired + cancelled).
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace, Default)]
pub struct BuybackMetrics {
    pub revenue_used_cents: u64,
    pub zar_allocated_cents: u64,
    pub quote_escrowed: u64,
    pub quote_spent: u64,
    pub quote_returned: u64,
    pub tokens_acquired: u64,
    pub tokens_burned: u64,
    pub orders_opened: u64,
    pub orders_completed: u64,
    pub orders_expired: u64,
    pub orders_cancelled: u64,
    pub last_execution_at: i64,
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct BuybackParams {
    pub quote_rate: QuoteRate,
    /// The token's USD feed buy-orders are priced with, fixed when the
    /// treasury is created: changing the requirement's feed does not move it.
    pub token_feed_id: [u8; 32],
    /// ZAR per USD feed; prices tokens in quote units for a ZAR quote and
    /// converts budgets for a USD quote.
    pub usd_zar_feed_id: [u8; 32],
    /// Share of available revenue each execution allocates (1_000 = 10%).
    pub allocation_bps: u16,
    pub min_allocation_cents: u64,
    pub max_allocation_cents: u64,
    /// Limit price = oracle price at open * (1 + max_slippage_bps).
    pub max_slippage_bps: u16,
    pub order_ttl_secs: u32,
    /// Quote units escrowed into new orders per UTC day at most.
    pub daily_spend_cap: u64,
    pub burn_on_fill: bool,
    /// Quote withdrawals up to this go straight through; above, the council decides.
    pub direct_withdraw_limit: u64,
    pub timelock_secs: u32,
    pub approvals_required: u8,
}

impl BuybackParams {
    pub fn validate(&self, council: &[Pubkey]) -> Result<()> {
        let bps_ok = |bps: u16| bps > 0 && u128::from(bps) <= BPS_DENOMINATOR;
        require!(bps_ok(self.allocation_bps), Aistm7Error::InvalidParameter);
        require!(u128::from(self.max_slippage_bps) <= BPS_DENOMINATOR, Aistm7Error::InvalidParameter);
        require!(
            self.min_allocation_cents > 0 && self.min_allocation_cents <= self.max_allocation_cents,
            Aistm7Error::InvalidParameter
        );
        require!(self.order_ttl_secs > 0, Aistm7Error::InvalidParameter);
        if let QuoteRate::FixedZar { quote_units_per_zar } = self.quote_rate {
            require!(quote_units_per_zar > 0, Aistm7Error::InvalidParameter);
        }
        require!(
            self.usd_zar_feed_id != [0; 32] && self.token_feed_id != [0; 32] && self.token_feed_id != self.usd_zar_feed_id,
            Aistm7Error::InvalidParameter
        );
        validate_council(council, self.approvals_required)
    }
}

/// 1 to `MAX_COUNCIL` distinct members, none the default key, and a threshold
/// from 1 to the number of members.
pub fn validate_council(council: &[Pubkey], approvals_required: u8) -> Result<()> {
    require!(
        approvals_required > 0 && usize::from(approvals_required) <= council.len(),
        Aistm7Error::InvalidParameter
    );
    let mut unique = council.to_vec();
    unique.sort();
    unique.dedup();
    require!(
        unique.len() == council.len() && council.len() <= MAX_COUNCIL && !council.contains(&Pubkey::default()),
        Aistm7Error::InvalidParameter
    );
    Ok(())
}

/// PDA `[SEED_BUYBACK]`: revenue, buy-order rules and metrics, and the
/// withdrawal council.
#[account]
#[derive(InitSpace)]
pub struct Buyback {
    pub quote_mint: Pubkey,
    pub quote_decimals: u8,
    pub quote_vault: Pubkey,
    pub params: BuybackParams,
    #[max_len(MAX_COUNCIL)]
    pub council: Vec<Pubkey>,
    pub last_batch_seq: u64,
    pub revenue: RevenueTotals,
    pub metrics: BuybackMetrics,
    pub spend_day: i64,
    pub spent_today: u64,
    /// Direct (admin) quote withdrawals on `withdraw_day`, at most
    /// `direct_withdraw_limit` per UTC day together.
    pub withdraw_day: i64,
    pub withdrawn_today: u64,
    /// Publish times of the newest token and USD/ZAR updates the treasury
    /// used: an older update is never accepted again.
    pub last_token_publish_time: i64,
    pub last_fx_publish_time: i64,
    pub next_order_id: u64,
    pub next_proposal_id: u64,
    /// Proposals with an id up to this were made for an earlier council and
    /// can no longer be approved or executed.
    pub proposals_stale_through: u64,
    pub bump: u8,
    pub quote_vault_bump: u8,
}

impl Buyback {
    pub fn available_cents(&self) -> u64 {
        self.revenue.total.saturating_sub(self.metrics.revenue_used_cents)
    }

    /// Count `amount` against today's spend cap.
    pub fn record_spend(&mut self, amount: u64, now: i64) -> Result<()> {
        let cap = self.params.daily_spend_cap;
        spend_daily(&mut self.spend_day, &mut self.spent_today, amount, now, cap, Aistm7Error::DailySpendCapExceeded)
    }

    /// Count a direct withdrawal against today's direct withdrawal limit.
    pub fn record_direct_withdrawal(&mut self, amount: u64, now: i64) -> Result<()> {
        let limit = self.params.direct_withdraw_limit;
        require!(amount <= limit, Aistm7Error::WithdrawalNeedsApproval);
        spend_daily(
            &mut self.withdraw_day,
            &mut self.withdrawn_today,
            amount,
            now,
            limit,
            Aistm7Error::DirectWithdrawLimitExceeded,
        )
    }

    /// Accept the token and USD/ZAR updates only if neither is older than
    /// the newest the treasury already used, and remember them.
    pub fn observe_prices(&mut self, token: &OraclePrice, usd_zar: &OraclePrice) -> Result<()> {
        require!(
            token.publish_time >= self.last_token_publish_time && usd_zar.publish_time >= self.last_fx_publish_time,
            Aistm7Error::PriceOlderThanLastUsed
        );
        self.last_token_publish_time = token.publish_time;
        self.last_fx_publish_time = usd_zar.publish_time;
        Ok(())
    }

    pub fn is_stale(&self, proposal_id: u64) -> bool {
        proposal_id <= self.proposals_stale_through
    }
}

/// ZAR allocation and the revenue it uses, per the allocation rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Allocation {
    pub allocated_cents: u64,
    pub revenue_used_cents: u64,
}

/// `allocation_bps` of `available`, rounded down; below the minimum it fails,
/// above the maximum it is capped and only the revenue that funded the capped
/// amount (rounded up) is used.
pub fn allocate(available_cents: u64, params: &BuybackParams) -> Result<Allocation> {
    let bps = u128::from(params.allocation_bps);
    let share = u128::from(available_cents) * bps / BPS_DENOMINATOR;
    require!(
        share >= u128::from(params.min_allocation_cents),
        Aistm7Error::AllocationBelowMinimum
    );
    if share > u128::from(params.max_allocation_cents) {
        let used = (u128::from(params.max_allocation_cents) * BPS_DENOMINATOR).div_ceil(bps);
        Ok(Allocation {
            allocated_cents: params.max_allocation_cents,
            revenue_used_cents: u64::try_from(used.min(u128::from(available_cents)))
                .map_err(|_| error!(Aistm7Error::MathOverflow))?,
        })
    } else {
        Ok(Allocation {
            allocated_cents: u64::try_from(share).map_err(|_| error!(Aistm7Error::MathOverflow))?,
            revenue_used_cents: available_cents,
        })
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum OrderStatus {
    Pending,
    Completed,
    Expired,
    Cancelled,
}

/// PDA `[SEED_ORDER, id]`; its budget sits in the escrow `[SEED_ORDER_ESCROW, id]`.
#[account]
#[derive(InitSpace)]
pub struct BuyOrder {
    pub id: u64,
    pub zar_allocated_cents: u64,
    pub revenue_used_cents: u64,
    pub quote_budget: u64,
    pub quote_spent: u64,
    pub tokens_acquired: u64,
    /// Quote units per whole token the order never pays more than.
    pub limit_price: u64,
    pub created_at: i64,
    pub expires_at: i64,
    pub status: OrderStatus,
    /// When it left `Pending`; 0 while pending.
    pub closed_at: i64,
    pub escrow: Pubkey,
    /// Paid the rent of the order and its escrow, and gets it back on close.
    pub payer: Pubkey,
    pub bump: u8,
    pub escrow_bump: u8,
}

impl BuyOrder {
    pub fn remaining(&self) -> u64 {
        self.quote_budget.saturating_sub(self.quote_spent)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> BuybackParams {
        BuybackParams {
            quote_rate: QuoteRate::UsdViaPyth,
            token_feed_id: [2; 32],
            usd_zar_feed_id: [1; 32],
            allocation_bps: 1_000,
            min_allocation_cents: 10_000,
            max_allocation_cents: 100_000_000,
            max_slippage_bps: 100,
            order_ttl_secs: 86_400,
            daily_spend_cap: u64::MAX,
            burn_on_fill: true,
            direct_withdraw_limit: 0,
            timelock_secs: 172_800,
            approvals_required: 1,
        }
    }

    #[test]
    fn allocation_table() {
        // 100,000 ZAR: allocates 10,000, all used.
        assert_eq!(
            allocate(10_000_000, &params()).unwrap(),
            Allocation { allocated_cents: 1_000_000, revenue_used_cents: 10_000_000 }
        );
        // 999 ZAR: 99.90 is below 100 ZAR.
        assert!(allocate(99_900, &params()).is_err());
        // 1,000 ZAR: exactly 100.
        assert_eq!(allocate(100_000, &params()).unwrap().allocated_cents, 10_000);
        // 20,000,000 ZAR: capped at 1,000,000; 10,000,000 used.
        assert_eq!(
            allocate(2_000_000_000, &params()).unwrap(),
            Allocation { allocated_cents: 100_000_000, revenue_used_cents: 1_000_000_000 }
        );
    }
}
