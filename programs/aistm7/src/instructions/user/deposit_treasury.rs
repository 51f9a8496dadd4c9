use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_TREASURY};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::TreasuryDeposited;
use crate::state::Config;
use crate::vault::transfer_signed;

/// Anyone may fund the treasury with the configured token; the new vault
/// balance is returned (return data), so a calling program can read it.
#[derive(Accounts)]
pub struct DepositTreasury<'info> {
    pub funder: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Account<'info, Config>,

    pub mint: Account<'info, Mint>,

    #[account(
        mut,
        constraint = funder_token.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = funder_token.owner == funder.key() @ Aistm7Error::WrongTokenOwner,
    )]
    pub funder_token: Account<'info, TokenAccount>,

    #[account(
        mut,
        seeds = [SEED_TREASURY, mint.key().as_ref()],
        bump = config.treasury_bump,
    )]
    pub treasury_vault: Account<'info, TokenAccount>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<DepositTreasury>, amount: u64) -> Result<u64> {
    ctx.accounts.config.require_not_paused()?;
    require!(amount > 0, Aistm7Error::ZeroAmount);
    let accounts = &ctx.accounts;
    transfer_signed(
        &accounts.token_program.to_account_info(),
        &accounts.funder_token.to_account_info(),
        &accounts.mint.to_account_info(),
        &accounts.treasury_vault.to_account_info(),
        &accounts.funder.to_account_info(),
        amount,
        accounts.mint.decimals,
    )?;

    let treasury_vault = &mut ctx.accounts.treasury_vault;
    treasury_vault.reload()?;
    emit_event!(TreasuryDeposited {
        funder: ctx.accounts.funder.key(),
        amount,
        balance: treasury_vault.amount,
    });
    Ok(treasury_vault.amount)
}
