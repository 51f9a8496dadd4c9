use anchor_lang::prelude::*;
use anchor_spl::token::{self, Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_MINT_AUTHORITY};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::TokensMinted;
use crate::state::Config;

/// Admin-only minting, signed by the program's mint-authority PDA and capped
/// by `token_params.max_supply`.
#[derive(Accounts)]
pub struct MintTo<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Account<'info, Config>,

    #[account(
        mut,
        constraint = mint.mint_authority == Some(mint_authority.key()).into()
            @ Aistm7Error::MintAuthorityNotProgram,
    )]
    pub mint: Account<'info, Mint>,

    /// CHECK: PDA `[SEED_MINT_AUTHORITY]`, only signs.
    #[account(seeds = [SEED_MINT_AUTHORITY], bump = config.mint_authority_bump)]
    pub mint_authority: UncheckedAccount<'info>,

    /// The treasury vault or an account the program does not own: tokens
    /// minted into another vault (the lock vault) would be stranded there.
    #[account(
        mut,
        constraint = destination.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = destination.key() == config.treasury_vault || destination.owner != config.key()
            @ Aistm7Error::ProgramOwnedDestination,
    )]
    pub destination: Account<'info, TokenAccount>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<MintTo>, amount: u64) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    require!(amount > 0, Aistm7Error::ZeroAmount);
    let supply = ctx.accounts.mint.supply.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    require!(
        supply <= ctx.accounts.config.token_params.max_supply,
        Aistm7Error::MaxSupplyExceeded
    );
    let bump = [ctx.accounts.config.mint_authority_bump];
    let seeds: &[&[u8]] = &[SEED_MINT_AUTHORITY, &bump];
    token::mint_to(
        CpiContext::new_with_signer(
            ctx.accounts.token_program.to_account_info(),
            token::MintTo {
                mint: ctx.accounts.mint.to_account_info(),
                to: ctx.accounts.destination.to_account_info(),
                authority: ctx.accounts.mint_authority.to_account_info(),
            },
            &[seeds],
        ),
        amount,
    )?;

    emit_event!(TokensMinted {
        destination: ctx.accounts.destination.key(),
        amount,
        supply,
    });
    Ok(())
}
