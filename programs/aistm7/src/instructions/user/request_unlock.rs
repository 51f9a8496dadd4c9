use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_LOCK};
use crate::emit_event;
use crate::events::UnlockRequested;
use crate::state::{AccessLock, Config};

/// The wallet stops counting `amount` of its locked tokens toward access;
/// they can be withdrawn after the unlock cooldown.
#[derive(Accounts)]
pub struct RequestUnlock<'info> {
    pub wallet: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_LOCK, wallet.key().as_ref()], bump = access_lock.bump)]
    pub access_lock: Box<Account<'info, AccessLock>>,
}

pub fn handler(ctx: Context<RequestUnlock>, amount: u64) -> Result<()> {
    let config = &ctx.accounts.config;
    config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    let cooldown = config.requirement_params.unlock_cooldown_secs;
    let lock = &mut ctx.accounts.access_lock;
    lock.request_unlock(amount, now, cooldown)?;
    emit_event!(UnlockRequested {
        wallet: lock.wallet,
        amount,
        locked: lock.locked,
        unlocking: lock.unlocking,
        unlock_at: lock.unlock_at,
    });
    Ok(())
}
