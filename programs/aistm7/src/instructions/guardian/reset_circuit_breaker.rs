use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::CircuitBreakerReset;
use crate::state::Config;

#[derive(Accounts)]
pub struct ResetCircuitBreaker<'info> {
    #[account(constraint = guardian.key() == config.authorities.guardian @ Aistm7Error::Unauthorized)]
    pub guardian: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<ResetCircuitBreaker>) -> Result<()> {
    let requirement = &mut ctx.accounts.config.requirement;
    require!(requirement.breaker_tripped, Aistm7Error::CircuitBreakerNotTripped);
    requirement.breaker_tripped = false;

    emit_event!(CircuitBreakerReset {
        guardian: ctx.accounts.guardian.key(),
    });
    Ok(())
}
