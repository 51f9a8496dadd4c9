use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_ORDER, SEED_QUOTE_VAULT};
use crate::errors::Aistm7Error;
use crate::instructions::crank::close_expired_buy_order::close_order;
use crate::state::{BuyOrder, Buyback, Config, OrderStatus};

/// The admin cancels a pending order; its unspent budget returns to the quote vault.
#[derive(Accounts)]
pub struct CancelBuyOrder<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

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

pub fn handler(ctx: Context<CancelBuyOrder>) -> Result<()> {
    let a = ctx.accounts;
    close_order(
        &a.config,
        &mut a.buyback,
        &mut a.order,
        &a.escrow,
        &a.quote_vault,
        &a.quote_mint,
        &a.token_program,
        OrderStatus::Cancelled,
    )
}
