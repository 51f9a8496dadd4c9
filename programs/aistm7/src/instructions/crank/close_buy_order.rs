use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_ORDER, SEED_QUOTE_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::{AccountClosed, EscrowSwept};
use crate::state::{retention_over, BuyOrder, Buyback, Config, OrderStatus};
use crate::vault::{close_vault, transfer_from_vault};

/// Anyone closes a settled buy-order and its escrow after the retention
/// period; both rents return to the keeper that opened it. Quote sent to the
/// escrow after it settled goes to the quote vault first.
#[derive(Accounts)]
pub struct CloseBuyOrder<'info> {
    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    #[account(
        mut,
        close = payer,
        seeds = [SEED_ORDER, order.id.to_le_bytes().as_ref()],
        bump = order.bump,
    )]
    pub order: Box<Account<'info, BuyOrder>>,

    #[account(mut, address = order.escrow)]
    pub escrow: Box<Account<'info, TokenAccount>>,

    #[account(mut, seeds = [SEED_QUOTE_VAULT], bump = buyback.quote_vault_bump)]
    pub quote_vault: Box<Account<'info, TokenAccount>>,

    #[account(address = buyback.quote_mint @ Aistm7Error::WrongMint)]
    pub quote_mint: Box<Account<'info, Mint>>,

    /// CHECK: receives both rents; must be the order's payer.
    #[account(mut, address = order.payer @ Aistm7Error::WrongRentRecipient)]
    pub payer: UncheckedAccount<'info>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<CloseBuyOrder>) -> Result<()> {
    let a = &ctx.accounts;
    a.config.require_not_paused()?;
    require!(a.order.status != OrderStatus::Pending, Aistm7Error::RecordNotSettled);
    require!(
        retention_over(a.order.closed_at, Clock::get()?.unix_timestamp),
        Aistm7Error::RetentionNotElapsed
    );
    let token_program = a.token_program.to_account_info();
    let config = a.config.to_account_info();
    if a.escrow.amount > 0 {
        transfer_from_vault(
            &token_program,
            &a.escrow.to_account_info(),
            &a.quote_mint.to_account_info(),
            &a.quote_vault.to_account_info(),
            &config,
            a.config.bump,
            a.escrow.amount,
            a.buyback.quote_decimals,
        )?;
        emit_event!(EscrowSwept { order: a.order.id, amount: a.escrow.amount });
    }
    let lamports = a
        .order
        .to_account_info()
        .lamports()
        .checked_add(a.escrow.to_account_info().lamports())
        .ok_or(Aistm7Error::MathOverflow)?;
    close_vault(&token_program, &a.escrow.to_account_info(), &a.payer.to_account_info(), &config, a.config.bump)?;
    emit_event!(AccountClosed {
        account: a.order.key(),
        rent_recipient: a.payer.key(),
        lamports,
    });
    Ok(())
}
