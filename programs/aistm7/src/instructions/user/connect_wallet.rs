use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_LINK};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::WalletLinked;
use crate::state::{Config, WalletLink};

/// The wallet links itself to an off-chain user (a 32-byte hash of the
/// user's reference). One user per wallet at a time.
#[derive(Accounts)]
pub struct ConnectWallet<'info> {
    #[account(mut)]
    pub wallet: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    #[account(
        init_if_needed,
        payer = wallet,
        space = 8 + WalletLink::INIT_SPACE,
        seeds = [SEED_LINK, wallet.key().as_ref()],
        bump,
    )]
    pub link: Account<'info, WalletLink>,

    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ConnectWallet>, user_ref: [u8; 32]) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    require!(user_ref != [0; 32], Aistm7Error::InvalidParameter);
    require!(ctx.accounts.link.user_ref == [0; 32], Aistm7Error::WalletAlreadyLinked);
    let wallet = ctx.accounts.wallet.key();
    ctx.accounts.link.set_inner(WalletLink {
        wallet,
        user_ref,
        linked_at: Clock::get()?.unix_timestamp,
        bump: ctx.bumps.link,
    });
    emit_event!(WalletLinked { wallet, user_ref });
    Ok(())
}
