#![deny(arithmetic_overflow)]
#![allow(unexpected_cfgs)]
// Every instruction module exports a `handler`; lib.rs calls them by path.
#![allow(ambiguous_glob_reexports)]

use anchor_lang::prelude::*;

pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod state;

pub use instructions::*;

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

    pub fn deposit_treasury(ctx: Context<DepositTreasury>, amount: u64) -> Result<u64> {
        user::deposit_treasury::handler(ctx, amount)
    }
}
