use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_WITHDRAWAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::WithdrawalProposed;
use crate::state::{Buyback, Config, ProposalStatus, WithdrawalProposal};

/// The admin proposes a quote withdrawal to `destination`; it executes after
/// `approvals_required` council approvals and the time-lock.
#[derive(Accounts)]
pub struct ProposeWithdrawal<'info> {
    #[account(mut, constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(
        init,
        payer = admin,
        space = 8 + WithdrawalProposal::INIT_SPACE,
        seeds = [SEED_WITHDRAWAL, buyback.next_proposal_id.to_le_bytes().as_ref()],
        bump,
    )]
    pub proposal: Box<Account<'info, WithdrawalProposal>>,

    #[account(constraint = destination.mint == buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub destination: Box<Account<'info, TokenAccount>>,

    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ProposeWithdrawal>, amount: u64) -> Result<()> {
    require!(amount > 0, Aistm7Error::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    let buyback = &mut ctx.accounts.buyback;
    let id = buyback.next_proposal_id;
    buyback.next_proposal_id = id.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
    let executable_at = now
        .checked_add(i64::from(buyback.params.timelock_secs))
        .ok_or(Aistm7Error::MathOverflow)?;
    let destination = ctx.accounts.destination.key();
    ctx.accounts.proposal.set_inner(WithdrawalProposal {
        id,
        amount,
        destination,
        proposer: ctx.accounts.admin.key(),
        approvals: Vec::new(),
        created_at: now,
        executable_at,
        status: ProposalStatus::Pending,
        bump: ctx.bumps.proposal,
    });
    emit_event!(WithdrawalProposed {
        id,
        amount,
        destination,
        executable_at,
    });
    Ok(())
}
