use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::buyback_pricing::{cost_of, token_price_in_quote};
use crate::constants::{SEED_BUYBACK, SEED_BUYBACK_VAULT, SEED_CONFIG, SEED_ORDER};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::BuyOrderFilled;
use crate::oracle::load_price;
use crate::state::{BuyOrder, Buyback, Config, OrderStatus};
use crate::vault::{burn_from_vault, transfer_from_vault, transfer_signed};

/// Any seller sells `amount` token base units into a pending buy-order at the
/// fresh oracle price on the treasury's side of the confidence band (never
/// above the order's limit), paid from its escrow, rounded down. An update
/// older than one the treasury already used is refused, so a seller cannot
/// pick the best price of the last minute. Partial fills are fine; bought tokens are burned when the
/// treasury says so, otherwise held in the buy-back vault.
#[derive(Accounts)]
pub struct FillBuyOrder<'info> {
    pub seller: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_ORDER, order.id.to_le_bytes().as_ref()], bump = order.bump)]
    pub order: Box<Account<'info, BuyOrder>>,

    #[account(mut, address = order.escrow)]
    pub escrow: Box<Account<'info, TokenAccount>>,

    #[account(mut)]
    pub mint: Box<Account<'info, Mint>>,

    #[account(address = buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub quote_mint: Box<Account<'info, Mint>>,

    #[account(
        mut,
        constraint = seller_token.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = seller_token.owner == seller.key() @ Aistm7Error::WrongTokenOwner,
    )]
    pub seller_token: Box<Account<'info, TokenAccount>>,

    /// Where the seller is paid: any quote account but the program's own.
    #[account(
        mut,
        constraint = seller_quote.mint == buyback.quote_mint @ Aistm7Error::WrongMint,
        constraint = seller_quote.owner != config.key() @ Aistm7Error::ProgramOwnedDestination,
    )]
    pub seller_quote: Box<Account<'info, TokenAccount>>,

    #[account(mut, seeds = [SEED_BUYBACK_VAULT, mint.key().as_ref()], bump = config.buyback_vault_bump)]
    pub buyback_vault: Box<Account<'info, TokenAccount>>,

    /// CHECK: the token's Pyth price, validated against `token_feed_id`.
    pub token_price: UncheckedAccount<'info>,

    /// CHECK: the USD/ZAR Pyth price, validated against `usd_zar_feed_id`.
    pub usd_zar_price: UncheckedAccount<'info>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<FillBuyOrder>, amount: u64) -> Result<()> {
    let config = &ctx.accounts.config;
    config.require_not_paused()?;
    require!(!config.requirement.breaker_tripped, Aistm7Error::CircuitBreakerTripped);
    let order = &ctx.accounts.order;
    require!(order.status == OrderStatus::Pending, Aistm7Error::OrderNotPending);
    let clock = Clock::get()?;
    require!(clock.unix_timestamp < order.expires_at, Aistm7Error::OrderExpired);
    require!(amount > 0, Aistm7Error::ZeroAmount);

    let oracle = &config.oracle_params;
    let feeds = ctx.accounts.buyback.params;
    let token = load_price(&ctx.accounts.token_price, &feeds.token_feed_id, oracle, &clock)?;
    let usd_zar = load_price(&ctx.accounts.usd_zar_price, &feeds.usd_zar_feed_id, oracle, &clock)?;
    ctx.accounts.buyback.observe_prices(&token, &usd_zar)?;
    let buyback = &ctx.accounts.buyback;
    let price = token_price_in_quote(
        &token.lower_bound()?,
        buyback.params.quote_rate,
        &usd_zar.lower_bound()?,
        buyback.quote_decimals,
    )?;
    require!(price <= order.limit_price, Aistm7Error::PriceAboveLimit);
    let paid = cost_of(amount, price, ctx.accounts.mint.decimals)?;
    require!(paid > 0, Aistm7Error::FillTooSmall);
    require!(paid <= order.remaining(), Aistm7Error::FillExceedsBudget);

    let accounts = &ctx.accounts;
    transfer_signed(
        &accounts.token_program.to_account_info(),
        &accounts.seller_token.to_account_info(),
        &accounts.mint.to_account_info(),
        &accounts.buyback_vault.to_account_info(),
        &accounts.seller.to_account_info(),
        amount,
        accounts.mint.decimals,
    )?;
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        &accounts.escrow.to_account_info(),
        &accounts.quote_mint.to_account_info(),
        &accounts.seller_quote.to_account_info(),
        &accounts.config.to_account_info(),
        accounts.config.bump,
        paid,
        accounts.buyback.quote_decimals,
    )?;
    let burned = accounts.buyback.params.burn_on_fill;
    if burned {
        burn_from_vault(
            &accounts.token_program.to_account_info(),
            &accounts.buyback_vault.to_account_info(),
            &accounts.mint.to_account_info(),
            &accounts.config.to_account_info(),
            accounts.config.bump,
            amount,
        )?;
    }

    let order = &mut ctx.accounts.order;
    order.quote_spent = order.quote_spent.checked_add(paid).ok_or(Aistm7Error::MathOverflow)?;
    order.tokens_acquired = order.tokens_acquired.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    if order.remaining() == 0 {
        order.status = OrderStatus::Completed;
        order.closed_at = clock.unix_timestamp;
    }
    let metrics = &mut ctx.accounts.buyback.metrics;
    metrics.quote_spent = metrics.quote_spent.checked_add(paid).ok_or(Aistm7Error::MathOverflow)?;
    metrics.tokens_acquired = metrics.tokens_acquired.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    if burned {
        metrics.tokens_burned = metrics.tokens_burned.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    }
    if order.status == OrderStatus::Completed {
        metrics.orders_completed = metrics.orders_completed.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
    }

    emit_event!(BuyOrderFilled {
        id: order.id,
        seller: ctx.accounts.seller.key(),
        tokens: amount,
        price,
        quote_paid: paid,
        burned,
        status: order.status,
    });
    Ok(())
}
