use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_LINK};
use crate::emit_event;
use crate::events::WalletUnlinked;
use crate::state::{Config, WalletLink};

/// The wallet ends its link; the account closes and its rent returns to the wallet.
#[derive(Accounts)]
pub struct DisconnectWallet<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    #[account(mut, close = wallet, seeds = [SEED_LINK, wallet.key().as_ref()], bump = link.bump)]
    pub link: Account<'info, WalletLink>,
}

pub fn handler(ctx: Context<DisconnectWallet>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    emit_event!(WalletUnlinked {
        wallet: ctx.accounts.wallet.key(),
        user_ref: ctx.accounts.link.user_ref,
    });
    Ok(())
}
