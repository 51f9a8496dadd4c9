use anchor_lang::prelude::*;

use crate::constants::{MAX_REVENUE_ENTRIES, MAX_REVENUE_ENTRY_CENTS, SEED_BUYBACK, SEED_CONFIG};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::RevenueReported;
use crate::state::{Buyback, Config, RevenueEntry, RevenueTotals};

/// The keeper reports a batch of fiat revenue. `batch_seq` must be exactly the
/// last one + 1: a batch already recorded fails with `BatchAlreadyRecorded`
/// (a retry the keeper can recognise), a skipped number with `BatchSequenceGap`.
/// Each entry is at most `MAX_REVENUE_ENTRY_CENTS` (`RevenueEntryTooLarge`),
/// and totals that would overflow fail with `MathOverflow`.
#[derive(Accounts)]
pub struct ReportRevenue<'info> {
    #[account(constraint = keeper.key() == config.authorities.keeper @ Aistm7Error::Unauthorized)]
    pub keeper: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,
}

pub fn handler(ctx: Context<ReportRevenue>, batch_seq: u64, entries: Vec<RevenueEntry>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let buyback = &mut ctx.accounts.buyback;
    require!(batch_seq > buyback.last_batch_seq, Aistm7Error::BatchAlreadyRecorded);
    require!(batch_seq == buyback.last_batch_seq + 1, Aistm7Error::BatchSequenceGap);
    require!(
        !entries.is_empty() && entries.len() <= MAX_REVENUE_ENTRIES,
        Aistm7Error::InvalidRevenueBatch
    );
    let mut batch = RevenueTotals::default();
    for entry in &entries {
        require!(entry.amount_cents <= MAX_REVENUE_ENTRY_CENTS, Aistm7Error::RevenueEntryTooLarge);
        batch.add(entry)?;
        buyback.revenue.add(entry)?;
    }
    buyback.last_batch_seq = batch_seq;

    emit_event!(RevenueReported {
        batch_seq,
        entries: entries.len() as u32,
        batch,
        totals: buyback.revenue,
    });
    Ok(())
}
