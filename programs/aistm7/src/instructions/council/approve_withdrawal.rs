use anchor_lang::prelude::*;

use crate::constants::{SEED_BUYBACK, SEED_WITHDRAWAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::WithdrawalApproved;
use crate::state::{Buyback, ProposalStatus, WithdrawalProposal};

/// A council member approves a pending withdrawal, once.
#[derive(Accounts)]
pub struct ApproveWithdrawal<'info> {
    #[account(constraint = buyback.council.contains(&member.key()) @ Aistm7Error::NotCouncilMember)]
    pub member: Signer<'info>,

    #[account(seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_WITHDRAWAL, proposal.id.to_le_bytes().as_ref()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, WithdrawalProposal>>,
}

pub fn handler(ctx: Context<ApproveWithdrawal>) -> Result<()> {
    let member = ctx.accounts.member.key();
    let proposal = &mut ctx.accounts.proposal;
    require!(proposal.status == ProposalStatus::Pending, Aistm7Error::ProposalNotPending);
    require!(!proposal.approvals.contains(&member), Aistm7Error::AlreadyApproved);
    proposal.approvals.push(member);
    emit_event!(WithdrawalApproved {
        id: proposal.id,
        member,
        approvals: proposal.approvals.len() as u8,
    });
    Ok(())
}
