use anchor_lang::prelude::*;
use anchor_spl::token::TokenAccount;

use crate::constants::{SEED_ACCESS, SEED_CONFIG};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::AccessVerified;
use crate::state::{AccessPass, AccessResult, Config};

/// Check that `wallet` holds the effective requirement across the token
/// accounts passed as remaining accounts (each of the configured mint, owned
/// by `wallet`). On success the wallet's `AccessPass` is written and the
/// result returned as return data, so another program can gate on it by CPI.
#[derive(Accounts)]
pub struct VerifyAccess<'info> {
    /// Pays for the `AccessPass` the first time; anyone may.
    #[account(mut)]
    pub payer: Signer<'info>,

    /// CHECK: any wallet; only the balances of its token accounts count.
    pub wallet: UncheckedAccount<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    #[account(
        init_if_needed,
        payer = payer,
        space = 8 + AccessPass::INIT_SPACE,
        seeds = [SEED_ACCESS, wallet.key().as_ref()],
        bump,
    )]
    pub access_pass: Account<'info, AccessPass>,

    pub system_program: Program<'info, System>,
}

/// The summed balance of the wallet's token accounts of the configured mint.
fn holdings<'info>(accounts: &'info [AccountInfo<'info>], wallet: &Pubkey, mint: &Pubkey) -> Result<u64> {
    require!(!accounts.is_empty(), Aistm7Error::NoTokenAccounts);
    let mut seen: Vec<Pubkey> = Vec::with_capacity(accounts.len());
    let mut total: u64 = 0;
    for info in accounts {
        require!(!seen.contains(info.key), Aistm7Error::DuplicateTokenAccount);
        seen.push(*info.key);
        let token = Account::<TokenAccount>::try_from(info)?;
        require_keys_eq!(token.mint, *mint, Aistm7Error::WrongMint);
        require_keys_eq!(token.owner, *wallet, Aistm7Error::WrongTokenOwner);
        total = total.checked_add(token.amount).ok_or(Aistm7Error::MathOverflow)?;
    }
    Ok(total)
}

pub fn handler<'info>(ctx: Context<'_, '_, 'info, 'info, VerifyAccess<'info>>) -> Result<AccessResult> {
    let config = &ctx.accounts.config;
    config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    let required = config.requirement.effective(now)?;
    let wallet = ctx.accounts.wallet.key();
    let balance = holdings(ctx.remaining_accounts, &wallet, &config.mint)?;
    if balance < required {
        msg!("insufficient balance: have {} need {}", balance, required);
        return err!(Aistm7Error::InsufficientBalance);
    }

    let valid_until = now
        .checked_add(i64::from(config.requirement_params.pass_validity_secs))
        .ok_or(Aistm7Error::MathOverflow)?;
    ctx.accounts.access_pass.set_inner(AccessPass {
        wallet,
        balance,
        required,
        checked_at: now,
        valid_until,
        bump: ctx.bumps.access_pass,
    });
    emit_event!(AccessVerified {
        wallet,
        balance,
        required,
        valid_until,
    });
    Ok(AccessResult {
        wallet,
        balance,
        required,
        valid_until,
    })
}
