use anchor_lang::prelude::*;

use crate::constants::{SEED_BUYBACK, SEED_PROPOSAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::ProposalApproved;
use crate::state::{Buyback, Proposal};

/// A council member approves a pending proposal, once. The approval that
/// reaches the threshold starts the time-lock.
#[derive(Accounts)]
pub struct ApproveProposal<'info> {
    #[account(constraint = buyback.council.contains(&member.key()) @ Aistm7Error::NotCouncilMember)]
    pub member: Signer<'info>,

    #[account(seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_PROPOSAL, proposal.id.to_le_bytes().as_ref()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, Proposal>>,
}

pub fn handler(ctx: Context<ApproveProposal>) -> Result<()> {
    // No pause check: approving moves nothing (see `create_proposal`).
    let member = ctx.accounts.member.key();
    let buyback = &ctx.accounts.buyback;
    let proposal = &mut ctx.accounts.proposal;
    proposal.require_pending()?;
    require!(!buyback.is_stale(proposal.id), Aistm7Error::ProposalStale);
    require!(!proposal.approvals.contains(&member), Aistm7Error::AlreadyApproved);
    proposal.approvals.push(member);
    if proposal.executable_at == 0 && proposal.approvals.len() >= usize::from(buyback.params.approvals_required) {
        let now = Clock::get()?.unix_timestamp;
        proposal.quorum_at = now;
        proposal.executable_at = now
            .checked_add(i64::from(buyback.params.timelock_secs))
            .ok_or(Aistm7Error::MathOverflow)?;
    }
    emit_event!(ProposalApproved {
        id: proposal.id,
        member,
        approvals: u8::try_from(proposal.approvals.len()).map_err(|_| error!(Aistm7Error::MathOverflow))?,
        executable_at: proposal.executable_at,
    });
    Ok(())
}
