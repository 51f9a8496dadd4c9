use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::PauseChanged;
use crate::state::Config;

#[derive(Accounts)]
pub struct SetPaused<'info> {
    #[account(constraint = guardian.key() == config.authorities.guardian @ Aistm7Error::Unauthorized)]
    pub guardian: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

/// Pause (`true`) or unpause (`false`) user and crank instructions.
pub fn handler(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.paused;
    config.paused = paused;

    emit_event!(PauseChanged {
        old,
        new: paused,
        guardian: ctx.accounts.guardian.key(),
    });
    Ok(())
}
