use anchor_lang::prelude::*;

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_PROPOSAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::AccountClosed;
use crate::state::{Buyback, Config, Proposal};

/// Anyone closes an executed, cancelled, stale or expired proposal after the
/// retention period; the rent returns to the proposer, who paid it.
#[derive(Accounts)]
pub struct CloseProposal<'info> {
    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(
        mut,
        close = proposer,
        seeds = [SEED_PROPOSAL, proposal.id.to_le_bytes().as_ref()],
        bump = proposal.bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    /// CHECK: receives the rent; must be the proposer.
    #[account(mut, address = proposal.proposer @ Aistm7Error::WrongRentRecipient)]
    pub proposer: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<CloseProposal>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let stale = ctx.accounts.buyback.is_stale(ctx.accounts.proposal.id);
    ctx.accounts.proposal.require_closable(Clock::get()?.unix_timestamp, stale)?;
    emit_event!(AccountClosed {
        account: ctx.accounts.proposal.key(),
        rent_recipient: ctx.accounts.proposer.key(),
        lamports: ctx.accounts.proposal.to_account_info().lamports(),
    });
    Ok(())
}
