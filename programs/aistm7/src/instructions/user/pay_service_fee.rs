use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_FEES, SEED_TREASURY};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::FeePaid;
use crate::state::{Config, FeeSchedule};
use crate::vault::transfer_signed;

/// The user pays a service's fee from its own token account to the treasury.
#[derive(Accounts)]
pub struct PayServiceFee<'info> {
    pub payer: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_FEES], bump = fee_schedule.bump)]
    pub fee_schedule: Box<Account<'info, FeeSchedule>>,

    pub mint: Box<Account<'info, Mint>>,

    #[account(
        mut,
        constraint = payer_token.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = payer_token.owner == payer.key() @ Aistm7Error::WrongTokenOwner,
    )]
    pub payer_token: Box<Account<'info, TokenAccount>>,

    #[account(mut, seeds = [SEED_TREASURY, mint.key().as_ref()], bump = config.treasury_bump)]
    pub treasury_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<PayServiceFee>, service: String) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    let cost = ctx.accounts.fee_schedule.record_payment(&service, now)?;
    let accounts = &ctx.accounts;
    require!(accounts.payer_token.amount >= cost, Aistm7Error::InsufficientFeeBalance);
    transfer_signed(
        &accounts.token_program.to_account_info(),
        &accounts.payer_token.to_account_info(),
        &accounts.mint.to_account_info(),
        &accounts.treasury_vault.to_account_info(),
        &accounts.payer.to_account_info(),
        cost,
        accounts.mint.decimals,
    )?;

    emit_event!(FeePaid {
        payer: accounts.payer.key(),
        service,
        amount: cost,
        request_id: [0; 32],
        charged_by: None,
    });
    Ok(())
}
