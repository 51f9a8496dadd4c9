use anchor_lang::prelude::*;
use anchor_spl::token::{Mint, Token, TokenAccount};

use crate::constants::{SEED_CONFIG, SEED_REWARD_VAULT};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::RewardPaid;
use crate::state::Config;
use crate::vault::transfer_from_vault;

/// The rewarder pays `amount` from the reward vault, within the daily cap.
#[derive(Accounts)]
pub struct DistributeReward<'info> {
    #[account(constraint = rewarder.key() == config.authorities.rewarder @ Aistm7Error::Unauthorized)]
    pub rewarder: Signer<'info>,

    #[account(mut, seeds = [SEED_CONFIG], bump = config.bump, has_one = mint @ Aistm7Error::WrongMint)]
    pub config: Box<Account<'info, Config>>,

    pub mint: Box<Account<'info, Mint>>,

    #[account(mut, seeds = [SEED_REWARD_VAULT, mint.key().as_ref()], bump = config.reward_vault_bump)]
    pub reward_vault: Box<Account<'info, TokenAccount>>,

    #[account(
        mut,
        constraint = recipient_token.mint == mint.key() @ Aistm7Error::WrongMint,
        constraint = recipient_token.owner != config.key() @ Aistm7Error::ProgramOwnedDestination,
    )]
    pub recipient_token: Box<Account<'info, TokenAccount>>,

    pub token_program: Program<'info, Token>,
}

pub fn handler(ctx: Context<DistributeReward>, reward_type: u8, amount: u64) -> Result<()> {
    let config = &mut ctx.accounts.config;
    config.require_not_paused()?;
    require!(amount > 0, Aistm7Error::ZeroAmount);
    require!(
        ctx.accounts.reward_vault.amount >= amount,
        Aistm7Error::RewardVaultInsufficient
    );
    let now = Clock::get()?.unix_timestamp;
    let cap = config.token_params.reward_daily_cap;
    config.rewards.record(amount, now, cap)?;

    let accounts = &ctx.accounts;
    transfer_from_vault(
        &accounts.token_program.to_account_info(),
        &accounts.reward_vault.to_account_info(),
        &accounts.mint.to_account_info(),
        &accounts.recipient_token.to_account_info(),
        &accounts.config.to_account_info(),
        accounts.config.bump,
        amount,
        accounts.mint.decimals,
    )?;

    emit_event!(RewardPaid {
        recipient: accounts.recipient_token.owner,
        reward_type,
        amount,
        paid_today: accounts.config.rewards.paid_today,
    });
    Ok(())
}
