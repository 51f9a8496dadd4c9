use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_LOCK};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::AccessVerified;
use crate::state::{read_lock, AccessResult, Config};

/// Check that `wallet` has locked at least the effective requirement now.
/// Only tokens in the program's lock count: a free balance can be moved to
/// another wallet (or borrowed and repaid) within one transaction, locked
/// tokens cannot leave before the cooldown. The result is returned as return
/// data so another program can gate on it by CPI; nothing is stored.
#[derive(Accounts)]
pub struct VerifyAccess<'info> {
    /// CHECK: any wallet; only its lock counts.
    pub wallet: UncheckedAccount<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    /// CHECK: the wallet's lock PDA; a wallet that never locked has none,
    /// which reads as nothing locked.
    #[account(seeds = [SEED_LOCK, wallet.key().as_ref()], bump)]
    pub access_lock: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<VerifyAccess>) -> Result<AccessResult> {
    let config = &ctx.accounts.config;
    config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    let required = config.requirement.effective(now)?;
    let wallet = ctx.accounts.wallet.key();
    let locked = read_lock(&ctx.accounts.access_lock)?.map_or(0, |lock| lock.locked);
    if locked < required {
        msg!("insufficient locked tokens: have {} need {}", locked, required);
        return err!(Aistm7Error::InsufficientBalance);
    }
    let valid_until = now
        .checked_add(i64::from(config.requirement_params.pass_validity_secs))
        .ok_or(Aistm7Error::MathOverflow)?;
    emit_event!(AccessVerified { wallet, locked, required, valid_until });
    Ok(AccessResult { wallet, locked, required, valid_until })
}
