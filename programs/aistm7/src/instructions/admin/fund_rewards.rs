use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_REWARD_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::RewardVaultFunded;
use crate::state::Config;
use crate::vault::transfer_signed;

/// The admin moves tokens from its own account into the reward vault.
#[derive(Accounts)]
pub struct FundRewards<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Account<'info, Config>,

    pub mint: Account<'info, Mint>,

    #[account(
        mut,
        constraint = source.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = source.owner == admin.key() @ Aistm7Error::WrongTokenOwner,
    )]
    pub source: Account<'info, TokenAccount>,

    #[account(mut, seeds = [SEED_REWARD_VAULT, mint.key().as_ref()], bump = config.reward_vault_bump)]
    pub reward_vault: Account<'info, TokenAccount>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<FundRewards>, amount: u64) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    require!(amount > 0, Aistm7Error::ZeroAmount);
    let accounts = &ctx.accounts;
    transfer_signed(
        &accounts.token_program.to_account_info(),
        &accounts.source.to_account_info(),
        &accounts.mint.to_account_info(),
        &accounts.reward_vault.to_account_info(),
        &accounts.admin.to_account_info(),
        amount,
        accounts.mint.decimals,
    )?;
    let vault = &mut ctx.accounts.reward_vault;
    vault.reload()?;
    emit_event!(RewardVaultFunded {
        funder: ctx.accounts.admin.key(),
        amount,
        balance: vault.amount,
    });
    Ok(())
}
