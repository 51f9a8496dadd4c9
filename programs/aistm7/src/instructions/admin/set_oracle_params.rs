use anchor_lang::prelude::*;

use crate::constants::SEED_CONFIG;
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::OracleParamsUpdated;
use crate::state::Config;

/// Each `Some` field replaces that parameter; `backup_feed_id: Some([0; 32])`
/// removes the backup feed.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct SetOracleParamsArgs {
    pub primary_feed_id: Option<[u8; 32]>,
    pub backup_feed_id: Option<[u8; 32]>,
    pub max_price_age_secs: Option<u32>,
    pub max_confidence_bps: Option<u16>,
    pub max_ema_divergence_bps: Option<u16>,
    pub max_feed_divergence_bps: Option<u16>,
}

#[derive(Accounts)]
pub struct SetOracleParams<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,
}

pub fn handler(ctx: Context<SetOracleParams>, args: SetOracleParamsArgs) -> Result<()> {
    let config = &mut ctx.accounts.config;
    let old = config.oracle_params;
    let new = &mut config.oracle_params;
    new.primary_feed_id = args.primary_feed_id.unwrap_or(new.primary_feed_id);
    new.backup_feed_id = args.backup_feed_id.unwrap_or(new.backup_feed_id);
    new.max_price_age_secs = args.max_price_age_secs.unwrap_or(new.max_price_age_secs);
    new.max_confidence_bps = args.max_confidence_bps.unwrap_or(new.max_confidence_bps);
    new.max_ema_divergence_bps = args.max_ema_divergence_bps.unwrap_or(new.max_ema_divergence_bps);
    new.max_feed_divergence_bps = args.max_feed_divergence_bps.unwrap_or(new.max_feed_divergence_bps);
    config.invariant()?;

    emit_event!(OracleParamsUpdated {
        old,
        new: config.oracle_params,
    });
    Ok(())
}
