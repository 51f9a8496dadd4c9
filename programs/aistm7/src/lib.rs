#![deny(arithmetic_overflow)]
#![allow(unexpected_cfgs)]
// Every instruction module exports a `handler`; lib.rs calls them by path.
#![allow(ambiguous_glob_reexports)]

use anchor_lang::prelude::*;

pub mod buyback_pricing;
pub mod constants;
pub mod errors;
pub mod events;
pub mod instructions;
pub mod math;
pub mod oracle;
pub mod state;
pub mod vault;

pub use instructions::*;
use state::{AccessResult, BatchCommitment, ProposalAction};

declare_id!("666imxNugJ7XZpnhx46AUV4VTTFaitYTep6MwV7XYySM");

#[program]
pub mod aistm7 {
    use super::*;

    pub fn initialize(ctx: Context<Initialize>, args: InitializeArgs) -> Result<()> {
        admin::initialize::handler(ctx, args)
    }

    pub fn set_authorities(ctx: Context<SetAuthorities>, args: SetAuthoritiesArgs) -> Result<()> {
        admin::set_authorities::handler(ctx, args)
    }

    pub fn set_requirement_params(ctx: Context<SetRequirementParams>, args: SetRequirementParamsArgs) -> Result<()> {
        admin::set_requirement_params::handler(ctx, args)
    }

    pub fn set_oracle_params(ctx: Context<SetOracleParams>, args: SetOracleParamsArgs) -> Result<()> {
        admin::set_oracle_params::handler(ctx, args)
    }

    pub fn set_requirement_override(
        ctx: Context<SetRequirementOverride>,
        args: SetRequirementOverrideArgs,
    ) -> Result<()> {
        admin::set_requirement_override::handler(ctx, args)
    }

    pub fn set_paused(ctx: Context<SetPaused>, paused: bool) -> Result<()> {
        guardian::set_paused::handler(ctx, paused)
    }

    pub fn set_guardian(ctx: Context<SetGuardian>, new_guardian: Pubkey) -> Result<()> {
        guardian::set_guardian::handler(ctx, new_guardian)
    }

    pub fn reset_circuit_breaker(ctx: Context<ResetCircuitBreaker>) -> Result<()> {
        guardian::reset_circuit_breaker::handler(ctx)
    }

    pub fn refresh_requirement(ctx: Context<RefreshRequirement>) -> Result<()> {
        crank::refresh_requirement::handler(ctx)
    }

    pub fn verify_access(ctx: Context<VerifyAccess>) -> Result<AccessResult> {
        user::verify_access::handler(ctx)
    }

    pub fn lock_tokens(ctx: Context<LockTokens>, amount: u64) -> Result<()> {
        user::lock_tokens::handler(ctx, amount)
    }

    pub fn request_unlock(ctx: Context<RequestUnlock>, amount: u64) -> Result<()> {
        user::request_unlock::handler(ctx, amount)
    }

    pub fn withdraw_unlocked(ctx: Context<WithdrawUnlocked>) -> Result<()> {
        user::withdraw_unlocked::handler(ctx)
    }

    pub fn deposit_treasury(ctx: Context<DepositTreasury>, amount: u64) -> Result<u64> {
        user::deposit_treasury::handler(ctx, amount)
    }

    pub fn set_token_params(ctx: Context<SetTokenParams>, args: SetTokenParamsArgs) -> Result<()> {
        admin::set_token_params::handler(ctx, args)
    }

    pub fn mint_to(ctx: Context<MintTo>, amount: u64) -> Result<()> {
        admin::mint_to::handler(ctx, amount)
    }

    pub fn fund_rewards(ctx: Context<FundRewards>, amount: u64) -> Result<()> {
        admin::fund_rewards::handler(ctx, amount)
    }

    pub fn initialize_fee_schedule(ctx: Context<InitializeFeeSchedule>) -> Result<()> {
        admin::initialize_fee_schedule::handler(ctx)
    }

    pub fn set_service_fee(ctx: Context<SetServiceFee>, args: SetServiceFeeArgs) -> Result<()> {
        admin::set_service_fee::handler(ctx, args)
    }

    pub fn pay_service_fee(ctx: Context<PayServiceFee>, service: String) -> Result<()> {
        user::pay_service_fee::handler(ctx, service)
    }

    pub fn charge_service_fee(
        ctx: Context<ChargeServiceFee>,
        service: String,
        request_id: [u8; 32],
    ) -> Result<()> {
        collector::charge_service_fee::handler(ctx, service, request_id)
    }

    pub fn distribute_reward(ctx: Context<DistributeReward>, reward_type: u8, amount: u64) -> Result<()> {
        rewarder::distribute_reward::handler(ctx, reward_type, amount)
    }

    pub fn connect_wallet(ctx: Context<ConnectWallet>, user_ref: [u8; 32]) -> Result<()> {
        user::connect_wallet::handler(ctx, user_ref)
    }

    pub fn disconnect_wallet(ctx: Context<DisconnectWallet>) -> Result<()> {
        user::disconnect_wallet::handler(ctx)
    }

    pub fn initialize_buyback(ctx: Context<InitializeBuyback>, args: InitializeBuybackArgs) -> Result<()> {
        admin::initialize_buyback::handler(ctx, args)
    }

    pub fn report_revenue(ctx: Context<ReportRevenue>, batch_seq: u64, batch: BatchCommitment) -> Result<()> {
        keeper::report_revenue::handler(ctx, batch_seq, batch)
    }

    pub fn execute_buy_order(ctx: Context<ExecuteBuyOrder>) -> Result<()> {
        keeper::execute_buy_order::handler(ctx)
    }

    pub fn fill_buy_order(ctx: Context<FillBuyOrder>, amount: u64) -> Result<()> {
        user::fill_buy_order::handler(ctx, amount)
    }

    pub fn close_expired_buy_order(ctx: Context<CloseExpiredBuyOrder>) -> Result<()> {
        crank::close_expired_buy_order::handler(ctx)
    }

    pub fn cancel_buy_order(ctx: Context<CancelBuyOrder>) -> Result<()> {
        admin::cancel_buy_order::handler(ctx)
    }

    pub fn withdraw_quote(ctx: Context<WithdrawQuote>, amount: u64) -> Result<()> {
        admin::withdraw_quote::handler(ctx, amount)
    }

    pub fn create_proposal(ctx: Context<CreateProposal>, action: ProposalAction) -> Result<()> {
        council::create_proposal::handler(ctx, action)
    }

    pub fn approve_proposal(ctx: Context<ApproveProposal>) -> Result<()> {
        council::approve_proposal::handler(ctx)
    }

    pub fn execute_proposal(ctx: Context<ExecuteProposal>) -> Result<()> {
        crank::execute_proposal::handler(ctx)
    }

    pub fn cancel_proposal(ctx: Context<CancelProposal>) -> Result<()> {
        guardian::cancel_proposal::handler(ctx)
    }

    pub fn close_proposal(ctx: Context<CloseProposal>) -> Result<()> {
        crank::close_proposal::handler(ctx)
    }

    pub fn close_buy_order(ctx: Context<CloseBuyOrder>) -> Result<()> {
        crank::close_buy_order::handler(ctx)
    }

    pub fn close_charge_receipt(ctx: Context<CloseChargeReceipt>) -> Result<()> {
        crank::close_charge_receipt::handler(ctx)
    }
}
