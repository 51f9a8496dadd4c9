use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_PROPOSAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::ProposalCancelled;
use crate::state::{Config, Proposal, ProposalStatus};

/// The guardian cancels a pending proposal, during its time-lock or before.
/// Works while paused: stopping a withdrawal is what a pause is for.
#[derive(Accounts)]
pub struct CancelProposal<'info> {
    #[account(constraint = guardian.key() == config.authorities.guardian @ Aistm7Error::Unauthorized)]
    pub guardian: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_PROPOSAL, proposal.id.to_le_bytes().as_ref()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, Proposal>>,
}

pub fn handler(ctx: Context<CancelProposal>) -> Result<()> {
    let proposal = &mut ctx.accounts.proposal;
    proposal.require_pending()?;
    proposal.settle(ProposalStatus::Cancelled, Clock::get()?.unix_timestamp);
    emit_event!(ProposalCancelled {
        id: proposal.id,
        guardian: ctx.accounts.guardian.key(),
    });
    Ok(())
}
