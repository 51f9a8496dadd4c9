use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_WITHDRAWAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::WithdrawalCancelled;
use crate::state::{Config, ProposalStatus, WithdrawalProposal};

/// The guardian cancels a withdrawal before it executes.
#[derive(Accounts)]
pub struct CancelWithdrawal<'info> {
    #[account(constraint = guardian.key() == config.authorities.guardian @ Aistm7Error::Unauthorized)]
    pub guardian: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_WITHDRAWAL, proposal.id.to_le_bytes().as_ref()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, WithdrawalProposal>>,
}

pub fn handler(ctx: Context<CancelWithdrawal>) -> Result<()> {
    let proposal = &mut ctx.accounts.proposal;
    require!(proposal.status == ProposalStatus::Pending, Aistm7Error::ProposalNotPending);
    proposal.status = ProposalStatus::Cancelled;
    emit_event!(WithdrawalCancelled {
        id: proposal.id,
        guardian: ctx.accounts.guardian.key(),
    });
    Ok(())
}
