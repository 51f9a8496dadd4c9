use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::AuthoritiesUpdated;
use crate::state::Config;

/// Each `Some` field replaces that authority; `None` keeps it. The guardian
/// is not among them: it checks the admin, so only the guardian itself
/// (`set_guardian`) or the council replaces it.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct SetAuthoritiesArgs {
    pub admin: Option<Pubkey>,
    pub keeper: Option<Pubkey>,
    pub fee_collector: Option<Pubkey>,
    pub rewarder: Option<Pubkey>,
}

#[derive(Accounts)]
pub struct SetAuthorities<'info> {
    #[account(
        constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized,
    )]
    pub admin: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<SetAuthorities>, args: SetAuthoritiesArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.authorities;
    let new = &mut config.authorities;
    new.admin = args.admin.unwrap_or(new.admin);
    new.keeper = args.keeper.unwrap_or(new.keeper);
    new.fee_collector = args.fee_collector.unwrap_or(new.fee_collector);
    new.rewarder = args.rewarder.unwrap_or(new.rewarder);
    config.invariant()?;

    emit_event!(AuthoritiesUpdated {
        old,
        new: config.authorities,
    });
    Ok(())
}
