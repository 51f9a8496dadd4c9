use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::buyback_pricing::{token_price_in_quote, zar_to_quote};
use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_ORDER, SEED_ORDER_ESCROW, SEED_QUOTE_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::BuyOrderOpened;
use crate::math::{apply_bps, to_u64};
use crate::oracle::load_price;
use crate::state::{allocate, BuyOrder, Buyback, Config, OrderStatus};
use crate::vault::transfer_from_vault;

/// The keeper opens a buy-order with `allocation_bps` of the revenue not yet
/// used, escrowing its quote budget from the quote vault.
#[derive(Accounts)]
pub struct ExecuteBuyOrder<'info> {
    #[account(mut, constraint = keeper.key() == config.authorities.keeper @ Aistm7Error::Unauthorized)]
    pub keeper: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    /// CHECK: the token's Pyth price, validated against `token_feed_id`.
    pub token_price: UncheckedAccount<'info>,

    /// CHECK: the USD/ZAR Pyth price, validated against `usd_zar_feed_id`.
    pub usd_zar_price: UncheckedAccount<'info>,

    #[account(address = buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub quote_mint: Box<Account<'info, Mint>>,

    #[account(mut, seeds = [SEED_QUOTE_VAULT], bump = buyback.quote_vault_bump)]
    pub quote_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        init,
        payer = keeper,
        space = 8 + BuyOrder::INIT_SPACE,
        seeds = [SEED_ORDER, buyback.next_order_id.to_le_bytes().as_ref()],
        bump,
    )]
    pub order: Box<Account<'info, BuyOrder>>,

    #[account(
        init,
        payer = keeper,
        seeds = [SEED_ORDER_ESCROW, buyback.next_order_id.to_le_bytes().as_ref()],
        bump,
        token::mint = quote_mint,
        token::authority = config,
    )]
    pub escrow: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ExecuteBuyOrder>) -> Result<()> {
    let config = &ctx.accounts.config;
    config.require_not_paused()?;
    require!(!config.requirement.breaker_tripped, Aistm7Error::CircuitBreakerTripped);
    let clock = Clock::get()?;
    let buyback = &ctx.accounts.buyback;
    let params = buyback.params;
    let allocation = allocate(buyback.available_cents(), &params)?;

    let oracle = &config.oracle_params;
    let token = load_price(&ctx.accounts.token_price, &params.token_feed_id, oracle, &clock)?;
    let usd_zar = load_price(&ctx.accounts.usd_zar_price, &params.usd_zar_feed_id, oracle, &clock)?;
    let decimals = buyback.quote_decimals;
    let budget = zar_to_quote(allocation.allocated_cents, params.quote_rate, &usd_zar, decimals)?;
    require!(budget > 0, Aistm7Error::AllocationBelowMinimum);
    require!(ctx.accounts.quote_vault.amount >= budget, Aistm7Error::InsufficientTreasuryQuote);
    let price = token_price_in_quote(&token, params.quote_rate, &usd_zar, decimals)?;
    let limit_price = to_u64(apply_bps(u128::from(price), params.max_slippage_bps)? + u128::from(price))?;

    let buyback = &mut ctx.accounts.buyback;
    buyback.observe_prices(&token, &usd_zar)?;
    buyback.record_spend(budget, clock.unix_timestamp)?;
    let id = buyback.next_order_id;
    buyback.next_order_id = id.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
    let metrics = &mut buyback.metrics;
    metrics.revenue_used_cents = metrics
        .revenue_used_cents
        .checked_add(allocation.revenue_used_cents)
        .ok_or(Aistm7Error::MathOverflow)?;
    metrics.zar_allocated_cents = metrics
        .zar_allocated_cents
        .checked_add(allocation.allocated_cents)
        .ok_or(Aistm7Error::MathOverflow)?;
    metrics.quote_escrowed = metrics.quote_escrowed.checked_add(budget).ok_or(Aistm7Error::MathOverflow)?;
    metrics.orders_opened = metrics.orders_opened.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
    metrics.last_execution_at = clock.unix_timestamp;

    let accounts = &ctx.accounts;
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        &accounts.quote_vault.to_account_info(),
        &accounts.quote_mint.to_account_info(),
        &accounts.escrow.to_account_info(),
        &accounts.config.to_account_info(),
        accounts.config.bump,
        budget,
        decimals,
    )?;

    let expires_at = clock
        .unix_timestamp
        .checked_add(i64::from(params.order_ttl_secs))
        .ok_or(Aistm7Error::MathOverflow)?;
    let escrow = ctx.accounts.escrow.key();
    ctx.accounts.order.set_inner(BuyOrder {
        id,
        zar_allocated_cents: allocation.allocated_cents,
        revenue_used_cents: allocation.revenue_used_cents,
        quote_budget: budget,
        quote_spent: 0,
        tokens_acquired: 0,
        limit_price,
        created_at: clock.unix_timestamp,
        expires_at,
        status: OrderStatus::Pending,
        closed_at: 0,
        escrow,
        payer: ctx.accounts.keeper.key(),
        bump: ctx.bumps.order,
        escrow_bump: ctx.bumps.escrow,
    });
    emit_event!(BuyOrderOpened {
        id,
        zar_allocated_cents: allocation.allocated_cents,
        revenue_used_cents: allocation.revenue_used_cents,
        quote_budget: budget,
        limit_price,
        expires_at,
    });
    Ok(())
}
