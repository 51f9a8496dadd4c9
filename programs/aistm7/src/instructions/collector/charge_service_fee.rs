use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount, TransferChecked};

use crate::constants::{SEED_CHARGE, SEED_CONFIG, SEED_FEES, SEED_FEE_DELEGATE, SEED_TREASURY};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::FeePaid;
use crate::state::{ChargeReceipt, Config, FeeSchedule};

/// The backend (fee collector) charges a user's fee for one request, spending
/// the allowance the user approved to the fee-delegate PDA. A request id is
/// charged at most once: its receipt PDA records it.
#[derive(Accounts)]
#[instruction(service: String, request_id: [u8; 32])]
pub struct ChargeServiceFee<'info> {
    #[account(
        mut,
        constraint = fee_collector.key() == config.authorities.fee_collector @ Aistm7Error::Unauthorized,
    )]
    pub fee_collector: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_FEES], bump = fee_schedule.bump)]
    pub fee_schedule: Box<Account<'info, FeeSchedule>>,

    pub mint: Box<Account<'info, Mint>>,

    #[account(mut, constraint = user_token.mint == mint.key() @ Aistm7Error::WrongMint)]
    pub user_token: Box<Account<'info, TokenAccount>>,

    /// CHECK: PDA `[SEED_FEE_DELEGATE]`, the delegate users approve; only signs.
    #[account(seeds = [SEED_FEE_DELEGATE], bump = config.fee_delegate_bump)]
    pub fee_delegate: UncheckedAccount<'info>,

    #[account(
        init_if_needed,
        payer = fee_collector,
        space = 8 + ChargeReceipt::INIT_SPACE,
        seeds = [SEED_CHARGE, request_id.as_ref()],
        bump,
    )]
    pub receipt: Box<Account<'info, ChargeReceipt>>,

    #[account(mut, seeds = [SEED_TREASURY, mint.key().as_ref()], bump = config.treasury_bump)]
    pub treasury_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ChargeServiceFee>, service: String, request_id: [u8; 32]) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    require!(ctx.accounts.receipt.charged_at == 0, Aistm7Error::DuplicateRequest);
    let now = Clock::get()?.unix_timestamp;
    let collector = ctx.accounts.fee_collector.key();
    let cost = ctx.accounts.fee_schedule.record_payment(&service, now)?;

    let accounts = &ctx.accounts;
    let user_token = &accounts.user_token;
    require!(user_token.amount >= cost, Aistm7Error::InsufficientFeeBalance);
    require!(
        user_token.delegate == Some(accounts.fee_delegate.key()).into() && user_token.delegated_amount >= cost,
        Aistm7Error::AllowanceTooSmall
    );
    let bump = [accounts.config.fee_delegate_bump];
    let seeds: &[&[u8]] = &[SEED_FEE_DELEGATE, &bump];
    token::transfer_checked(
        CpiContext::new_with_signer(
            accounts.token_program.to_account_info(),
            TransferChecked {
                from: user_token.to_account_info(),
                mint: accounts.mint.to_account_info(),
                to: accounts.treasury_vault.to_account_info(),
                authority: accounts.fee_delegate.to_account_info(),
            },
            &[seeds],
        ),
        cost,
        accounts.mint.decimals,
    )?;

    let user = user_token.owner;
    ctx.accounts.receipt.set_inner(ChargeReceipt {
        request_id,
        user,
        amount: cost,
        charged_at: now,
        payer: collector,
        bump: ctx.bumps.receipt,
    });
    emit_event!(FeePaid {
        payer: user,
        service,
        amount: cost,
        request_id,
        charged_by: Some(collector),
    });
    Ok(())
}
