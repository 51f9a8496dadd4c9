use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{CONFIG_VERSION, SEED_CONFIG, SEED_TREASURY};
use crate::errors::Aistm7Error;
use crate::program::Aistm7;
use crate::state::{Authorities, Config, OracleParams, RequirementParams, RequirementState};
use crate::emit_event;
use crate::events::ConfigInitialized;

/// The native loader owns builtins; only local validators run this program so.
const NATIVE_LOADER_ID: Pubkey = pubkey!("NativeLoader1111111111111111111111111111111");

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    pub authorities: Authorities,
    pub requirement_params: RequirementParams,
    pub oracle_params: OracleParams,
}

#[derive(Accounts)]
pub struct Initialize<'info> {
    /// Pays for the new accounts; must be the program's upgrade authority.
    #[account(mut)]
    pub initializer: Signer<'info>,

    #[account(
        init,
        payer = initializer,
        space = 8 + Config::INIT_SPACE,
        seeds = [SEED_CONFIG],
        bump,
    )]
    pub config: Account<'info, Config>,

    pub mint: Account<'info, Mint>,

    #[account(
        init,
        payer = initializer,
        seeds = [SEED_TREASURY, mint.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub treasury_vault: Account<'info, TokenAccount>,

    pub program: Program<'info, Aistm7>,

    /// Required when the program is deployed with the upgradeable loader.
    pub program_data: Option<Account<'info, ProgramData>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

impl Initialize<'_> {
    /// Only the upgrade authority may create the config, so nobody can take
    /// the singleton PDA between deployment and initialisation.
    fn check_initializer(&self) -> Result<()> {
        match self.program.programdata_address()? {
            Some(expected) => {
                let program_data = self
                    .program_data
                    .as_ref()
                    .ok_or(Aistm7Error::MissingProgramData)?;
                require_keys_eq!(program_data.key(), expected, Aistm7Error::MissingProgramData);
                require!(
                    program_data.upgrade_authority_address == Some(self.initializer.key()),
                    Aistm7Error::InitializerNotUpgradeAuthority
                );
            }
            None => require_keys_eq!(
                *self.program.to_account_info().owner,
                NATIVE_LOADER_ID,
                Aistm7Error::UnsupportedLoader
            ),
        }
        Ok(())
    }
}

pub fn handler(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
    ctx.accounts.check_initializer()?;

    let config = &mut ctx.accounts.config;
    config.set_inner(Config {
        version: CONFIG_VERSION,
        authorities: args.authorities,
        mint: ctx.accounts.mint.key(),
        treasury_vault: ctx.accounts.treasury_vault.key(),
        mint_decimals: ctx.accounts.mint.decimals,
        bump: ctx.bumps.config,
        treasury_bump: ctx.bumps.treasury_vault,
        paused: false,
        requirement_params: args.requirement_params,
        oracle_params: args.oracle_params,
        requirement: RequirementState::UNPRICED,
        _reserved: [0; 128],
    });
    config.invariant()?;

    emit_event!(ConfigInitialized {
        config: config.key(),
        mint: config.mint,
        treasury_vault: config.treasury_vault,
        authorities: config.authorities,
    });
    Ok(())
}
