use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::RequirementParamsUpdated;
use crate::state::Config;

/// Each `Some` field replaces that parameter.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct SetRequirementParamsArgs {
    pub target_usd_micros: Option<u64>,
    pub min_tokens: Option<u64>,
    pub max_tokens: Option<u64>,
    pub update_threshold_bps: Option<u16>,
    pub min_update_interval_secs: Option<u32>,
    pub pass_validity_secs: Option<u32>,
    /// Applies to unlocks requested from now on.
    pub unlock_cooldown_secs: Option<u32>,
}

#[derive(Accounts)]
pub struct SetRequirementParams<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

/// Takes effect at the next `refresh_requirement`; the stored requirement is
/// not recomputed here, since no price is read.
pub fn handler(ctx: Context<SetRequirementParams>, args: SetRequirementParamsArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.requirement_params;
    let new = &mut config.requirement_params;
    new.target_usd_micros = args.target_usd_micros.unwrap_or(new.target_usd_micros);
    new.min_tokens = args.min_tokens.unwrap_or(new.min_tokens);
    new.max_tokens = args.max_tokens.unwrap_or(new.max_tokens);
    new.update_threshold_bps = args.update_threshold_bps.unwrap_or(new.update_threshold_bps);
    new.min_update_interval_secs = args.min_update_interval_secs.unwrap_or(new.min_update_interval_secs);
    new.pass_validity_secs = args.pass_validity_secs.unwrap_or(new.pass_validity_secs);
    new.unlock_cooldown_secs = args.unlock_cooldown_secs.unwrap_or(new.unlock_cooldown_secs);
    config.invariant()?;

    emit_event!(RequirementParamsUpdated {
        old,
        new: config.requirement_params,
    });
    Ok(())
}
