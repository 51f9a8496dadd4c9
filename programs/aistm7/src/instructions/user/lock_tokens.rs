use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_LOCK, SEED_LOCK_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::TokensLocked;
use crate::state::{AccessLock, Config};
use crate::vault::transfer_signed;

/// The wallet locks `amount` of its tokens in the program's lock vault; they
/// count toward its access at once.
#[derive(Accounts)]
pub struct LockTokens<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Box<Account<'info, Config>>,

    pub mint: Box<Account<'info, Mint>>,

    #[account(
        mut,
        constraint = wallet_token.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = wallet_token.owner == wallet.key() @ Aistm7Error::WrongTokenOwner,
    )]
    pub wallet_token: Box<Account<'info, TokenAccount>>,

    #[account(
        init_if_needed,
        payer = wallet,
        space = 8 + AccessLock::INIT_SPACE,
        seeds = [SEED_LOCK, wallet.key().as_ref()],
        bump,
    )]
    pub access_lock: Box<Account<'info, AccessLock>>,

    #[account(mut, seeds = [SEED_LOCK_VAULT, mint.key().as_ref()], bump = config.lock_vault_bump)]
    pub lock_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<LockTokens>, amount: u64) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    require!(amount > 0, Aistm7Error::ZeroAmount);
    let a = &ctx.accounts;
    transfer_signed(
        &a.token_program.to_account_info(),
        &a.wallet_token.to_account_info(),
        &a.mint.to_account_info(),
        &a.lock_vault.to_account_info(),
        &a.wallet.to_account_info(),
        amount,
        a.mint.decimals,
    )?;
    let wallet = a.wallet.key();
    let lock = &mut ctx.accounts.access_lock;
    lock.wallet = wallet;
    lock.bump = ctx.bumps.access_lock;
    lock.locked = lock.locked.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    let locked = lock.locked;
    let config = &mut ctx.accounts.config;
    config.total_locked = config.total_locked.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    emit_event!(TokensLocked { wallet, amount, locked });
    Ok(())
}
