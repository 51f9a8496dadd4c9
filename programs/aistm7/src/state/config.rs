use anchor_lang::prelude::*;

use crate::errors::Aistm7Error;

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
    /// Token account of `mint` owned by this config, PDA `[SEED_TREASURY, mint]`.
    pub treasury_vault: Pubkey,
    pub bump: u8,
    pub treasury_bump: u8,
    pub _reserved: [u8; 256],
}

impl Config {
    /// Re-checked after every change to the config.
    pub fn invariant(&self) -> Result<()> {
        self.authorities.validate()
    }
}
