use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_QUOTE_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::BuybackInitialized;
use crate::state::{Buyback, BuybackMetrics, BuybackParams, Config, RevenueTotals};

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct InitializeBuybackArgs {
    pub params: BuybackParams,
    pub council: Vec<Pubkey>,
}

/// Create the buy-order treasury for a quote stablecoin and its quote vault.
#[derive(Accounts)]
pub struct InitializeBuyback<'info> {
    #[account(mut, constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(init, payer = admin, space = 8 + Buyback::INIT_SPACE, seeds = [SEED_BUYBACK], bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    /// Regulated stablecoins keep a freeze authority, so unlike the token mint
    /// one is accepted here; that risk is the issuer's.
    pub quote_mint: Box<Account<'info, Mint>>,

    #[account(
        init,
        payer = admin,
        seeds = [SEED_QUOTE_VAULT],
        bump,
        token::mint = quote_mint,
        token::authority = config,
    )]
    pub quote_vault: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<InitializeBuyback>, args: InitializeBuybackArgs) -> Result<()> {
    args.params.validate(&args.council)?;
    let quote_mint = ctx.accounts.quote_mint.key();
    let quote_vault = ctx.accounts.quote_vault.key();
    ctx.accounts.buyback.set_inner(Buyback {
        quote_mint,
        quote_decimals: ctx.accounts.quote_mint.decimals,
        quote_vault,
        params: args.params,
        council: args.council.clone(),
        last_batch_seq: 0,
        revenue: RevenueTotals::default(),
        metrics: BuybackMetrics::default(),
        spend_day: 0,
        spent_today: 0,
        withdraw_day: 0,
        withdrawn_today: 0,
        last_token_publish_time: 0,
        last_fx_publish_time: 0,
        next_order_id: 1,
        next_proposal_id: 1,
        proposals_stale_through: 0,
        bump: ctx.bumps.buyback,
        quote_vault_bump: ctx.bumps.quote_vault,
    });
    emit_event!(BuybackInitialized {
        quote_mint,
        quote_vault,
        params: args.params,
        council: args.council,
    });
    Ok(())
}
