use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_LOCK, SEED_LOCK_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::TokensUnlocked;
use crate::state::{AccessLock, Config};
use crate::vault::transfer_from_vault;

/// After the cooldown, the wallet takes its unlocking tokens back. An emptied
/// lock closes and its rent returns to the wallet.
#[derive(Accounts)]
pub struct WithdrawUnlocked<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Box<Account<'info, Config>>,

    pub mint: Box<Account<'info, Mint>>,

    #[account(mut, seeds = [SEED_LOCK, wallet.key().as_ref()], bump = access_lock.bump)]
    pub access_lock: Box<Account<'info, AccessLock>>,

    #[account(
        mut,
        constraint = wallet_token.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = wallet_token.owner == wallet.key() @ Aistm7Error::WrongTokenOwner,
    )]
    pub wallet_token: Box<Account<'info, TokenAccount>>,

    #[account(mut, seeds = [SEED_LOCK_VAULT, mint.key().as_ref()], bump = config.lock_vault_bump)]
    pub lock_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<WithdrawUnlocked>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    let amount = ctx.accounts.access_lock.take_unlocked(now)?;
    let config = &mut ctx.accounts.config;
    config.total_locked = config.total_locked.checked_sub(amount).ok_or(Aistm7Error::MathOverflow)?;
    let a = &ctx.accounts;
    transfer_from_vault(
        &a.token_program.to_account_info(),
        &a.lock_vault.to_account_info(),
        &a.mint.to_account_info(),
        &a.wallet_token.to_account_info(),
        &a.config.to_account_info(),
        a.config.bump,
        amount,
        a.mint.decimals,
    )?;
    let closed = a.access_lock.is_empty();
    if closed {
        ctx.accounts.access_lock.close(ctx.accounts.wallet.to_account_info())?;
    }
    emit_event!(TokensUnlocked { wallet: ctx.accounts.wallet.key(), amount, closed });
    Ok(())
}
