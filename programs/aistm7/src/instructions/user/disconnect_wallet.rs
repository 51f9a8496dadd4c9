use anchor_lang::prelude::*;

use crate::constants::SEED_LINK;
use crate::emit_event;
use crate::events::WalletUnlinked;
use crate::state::WalletLink;

/// The wallet ends its link; the account closes and its rent returns to the wallet.
#[derive(Accounts)]
pub struct DisconnectWallet<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,

    #[account(mut, close = wallet, seeds = [SEED_LINK, wallet.key().as_ref()], bump = link.bump)]
    pub link: Account<'info, WalletLink>,
}

pub fn handler(ctx: Context<DisconnectWallet>) -> Result<()> {
    emit_event!(WalletUnlinked {
        wallet: ctx.accounts.wallet.key(),
        user_ref: ctx.accounts.link.user_ref,
    });
    Ok(())
}
