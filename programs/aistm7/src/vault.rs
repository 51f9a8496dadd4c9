//! Token moves: out of vaults the config PDA owns (signed by the config
//! seeds), and from a wallet's account signed by the wallet.

use anchor_lang::prelude::*;
use anchor_spl::token::{self, Burn, CloseAccount, TokenAccount, TransferChecked};

use crate::constants::SEED_CONFIG;
use crate::errors::Aistm7Error;

/// Refuse a payout account the config owns (a vault or an escrow): what is
/// paid into it would stay with the program, and an escrow's would be
/// stranded when its order closes.
pub fn require_external(destination: &TokenAccount, config: &Pubkey) -> Result<()> {
    require_keys_neq!(destination.owner, *config, Aistm7Error::ProgramOwnedDestination);
    Ok(())
}

/// Move `amount` of `mint` from a config-owned `from` to `to`.
pub fn transfer_from_vault<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    config: &AccountInfo<'info>,
    config_bump: u8,
    amount: u64,
    decimals: u8,
) -> Result<()> {
    let bump = [config_bump];
    let seeds: &[&[u8]] = &[SEED_CONFIG, &bump];
    token::transfer_checked(
        CpiContext::new_with_signer(
            token_program.clone(),
            TransferChecked { from: from.clone(), mint: mint.clone(), to: to.clone(), authority: config.clone() },
            &[seeds],
        ),
        amount,
        decimals,
    )
}

/// Move `amount` of `mint` from `from` to `to`, signed by `authority` (the
/// account's owner or its approved delegate signing the transaction).
pub fn transfer_signed<'info>(
    token_program: &AccountInfo<'info>,
    from: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    to: &AccountInfo<'info>,
    authority: &AccountInfo<'info>,
    amount: u64,
    decimals: u8,
) -> Result<()> {
    token::transfer_checked(
        CpiContext::new(
            token_program.clone(),
            TransferChecked { from: from.clone(), mint: mint.clone(), to: to.clone(), authority: authority.clone() },
        ),
        amount,
        decimals,
    )
}

/// Burn `amount` from a config-owned `vault` (the buy-back burns what it buys).
pub fn burn_from_vault<'info>(
    token_program: &AccountInfo<'info>,
    vault: &AccountInfo<'info>,
    mint: &AccountInfo<'info>,
    config: &AccountInfo<'info>,
    config_bump: u8,
    amount: u64,
) -> Result<()> {
    let bump = [config_bump];
    let seeds: &[&[u8]] = &[SEED_CONFIG, &bump];
    token::burn(
        CpiContext::new_with_signer(
            token_program.clone(),
            Burn { mint: mint.clone(), from: vault.clone(), authority: config.clone() },
            &[seeds],
        ),
        amount,
    )
}

/// Close a config-owned, empty token account; its rent goes to `destination`.
pub fn close_vault<'info>(
    token_program: &AccountInfo<'info>,
    vault: &AccountInfo<'info>,
    destination: &AccountInfo<'info>,
    config: &AccountInfo<'info>,
    config_bump: u8,
) -> Result<()> {
    let bump = [config_bump];
    let seeds: &[&[u8]] = &[SEED_CONFIG, &bump];
    token::close_account(CpiContext::new_with_signer(
        token_program.clone(),
        CloseAccount { account: vault.clone(), destination: destination.clone(), authority: config.clone() },
        &[seeds],
    ))
}
