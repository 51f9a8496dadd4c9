//! A lived-in deployment: every record an instruction can act on exists and
//! is due (an unlock past its cooldown, an approved proposal past its
//! time-lock, settled records past retention...), so each instruction of the
//! program can be sent with valid accounts. Tables of attacks run over it.

use aistm7::{
    accounts,
    constants::{SEED_FEE_DELEGATE, SEED_LINK, SEED_QUOTE_VAULT},
    instruction,
    state::ProposalAction,
    SetRequirementParamsArgs, SetTokenParamsArgs,
};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::buyback_env::*;
use crate::*;

/// One instruction ready to send, with the keys that must sign it.
pub struct Case {
    pub name: &'static str,
    pub instruction: Instruction,
    pub signers: Vec<Keypair>,
}

impl Case {
    fn new(name: &'static str, instruction: Instruction, signers: &[&Keypair]) -> Self {
        Case { name, instruction, signers: signers.iter().map(|k| k.insecure_clone()).collect() }
    }

    pub async fn send(&self, env: &mut Env) -> Result<Vec<String>, solana_transaction_error::TransactionError> {
        let signers: Vec<&Keypair> = self.signers.iter().collect();
        env.send(&[self.instruction.clone()], &signers).await
    }
}

pub struct World {
    pub t: Treasury,
    /// Admin, guardian, keeper, fee collector, rewarder.
    pub roles: [Keypair; 5],
    /// A wallet with 1,000 tokens: 150 locked, 50 unlocking past the
    /// cooldown, a fee allowance, a wallet link and one charged request.
    pub wallet: Keypair,
    pub wallet_token: Pubkey,
    pub wallet_quote: Pubkey,
    pub admin_token: Pubkey,
    /// Not linked yet.
    pub newcomer: Keypair,
    /// Quote account of a stranger, the destination of every proposal.
    pub destination: Pubkey,
    /// Approved and past its time-lock; cancelled and past retention; pending.
    pub approved: u64,
    pub cancelled: u64,
    pub pending: u64,
}

/// Order 1 pending but expired, order 2 cancelled and past retention.
pub const EXPIRED_ORDER: u64 = 1;
pub const SETTLED_ORDER: u64 = 2;
pub const CHARGED_REQUEST: [u8; 32] = [1; 32];

pub async fn world() -> World {
    let mut t = treasury().await;
    let roles = [0, 1, 2, 3, 4].map(|i| t.keys[i].insecure_clone());
    let [admin, guardian, _, collector, _] = &roles;
    let (mint, quote_mint) = (t.mint, t.quote_mint);
    t.env.fund(&collector.pubkey(), 1_000_000_000).await;
    t.env.send(&[init_fee_schedule_ix(&admin.pubkey())], &[admin]).await.unwrap();
    t.env.send(&[set_fee_ix(&admin.pubkey(), new_service("search", 10_000_000))], &[admin]).await.unwrap();

    let (wallet, wallet_token) = t.env.wallet_with_lock(&mint, 1_000 * TOKEN, 200 * TOKEN).await;
    let w = wallet.pubkey();
    let wallet_quote = t.env.create_token_account(&quote_mint, &w, 0).await;
    t.env.send(&[request_unlock_ix(&w, 50 * TOKEN)], &[&wallet]).await.unwrap();
    let allowance =
        spl_token::instruction::approve(&spl_token::ID, &wallet_token, &pda(&[SEED_FEE_DELEGATE]), &w, &[], 100 * TOKEN).unwrap();
    t.env.send(&[allowance, link_ix(&w, [7; 32])], &[&wallet]).await.unwrap();
    let charge = charge_ix(&collector.pubkey(), &mint, &wallet_token, "search", CHARGED_REQUEST);
    t.env.send(&[charge], &[collector]).await.unwrap();
    let admin_token = t.env.create_token_account(&mint, &admin.pubkey(), 100 * TOKEN).await;
    let newcomer = Keypair::new();
    t.env.fund(&newcomer.pubkey(), 1_000_000_000).await;

    for _ in 0..2 {
        t.report(100_000 * ZAR).await;
        t.execute().await.unwrap();
    }
    t.env.send(&[t.cancel_order_ix(&admin.pubkey(), SETTLED_ORDER)], &[admin]).await.unwrap();
    let destination = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let action = ProposalAction::Withdraw { vault: pda(&[SEED_QUOTE_VAULT]), destination, amount: 1_000 };
    let approved = t.propose_and_approve(action.clone(), Some(destination), 2).await;
    let cancelled = t.propose_and_approve(action.clone(), Some(destination), 0).await;
    t.env.send(&[cancel_proposal_ix(&guardian.pubkey(), cancelled)], &[guardian]).await.unwrap();
    let pending = t.propose_and_approve(action, Some(destination), 1).await;

    t.env.hand_mint_authority_to_program(&mint).await;
    // Past the unlock cooldown, the time-lock, the orders' expiry and the retention.
    t.env.advance_time(8 * 86_400).await;

    World { t, roles, wallet, wallet_token, wallet_quote, admin_token, newcomer, destination, approved, cancelled, pending }
}

