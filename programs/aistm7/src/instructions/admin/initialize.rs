use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{
    CONFIG_VERSION, SEED_BUYBACK_VAULT, SEED_CONFIG, SEED_FEE_DELEGATE, SEED_LOCK_VAULT, SEED_MINT_AUTHORITY,
    SEED_REWARD_VAULT, SEED_TREASURY,
};
use crate::errors::Aistm7Error;
use crate::program::Aistm7;
use crate::state::{
    Authorities, Config, OracleParams, RequirementParams, RequirementState, RewardLedger, TokenInfo, TokenParams,
};
use crate::emit_event;
use crate::events::ConfigInitialized;

/// The native loader owns builtins; only local validators run this program so.
const NATIVE_LOADER_ID: Pubkey = pubkey!("NativeLoader1111111111111111111111111111111");

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeArgs {
    pub authorities: Authorities,
    pub requirement_params: RequirementParams,
    pub oracle_params: OracleParams,
    pub token_params: TokenParams,
    pub token_info: TokenInfo,
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
    pub config: Box<Account<'info, Config>>,

    #[account(constraint = mint.freeze_authority.is_none() @ Aistm7Error::MintHasFreezeAuthority)]
    pub mint: Box<Account<'info, Mint>>,

    #[account(
        init,
        payer = initializer,
        seeds = [SEED_TREASURY, mint.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub treasury_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        init,
        payer = initializer,
        seeds = [SEED_REWARD_VAULT, mint.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub reward_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        init,
        payer = initializer,
        seeds = [SEED_BUYBACK_VAULT, mint.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub buyback_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        init,
        payer = initializer,
        seeds = [SEED_LOCK_VAULT, mint.key().as_ref()],
        bump,
        token::mint = mint,
        token::authority = config,
    )]
    pub lock_vault: Box<Account<'info, TokenAccount>>,

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
    let (_, mint_authority_bump) = Pubkey::find_program_address(&[SEED_MINT_AUTHORITY], &crate::ID);
    let (_, fee_delegate_bump) = Pubkey::find_program_address(&[SEED_FEE_DELEGATE], &crate::ID);

    let config = &mut ctx.accounts.config;
    config.set_inner(Config {
        version: CONFIG_VERSION,
        authorities: args.authorities,
        mint: ctx.accounts.mint.key(),
        treasury_vault: ctx.accounts.treasury_vault.key(),
        reward_vault: ctx.accounts.reward_vault.key(),
        buyback_vault: ctx.accounts.buyback_vault.key(),
        lock_vault: ctx.accounts.lock_vault.key(),
        mint_decimals: ctx.accounts.mint.decimals,
        bump: ctx.bumps.config,
        treasury_bump: ctx.bumps.treasury_vault,
        reward_vault_bump: ctx.bumps.reward_vault,
        buyback_vault_bump: ctx.bumps.buyback_vault,
        lock_vault_bump: ctx.bumps.lock_vault,
        mint_authority_bump,
        fee_delegate_bump,
        paused: false,
        requirement_params: args.requirement_params,
        oracle_params: args.oracle_params,
        requirement: RequirementState::UNPRICED,
        token_params: args.token_params,
        token_info: args.token_info.clone(),
        rewards: RewardLedger::default(),
        total_locked: 0,
        _reserved: [0; 128],
    });
    config.invariant()?;
    require!(
        ctx.accounts.mint.supply <= config.token_params.max_supply,
        Aistm7Error::MaxSupplyExceeded
    );

    emit_event!(ConfigInitialized {
        config: config.key(),
        mint: config.mint,
        treasury_vault: config.treasury_vault,
        authorities: config.authorities,
        token_info: args.token_info,
    });
    Ok(())
}
