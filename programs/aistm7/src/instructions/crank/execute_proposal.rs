use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_PROPOSAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::{AuthoritiesUpdated, CouncilChanged, ProposalExecuted, TokenParamsUpdated, VaultWithdrawn};
use crate::state::{validate_council, Buyback, Config, Proposal, ProposalAction, ProposalStatus};
use crate::vault::transfer_from_vault;

/// Anyone executes an approved proposal once its time-lock (counted from the
/// quorum) has passed. A withdrawal pays only the vault and destination the
/// proposal names; pass them with the vault's mint and the token program.
#[derive(Accounts)]
pub struct ExecuteProposal<'info> {
    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_PROPOSAL, proposal.id.to_le_bytes().as_ref()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, Proposal>>,

    #[account(mut)]
    pub vault: Option<Box<Account<'info, TokenAccount>>>,

    pub vault_mint: Option<Box<Account<'info, Mint>>>,

    #[account(mut)]
    pub destination: Option<Box<Account<'info, TokenAccount>>>,

    pub token_program: Option<Program<'info, Token>>,
}

impl ExecuteProposal<'_> {
    fn withdraw(&self, id: u64, vault_key: Pubkey, destination_key: Pubkey, amount: u64) -> Result<()> {
        let missing = || error!(Aistm7Error::MissingProposalAccount);
        let vault = self.vault.as_ref().ok_or_else(missing)?;
        let mint = self.vault_mint.as_ref().ok_or_else(missing)?;
        let destination = self.destination.as_ref().ok_or_else(missing)?;
        let token_program = self.token_program.as_ref().ok_or_else(missing)?;
        require_keys_eq!(vault.key(), vault_key, Aistm7Error::MissingProposalAccount);
        require_keys_eq!(destination.key(), destination_key, Aistm7Error::MissingProposalAccount);
        require_keys_eq!(mint.key(), vault.mint, Aistm7Error::WrongMint);
        // The destination's owner can change after the proposal was made.
        require_keys_eq!(destination.mint, vault.mint, Aistm7Error::WrongMint);
        require_keys_neq!(destination.owner, self.config.key(), Aistm7Error::ProgramOwnedDestination);
        transfer_from_vault(
            &token_program.to_account_info(),
            &vault.to_account_info(),
            &mint.to_account_info(),
            &destination.to_account_info(),
            &self.config.to_account_info(),
            self.config.bump,
            amount,
            mint.decimals,
        )?;
        emit_event!(VaultWithdrawn {
            vault: vault_key,
            amount,
            destination: destination_key,
            proposal: Some(id),
            withdrawn_today: self.buyback.withdrawn_today,
        });
        Ok(())
    }
}

pub fn handler(ctx: Context<ExecuteProposal>) -> Result<()> {
    let now = Clock::get()?.unix_timestamp;
    let proposal = &ctx.accounts.proposal;
    let buyback = &ctx.accounts.buyback;
    proposal.require_pending()?;
    require!(!buyback.is_stale(proposal.id), Aistm7Error::ProposalStale);
    proposal.require_executable(buyback.params.approvals_required, now)?;

    let (id, action) = (proposal.id, proposal.action.clone());
    match &action {
        ProposalAction::Withdraw { vault, destination, amount } => {
            // Only the withdrawal moves value; the other actions are the
            // council's recovery paths and work while paused.
            ctx.accounts.config.require_not_paused()?;
            ctx.accounts.withdraw(id, *vault, *destination, *amount)?;
        }
        ProposalAction::SetCouncil { members, approvals_required } => {
            validate_council(members, *approvals_required)?;
            let buyback = &mut ctx.accounts.buyback;
            let old_members = std::mem::replace(&mut buyback.council, members.clone());
            let old_approvals_required = buyback.params.approvals_required;
            buyback.params.approvals_required = *approvals_required;
            // Approvals gathered under the old council no longer count.
            buyback.proposals_stale_through = buyback.next_proposal_id.saturating_sub(1);
            emit_event!(CouncilChanged {
                old_members,
                old_approvals_required,
                new_members: members.clone(),
                new_approvals_required: *approvals_required,
                proposals_stale_through: buyback.proposals_stale_through,
            });
        }
        ProposalAction::SetMaxSupply { max_supply } => {
            let config = &mut ctx.accounts.config;
            let old = config.token_params;
            config.token_params.max_supply = *max_supply;
            config.invariant()?;
            emit_event!(TokenParamsUpdated { old, new: config.token_params });
        }
        ProposalAction::SetGuardian { guardian } => {
            let config = &mut ctx.accounts.config;
            let old = config.authorities;
            config.authorities.guardian = *guardian;
            config.invariant()?;
            emit_event!(AuthoritiesUpdated { old, new: config.authorities });
        }
    }
    ctx.accounts.proposal.settle(ProposalStatus::Executed, now);
    emit_event!(ProposalExecuted { id, action });
    Ok(())
}
