use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_QUOTE_VAULT, SEED_WITHDRAWAL};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::QuoteWithdrawn;
use crate::state::{Buyback, Config, ProposalStatus, WithdrawalProposal};
use crate::vault::transfer_from_vault;

/// Anyone executes an approved withdrawal once its time-lock has passed; the
/// funds can only go to the destination in the proposal.
#[derive(Accounts)]
pub struct ExecuteWithdrawal<'info> {
    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_WITHDRAWAL, proposal.id.to_le_bytes().as_ref()], bump = proposal.bump)]
    pub proposal: Box<Account<'info, WithdrawalProposal>>,

    #[account(mut, seeds = [SEED_QUOTE_VAULT], bump = buyback.quote_vault_bump)]
    pub quote_vault: Box<Account<'info, TokenAccount>>,

    #[account(address = buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub quote_mint: Box<Account<'info, Mint>>,

    #[account(mut, address = proposal.destination)]
    pub destination: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<ExecuteWithdrawal>) -> Result<()> {
    let a = &ctx.accounts;
    let proposal = &a.proposal;
    require!(proposal.status == ProposalStatus::Pending, Aistm7Error::ProposalNotPending);
    require!(
        proposal.approvals.len() >= usize::from(a.buyback.params.approvals_required),
        Aistm7Error::NotEnoughApprovals
    );
    require!(
        Clock::get()?.unix_timestamp >= proposal.executable_at,
        Aistm7Error::TimelockNotElapsed
    );
    transfer_from_vault(
        &a.token_program.to_account_info(),
        &a.quote_vault.to_account_info(),
        &a.quote_mint.to_account_info(),
        &a.destination.to_account_info(),
        &a.config.to_account_info(),
        a.config.bump,
        proposal.amount,
        a.buyback.quote_decimals,
    )?;
    let (amount, destination, id) = (proposal.amount, proposal.destination, proposal.id);
    ctx.accounts.proposal.status = ProposalStatus::Executed;
    emit_event!(QuoteWithdrawn {
        amount,
        destination,
        proposal: Some(id),
    });
    Ok(())
}
