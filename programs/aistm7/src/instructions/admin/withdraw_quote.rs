use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_QUOTE_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::VaultWithdrawn;
use crate::state::{Buyback, Config};
use crate::vault::transfer_from_vault;

/// The admin withdraws quote directly, up to `direct_withdraw_limit` per UTC
/// day in total (many small withdrawals share one budget); beyond it only a
/// council proposal moves quote.
#[derive(Accounts)]
pub struct WithdrawQuote<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_QUOTE_VAULT], bump = buyback.quote_vault_bump)]
    pub quote_vault: Box<Account<'info, TokenAccount>>,

    #[account(address = buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub quote_mint: Box<Account<'info, Mint>>,

    #[account(
        mut,
        constraint = destination.mint == buyback.quote_mint @ Aistm7Error::WrongMint,
        constraint = destination.owner != config.key() @ Aistm7Error::ProgramOwnedDestination,
    )]
    pub destination: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<WithdrawQuote>, amount: u64) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    require!(amount > 0, Aistm7Error::ZeroAmount);
    let now = Clock::get()?.unix_timestamp;
    ctx.accounts.buyback.record_direct_withdrawal(amount, now)?;
    let a = &ctx.accounts;
    transfer_from_vault(
        &a.token_program.to_account_info(),
        &a.quote_vault.to_account_info(),
        &a.quote_mint.to_account_info(),
        &a.destination.to_account_info(),
        &a.config.to_account_info(),
        a.config.bump,
        amount,
        a.buyback.quote_decimals,
    )?;
    emit_event!(VaultWithdrawn {
        vault: a.quote_vault.key(),
        amount,
        destination: a.destination.key(),
        proposal: None,
        withdrawn_today: a.buyback.withdrawn_today,
    });
    Ok(())
}