impl World {
    /// Every instruction that moves value or changes user state.
    pub async fn value_moving_cases(&mut self) -> Vec<Case> {
        let [admin, _, keeper, collector, rewarder] = &self.roles;
        let t = &mut self.t;
        let (mint, quote_mint) = (t.mint, t.quote_mint);
        let (w, own, dest) = (self.wallet.pubkey(), self.wallet_token, self.destination);
        let wallet = &self.wallet;
        let execute = t.execute_ix().await;
        let revenue = commitment(0, 0, ZAR, 1);
        vec![
            Case::new("refresh_requirement", refresh_ix(&t.token_feed.pubkey(), Some(t.fx_feed.pubkey())), &[]),
            Case::new("verify_access", verify_access_ix(&w), &[]),
            Case::new("lock_tokens", lock_tokens_ix(&w, &mint, &own, TOKEN), &[wallet]),
            Case::new("request_unlock", request_unlock_ix(&w, TOKEN), &[wallet]),
            Case::new("withdraw_unlocked", withdraw_unlocked_ix(&w, &mint, &own), &[wallet]),
            Case::new("deposit_treasury", deposit_ix(&w, &mint, &own, TOKEN), &[wallet]),
            Case::new("pay_service_fee", pay_ix(&w, &mint, &own, "search"), &[wallet]),
            Case::new("charge_service_fee", charge_ix(&collector.pubkey(), &mint, &own, "search", [2; 32]), &[collector]),
            Case::new("close_charge_receipt", close_charge_receipt_ix(CHARGED_REQUEST, &collector.pubkey()), &[]),
            Case::new("connect_wallet", link_ix(&self.newcomer.pubkey(), [8; 32]), &[&self.newcomer]),
            Case::new("disconnect_wallet", unlink_ix(&w, &pda(&[SEED_LINK, w.as_ref()])), &[wallet]),
            Case::new("mint_to", mint_to_ix(&admin.pubkey(), &mint, &self.admin_token, TOKEN), &[admin]),
            Case::new("fund_rewards", fund_rewards_ix(&admin.pubkey(), &mint, &self.admin_token, TOKEN), &[admin]),
            Case::new("distribute_reward", reward_ix(&rewarder.pubkey(), &mint, &own, TOKEN), &[rewarder]),
            Case::new("report_revenue", t.report_ix(&keeper.pubkey(), t.next_batch, revenue), &[keeper]),
            Case::new("execute_buy_order", execute, &[keeper]),
            Case::new("fill_buy_order", t.fill_ix(&w, EXPIRED_ORDER, &own, &self.wallet_quote, TOKEN), &[wallet]),
            Case::new("close_expired_buy_order", t.close_ix(EXPIRED_ORDER), &[]),
            Case::new("close_buy_order", t.close_order_ix(SETTLED_ORDER, &keeper.pubkey()), &[]),
            Case::new("withdraw_quote", withdraw_quote_ix(&admin.pubkey(), quote_mint, dest, 1), &[admin]),
            Case::new(
                "execute_proposal",
                execute_withdraw_ix(self.approved, pda(&[SEED_QUOTE_VAULT]), quote_mint, dest),
                &[],
            ),
            Case::new("close_proposal", close_proposal_ix(self.cancelled, &admin.pubkey()), &[]),
        ]
    }

    /// What still works while paused: the admin's configuration, the refund
    /// of an order's budget to the treasury, and council governance.
    pub fn exempt_cases(&self) -> Vec<Case> {
        let admin = &self.roles[0];
        let member = self.t.council[1].insecure_clone();
        let action = ProposalAction::SetGuardian { guardian: Keypair::new().pubkey() };
        vec![
            Case::new("create_proposal", create_proposal_ix(&admin.pubkey(), self.pending + 1, action, None), &[admin]),
            Case::new("approve_proposal", approve_proposal_ix(&member.pubkey(), self.pending), &[&member]),
            Case::new(
                "set_requirement_params",
                ix(
                    aistm7::ID,
                    accounts::SetRequirementParams { admin: admin.pubkey(), config: config_pda() },
                    instruction::SetRequirementParams {
                        args: SetRequirementParamsArgs { min_update_interval_secs: Some(120), ..Default::default() },
                    },
                ),
                &[admin],
            ),
            Case::new(
                "set_token_params",
                ix(
                    aistm7::ID,
                    accounts::SetTokenParams { admin: admin.pubkey(), config: config_pda() },
                    instruction::SetTokenParams {
                        args: SetTokenParamsArgs { reward_daily_cap: Some(TOKEN), ..Default::default() },
                    },
                ),
                &[admin],
            ),
            Case::new("set_service_fee", set_fee_ix(&admin.pubkey(), new_service("goal", 100_000_000)), &[admin]),
            Case::new("cancel_buy_order", self.t.cancel_order_ix(&admin.pubkey(), EXPIRED_ORDER), &[admin]),
        ]
    }
}
