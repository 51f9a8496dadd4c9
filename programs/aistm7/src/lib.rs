#![deny(arithmetic_overflow)]
#![allow(unexpected_cfgs)]
// Every instruction module exports a `handler`; lib.rs calls them by path.
#![allow(ambiguous_glob_reexports)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod oracle;
pub mod state;

pub use instructions::*;
use state::AccessResult;

declare_id!("666imxNugJ7XZpnhx46AUV4VTTFaitYTep6MwV7XYySM");

#[program]
pub mod aistm7 {
    use super::*;

    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        admin::initialize::handler(ctx, args)
    }

    pub fn set_authorities(ctx: Context<SetAuthorities>, args: SetAuthoritiesArgs) -> Result<()> {
        admin::set_authorities::handler(ctx, args)
    }

    pub fn set_requirement_params(ctx: Context<SetRequirementParams>, args: SetRequirementParamsArgs) -> Result<()> {
        admin::set_requirement_params::handler(ctx, args)
    }

    pub fn set_oracle_params(ctx: Context<SetOracleParams>, args: SetOracleParamsArgs) -> Result<()> {
        admin::set_oracle_params::handler(ctx, args)
    }

    pub fn set_requirement_override(
        ctx: Context<SetRequirementOverride>,
        args: SetRequirementOverrideArgs,
    ) -> Result<()> {
        admin::set_requirement_override::handler(ctx, args)
    }

    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        guardian::set_paused::handler(ctx, paused)
    }

    pub fn reset_circuit_breaker(ctx: Context<ResetCircuitBreaker>) -> Result<()> {
        guardian::reset_circuit_breaker::handler(ctx)
    }

    pub fn refresh_requirement(ctx: Context<RefreshRequirement>) -> Result<()> {
        crank::refresh_requirement::handler(ctx)
    }

    pub fn verify_access<'info>(
        ctx: Context<'_, '_, 'info, 'info, VerifyAccess<'info>>,
    ) -> Result<AccessResult> {
        user::verify_access::handler(ctx)
    }

    pub fn deposit_treasury(ctx: Context<DepositTreasury>, amount: u64) -> Result<u64> {
        user::deposit_treasury::handler(ctx, amount)
    }
}
