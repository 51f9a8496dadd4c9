use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_ORDER, SEED_QUOTE_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::BuyOrderClosed;
use crate::state::{BuyOrder, Buyback, Config, OrderStatus};
use crate::vault::transfer_from_vault;

/// Anyone, once an order expired: its unspent budget returns to the quote vault.
#[derive(Accounts)]
pub struct CloseExpiredBuyOrder<'info> {
    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(mut, seeds = [SEED_ORDER, order.id.to_le_bytes().as_ref()], bump = order.bump)]
    pub order: Box<Account<'info, BuyOrder>>,

    #[account(mut, address = order.escrow)]
    pub escrow: Box<Account<'info, TokenAccount>>,

    #[account(mut, seeds = [SEED_QUOTE_VAULT], bump = buyback.quote_vault_bump)]
    pub quote_vault: Box<Account<'info, TokenAccount>>,

    #[account(address = buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub quote_mint: Box<Account<'info, Mint>>,

    pub token_program: Program<'info, Token>,
}

/// Refund a pending order's unspent budget and close it as `status`.
#[allow(clippy::too_many_arguments)]
pub fn close_order<'info>(
    config: &Account<'info, Config>,
    buyback: &mut Account<'info, Buyback>,
    order: &mut Account<'info, BuyOrder>,
    escrow: &Account<'info, TokenAccount>,
    quote_vault: &Account<'info, TokenAccount>,
    quote_mint: &Account<'info, Mint>,
    token_program: &Program<'info, Token>,
    status: OrderStatus,
) -> Result<()> {
    require!(order.status == OrderStatus::Pending, Aistm7Error::OrderNotPending);
    let refund = order.remaining();
    if refund > 0 {
        transfer_from_vault(
            &token_program.to_account_info(),
            &escrow.to_account_info(),
            &quote_mint.to_account_info(),
            &quote_vault.to_account_info(),
            &config.to_account_info(),
            config.bump,
            refund,
            buyback.quote_decimals,
        )?;
    }
    order.status = status;
    order.closed_at = Clock::get()?.unix_timestamp;
    let metrics = &mut buyback.metrics;
    metrics.quote_returned = metrics.quote_returned.checked_add(refund).ok_or(Aistm7Error::MathOverflow)?;
    let counter = match status {
        OrderStatus::Cancelled => &mut metrics.orders_cancelled,
        _ => &mut metrics.orders_expired,
    };
    *counter = counter.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
    emit_event!(BuyOrderClosed {
        id: order.id,
        status,
        quote_returned: refund,
    });
    Ok(())
}

pub fn handler(ctx: Context<CloseExpiredBuyOrder>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let now = Clock::get()?.unix_timestamp;
    require!(now >= ctx.accounts.order.expires_at, Aistm7Error::OrderNotExpired);
    let a = ctx.accounts;
    close_order(
        &a.config,
        &mut a.buyback,
        &mut a.order,
        &a.escrow,
        &a.quote_vault,
        &a.quote_mint,
        &a.token_program,
        OrderStatus::Expired,
    )
}
