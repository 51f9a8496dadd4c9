use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::AuthoritiesUpdated;
use crate::state::Config;

/// The guardian hands its role to another key (never the admin's). The
/// council can also replace a lost guardian with a `SetGuardian` proposal.
#[derive(Accounts)]
pub struct SetGuardian<'info> {
    #[account(constraint = guardian.key() == config.authorities.guardian @ Aistm7Error::Unauthorized)]
    pub guardian: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<SetGuardian>, new_guardian: Pubkey) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.authorities;
    config.authorities.guardian = new_guardian;
    config.invariant()?;
    emit_event!(AuthoritiesUpdated { old, new: config.authorities });
    Ok(())
}
