use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::RequirementOverrideSet;
use crate::state::{Config, RequirementOverride};

/// `Some` sets a fixed requirement (token base units) until `expires_at`;
/// `None` clears it and the computed requirement applies again.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct SetRequirementOverrideArgs {
    pub emergency_override: Option<RequirementOverride>,
}

#[derive(Accounts)]
pub struct SetRequirementOverride<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<SetRequirementOverride>, args: SetRequirementOverrideArgs) -> Result<()> {
    if let Some(o) = args.emergency_override {
        let now = Clock::get()?.unix_timestamp;
        require!(o.amount > 0 && o.expires_at > now, Aistm7Error::InvalidOverride);
    }
    let requirement = &mut ctx.accounts.config.requirement;
    let old = requirement.emergency_override;
    requirement.emergency_override = args.emergency_override;

    emit_event!(RequirementOverrideSet {
        old,
        new: args.emergency_override,
    });
    Ok(())
}
