use anchor_lang::prelude::*;

use crate::constants::{SEED_CHARGE, SEED_CONFIG};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::AccountClosed;
use crate::state::{retention_over, ChargeReceipt, Config};

/// Anyone closes a charge receipt after the retention period; the rent
/// returns to the fee collector that paid it. From then on the request id
/// could be charged again, so request ids must not be reused for longer than
/// the retention period.
#[derive(Accounts)]
pub struct CloseChargeReceipt<'info> {
    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(
        mut,
        close = payer,
        seeds = [SEED_CHARGE, receipt.request_id.as_ref()],
        bump = receipt.bump,
    )]
    pub receipt: Box<Account<'info, ChargeReceipt>>,

    /// CHECK: receives the rent; must be the receipt's payer.
    #[account(mut, address = receipt.payer @ Aistm7Error::WrongRentRecipient)]
    pub payer: UncheckedAccount<'info>,
}

pub fn handler(ctx: Context<CloseChargeReceipt>) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let receipt = &ctx.accounts.receipt;
    require!(
        retention_over(receipt.charged_at, Clock::get()?.unix_timestamp),
        Aistm7Error::RetentionNotElapsed
    );
    emit_event!(AccountClosed {
        account: receipt.key(),
        rent_recipient: ctx.accounts.payer.key(),
        lamports: receipt.to_account_info().lamports(),
    });
    Ok(())
}
