use anchor_lang::prelude::*;

use crate::errors::Aistm7Error;
use crate::state::{OracleParams, RequirementParams, RequirementState, RewardLedger, TokenInfo, TokenParams};

/// Who may do what. Plain keys, so a multisig vault can hold any role.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct Authorities {
    /// Changes configuration and authorities.
    pub admin: Pubkey,
    /// Pauses and unpauses; resets the price circuit breaker.
    pub guardian: Pubkey,
    /// Reports revenue and executes buy-orders.
    pub keeper: Pubkey,
    /// Charges service fees against user allowances.
    pub fee_collector: Pubkey,
    /// Pays rewards from the reward vault.
    pub rewarder: Pubkey,
}

impl Authorities {
    pub fn validate(&self) -> Result<()> {
        let keys = [
            self.admin,
            self.guardian,
            self.keeper,
            self.fee_collector,
            self.rewarder,
        ];
        require!(
            keys.iter().all(|key| *key != Pubkey::default()),
            Aistm7Error::InvalidAuthority
        );
        // The guardian is the check on the admin: one key may not hold both.
        require_keys_neq!(self.admin, self.guardian, Aistm7Error::AdminCannotBeGuardian);
        Ok(())
    }
}

/// The program's single configuration account, PDA `[SEED_CONFIG]`.
#[account]
#[derive(InitSpace)]
pub struct Config {
    pub version: u8,
    pub authorities: Authorities,
    /// The token whose holdings, fees and buy-backs this program manages.
    pub mint: Pubkey,
    /// Token accounts of `mint` owned by this config: PDAs `[SEED_TREASURY,
    /// mint]`, `[SEED_REWARD_VAULT, mint]`, `[SEED_BUYBACK_VAULT, mint]`.
    pub treasury_vault: Pubkey,
    pub reward_vault: Pubkey,
    pub buyback_vault: Pubkey,
    /// `[SEED_LOCK_VAULT, mint]`: every wallet's locked tokens.
    pub lock_vault: Pubkey,
    /// Decimals of `mint`, fixed at initialisation.
    pub mint_decimals: u8,
    pub bump: u8,
    pub treasury_bump: u8,
    pub reward_vault_bump: u8,
    pub buyback_vault_bump: u8,
    pub lock_vault_bump: u8,
    pub mint_authority_bump: u8,
    pub fee_delegate_bump: u8,
    /// Set by the guardian: every instruction that moves value or changes
    /// user state fails with `Paused` (README, "Security model", lists the
    /// exempt ones).
    pub paused: bool,
    pub requirement_params: RequirementParams,
    pub oracle_params: OracleParams,
    pub requirement: RequirementState,
    pub token_params: TokenParams,
    pub token_info: TokenInfo,
    pub rewards: RewardLedger,
    /// Token base units in all `AccessLock`s (locked and unlocking): what the
    /// lock vault owes the wallets.
    pub total_locked: u64,
    pub _reserved: [u8; 128],
}

impl Config {
    /// Re-checked after every change to the config.
    pub fn invariant(&self) -> Result<()> {
        self.authorities.validate()?;
        self.requirement_params.validate(self.mint_decimals)?;
        self.oracle_params.validate()?;
        self.token_params.validate()?;
        self.token_info.validate()
    }

    pub fn require_not_paused(&self) -> Result<()> {
        require!(!self.paused, Aistm7Error::Paused);
        Ok(())
    }
}
