use anchor_lang::prelude::*;

use crate::constants::{SEED_CONFIG, SEED_FEES};
use crate::errors::Aistm7Error;
use crate::state::{Config, FeeSchedule};

/// Create the empty fee schedule; services are added with `set_service_fee`.
#[derive(Accounts)]
pub struct InitializeFeeSchedule<'info> {
    #[account(mut, constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    #[account(init, payer = admin, space = 8 + FeeSchedule::INIT_SPACE, seeds = [SEED_FEES], bump)]
    pub fee_schedule: Account<'info, FeeSchedule>,

    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitializeFeeSchedule>) -> Result<()> {
    ctx.accounts.fee_schedule.set_inner(FeeSchedule {
        bump: ctx.bumps.fee_schedule,
        services: Vec::new(),
    });
    Ok(())
}
