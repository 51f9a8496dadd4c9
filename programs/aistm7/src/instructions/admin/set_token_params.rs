use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::TokenParamsUpdated;
use crate::state::Config;

/// Each `Some` field replaces that parameter. The admin may lower
/// `max_supply`, never raise it: raising takes a council proposal.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct SetTokenParamsArgs {
    pub max_supply: Option<u64>,
    pub reward_daily_cap: Option<u64>,
}

#[derive(Accounts)]
pub struct SetTokenParams<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<SetTokenParams>, args: SetTokenParamsArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.token_params;
    let new = &mut config.token_params;
    if let Some(max_supply) = args.max_supply {
        require!(max_supply <= new.max_supply, Aistm7Error::MaxSupplyRaiseNeedsCouncil);
        new.max_supply = max_supply;
    }
    new.reward_daily_cap = args.reward_daily_cap.unwrap_or(new.reward_daily_cap);
    config.invariant()?;

    emit_event!(TokenParamsUpdated {
        old,
        new: config.token_params,
    });
    Ok(())
}
