use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_PROPOSAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::ProposalCreated;
use crate::state::{validate_council, Buyback, Config, Proposal, ProposalAction, ProposalStatus};

/// The admin or a council member proposes an action for the council:
/// a vault withdrawal, a new council, a higher maximum supply or a new guardian.
#[derive(Accounts)]
pub struct CreateProposal<'info> {
    #[account(
        mut,
        constraint = proposer.key() == config.authorities.admin || buyback.council.contains(&proposer.key())
            @ Aistm7Error::NotProposer,
    )]
    pub proposer: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(
        init,
        payer = proposer,
        space = 8 + Proposal::INIT_SPACE,
        seeds = [SEED_PROPOSAL, buyback.next_proposal_id.to_le_bytes().as_ref()],
        bump,
    )]
    pub proposal: Box<Account<'info, Proposal>>,

    /// The withdrawal's destination; only for `Withdraw`.
    pub destination: Option<Box<Account<'info, TokenAccount>>>,

    pub system_program: Program<'info, System>,
}

impl CreateProposal<'_> {
    /// The mint of a vault the council may withdraw from. The lock vault is
    /// not one: it holds the wallets' tokens, not the program's.
    fn vault_mint(&self, vault: &Pubkey) -> Result<Pubkey> {
        let config = &self.config;
        if *vault == self.buyback.quote_vault {
            Ok(self.buyback.quote_mint)
        } else if *vault == config.treasury_vault || *vault == config.buyback_vault {
            Ok(config.mint)
        } else {
            err!(Aistm7Error::InvalidWithdrawalVault)
        }
    }

    fn validate(&self, action: &ProposalAction) -> Result<()> {
        match action {
            ProposalAction::Withdraw { vault, destination, amount } => {
                require!(*amount > 0, Aistm7Error::ZeroAmount);
                let mint = self.vault_mint(vault)?;
                let account = self.destination.as_ref().ok_or(Aistm7Error::MissingProposalAccount)?;
                require_keys_eq!(account.key(), *destination, Aistm7Error::MissingProposalAccount);
                require_keys_eq!(account.mint, mint, Aistm7Error::WrongMint);
                require_keys_neq!(account.owner, self.config.key(), Aistm7Error::ProgramOwnedDestination);
            }
            ProposalAction::SetCouncil { members, approvals_required } => {
                validate_council(members, *approvals_required)?;
            }
            ProposalAction::SetMaxSupply { max_supply } => {
                require!(*max_supply > 0, Aistm7Error::InvalidParameter);
            }
            ProposalAction::SetGuardian { guardian } => {
                let mut authorities = self.config.authorities;
                authorities.guardian = *guardian;
                authorities.validate()?;
            }
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<CreateProposal>, action: ProposalAction) -> Result<()> {
    // No pause check: proposing moves nothing, and a council replacing a
    // lost guardian must be able to act while paused.
    ctx.accounts.validate(&action)?;
    let now = Clock::get()?.unix_timestamp;
    let buyback = &mut ctx.accounts.buyback;
    let id = buyback.next_proposal_id;
    buyback.next_proposal_id = id.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
    let proposer = ctx.accounts.proposer.key();
    ctx.accounts.proposal.set_inner(Proposal {
        id,
        action: action.clone(),
        proposer,
        approvals: Vec::new(),
        created_at: now,
        quorum_at: 0,
        executable_at: 0,
        status: ProposalStatus::Pending,
        closed_at: 0,
        bump: ctx.bumps.proposal,
    });
    emit_event!(ProposalCreated { id, action, proposer });
    Ok(())
}
