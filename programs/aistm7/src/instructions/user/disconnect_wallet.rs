use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_LINK, SEED_LOCK};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::WalletUnlinked;
use crate::state::{read_lock, Config, WalletLink};

/// The wallet ends its link; the account closes and its rent returns to the
/// wallet. Not while its lock backs anything: the same locked tokens would
/// otherwise back access for the next user the wallet links to.
#[derive(Accounts)]
pub struct DisconnectWallet<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    #[account(mut, close = wallet, seeds = [SEED_LINK, wallet.key().as_ref()], bump = link.bump)]
    pub link: Account<'info, WalletLink>,

    /// CHECK: the wallet's lock PDA, read only; absent when it never locked.
    #[account(seeds = [SEED_LOCK, wallet.key().as_ref()], bump)]
    pub access_lock: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<DisconnectWallet>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    if let Some(lock) = read_lock(&ctx.accounts.access_lock)? {
        require!(lock.backs_nothing(now), Aistm7Error::WalletHasLockedTokens);
    }
    emit_event!(WalletUnlinked {
        wallet: ctx.accounts.wallet.key(),
        user_ref: ctx.accounts.link.user_ref,
    });
    Ok(())
}
