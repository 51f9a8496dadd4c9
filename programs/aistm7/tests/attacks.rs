//! Attacks on the program's promises, one test each, named after the attack.
//! Each performs the attack and asserts it is refused with a named error, or
//! that its outcome is neutral.

use aistm7::{
    accounts,
    constants::{
        SEED_BUYBACK_VAULT, SEED_CHARGE, SEED_FEE_DELEGATE, SEED_LINK, SEED_LOCK_VAULT, SEED_QUOTE_VAULT,
        SEED_TREASURY,
    },
    errors::Aistm7Error,
    events::{AccountClosed, BuyOrderFilled, EscrowSwept, CircuitBreakerTripped, CouncilChanged, VaultWithdrawn},
    instruction,
    state::{BuybackParams, Config, Proposal, ProposalAction, RequirementState},
    SetAuthoritiesArgs, SetTokenParamsArgs,
};
use aistm7_tests::buyback_env::*;
use aistm7_tests::world::world;
use aistm7_tests::*;
use anchor_lang::{
    prelude::Pubkey,
    solana_program::instruction::{error::InstructionError, Instruction},
};
use mock_pyth::WritePriceArgs;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

const LIMIT: u64 = 1_000_000_000; // params().direct_withdraw_limit

fn quote_vault() -> Pubkey {
    pda(&[SEED_QUOTE_VAULT])
}

/// Write `price` on both feeds, at `now`, into fresh accounts; returns them.
async fn both_feeds(env: &mut Env, primary: i64, backup: i64) -> (Keypair, Keypair) {
    let (p, b) = (Keypair::new(), Keypair::new());
    let now = env.clock().await.unix_timestamp;
    env.write_price(&p, price_args(PRIMARY_FEED, primary, now)).await;
    env.write_price(&b, price_args(BACKUP_FEED, backup, now)).await;
    (p, b)
}

/// Initialized and priced at $0.15 (100 tokens required) from agreeing feeds.
async fn priced() -> Initialized {
    let mut init = initialized().await;
    let (p, b) = both_feeds(&mut init.env, 15_000_000, 15_000_000).await;
    init.env.send(&[refresh_ix(&p.pubkey(), Some(b.pubkey()))], &[]).await.expect("price");
    init
}

async fn requirement(env: &mut Env) -> RequirementState {
    env.account::<Config>(&config_pda()).await.unwrap().requirement
}

// 1. The council and time-lock bypassed by splitting withdrawals.

#[tokio::test]
async fn split_direct_withdrawals_cannot_bypass_the_council() {
    let mut t = treasury().await;
    let admin = t.keys[0].insecure_clone();
    let quote_mint = t.quote_mint;
    let dest = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let withdraw = |amount: u64| withdraw_quote_ix(&admin.pubkey(), quote_mint, dest, amount);

    // Ten withdrawals at the limit in one transaction: the second is refused, nothing moves.
    let ten: Vec<Instruction> = (0..10).map(|_| withdraw(LIMIT)).collect();
    let result = t.env.send(&ten, &[&admin]).await;
    assert_custom_error(result, Aistm7Error::DirectWithdrawLimitExceeded.into());
    assert_eq!(t.env.token_balance(&dest).await, 0);
    // Small withdrawals in separate transactions share the same daily budget.
    t.env.send(&[withdraw(600_000_000)], &[&admin]).await.unwrap();
    t.env.send(&[withdraw(400_000_000)], &[&admin]).await.unwrap();
    assert_custom_error(t.env.send(&[withdraw(1)], &[&admin]).await, Aistm7Error::DirectWithdrawLimitExceeded.into());
    assert_eq!(t.buyback().await.withdrawn_today, LIMIT);
    // The next UTC day has a new budget.
    t.env.advance_time(86_400).await;
    let logs = t.env.send(&[withdraw(LIMIT)], &[&admin]).await.unwrap();
    assert_eq!(events::<VaultWithdrawn>(&logs)[0].withdrawn_today, LIMIT);
    assert_eq!(t.env.token_balance(&dest).await, 2 * LIMIT);
}

// 2. The caller deciding whether the circuit breaker is consulted.

#[tokio::test]
async fn omitting_the_backup_feed_cannot_skip_the_circuit_breaker() {
    let Initialized { mut env, .. } = initialized().await;
    let (primary, backup) = both_feeds(&mut env, 15_000_000, 19_500_000).await; // 30% apart

    let result = env.send(&[refresh_ix(&primary.pubkey(), None)], &[]).await;
    assert_custom_error(result, Aistm7Error::MissingBackupPrice.into());
    assert_eq!(requirement(&mut env).await, RequirementState::UNPRICED);

    let logs = env.send(&[refresh_ix(&primary.pubkey(), Some(backup.pubkey()))], &[]).await.unwrap();
    assert_eq!(events::<CircuitBreakerTripped>(&logs)[0].divergence_bps, 3_000);
    let state = requirement(&mut env).await;
    assert!(state.breaker_tripped);
    assert_eq!(state.required, 0);
}

#[tokio::test]
async fn the_backup_in_the_primary_slot_cannot_price_alone() {
    let Initialized { mut env, .. } = initialized().await;
    let (primary, backup) = both_feeds(&mut env, 15_000_000, 19_500_000).await;
    let (p, b) = (primary.pubkey(), backup.pubkey());

    assert_custom_error(env.send(&[refresh_ix(&b, None)], &[]).await, Aistm7Error::MissingBackupPrice.into());
    assert_custom_error(env.send(&[refresh_ix(&b, Some(b))], &[]).await, Aistm7Error::DuplicatePriceAccount.into());
    assert_custom_error(env.send(&[refresh_ix(&p, Some(p))], &[]).await, Aistm7Error::DuplicatePriceAccount.into());
    assert_custom_error(env.send(&[refresh_ix(&b, Some(p))], &[]).await, Aistm7Error::WrongFeedId.into());
    assert_eq!(requirement(&mut env).await, RequirementState::UNPRICED);
}

#[tokio::test]
async fn an_unverified_or_foreign_backup_is_an_error_not_a_skip() {
    let Initialized { mut env, .. } = initialized().await;
    let (primary, backup) = both_feeds(&mut env, 15_000_000, 19_500_000).await;
    let now = env.clock().await.unix_timestamp;
    let partial = WritePriceArgs { partial_signatures: Some(3), ..price_args(BACKUP_FEED, 19_500_000, now) };
    env.write_price(&backup, partial).await;
    let p = primary.pubkey();

    let result = env.send(&[refresh_ix(&p, Some(backup.pubkey()))], &[]).await;
    assert_custom_error(result, Aistm7Error::PartialVerification.into());
    let wallet = env.payer().pubkey();
    assert_custom_error(env.send(&[refresh_ix(&p, Some(wallet))], &[]).await, Aistm7Error::WrongPriceOwner.into());
    assert_eq!(requirement(&mut env).await, RequirementState::UNPRICED);

    // A stale backup is a quality failure: the primary prices alone.
    let stale = WritePriceArgs { publish_time: now - 600, ..price_args(BACKUP_FEED, 19_500_000, now) };
    env.write_price(&backup, stale).await;
    env.send(&[refresh_ix(&p, Some(backup.pubkey()))], &[]).await.expect("primary alone");
    assert_eq!(requirement(&mut env).await.required, 100 * TOKEN);
}

// 3. One balance backing any number of access passes.

#[tokio::test]
async fn a_transfer_verify_chain_yields_one_pass() {
    let Initialized { mut env, mint, .. } = priced().await;
    let (a, a_token) = env.wallet_with_lock(&mint, 100 * TOKEN, 100 * TOKEN).await;
    let (b, b_token) = env.wallet_with_lock(&mint, 0, 0).await;
    let (free, _) = env.wallet_with_lock(&mint, 10_000 * TOKEN, 0).await;

    // Verify A, move A's tokens to B, verify B, in one transaction.
    let chain = [
        verify_access_ix(&a.pubkey()),
        request_unlock_ix(&a.pubkey(), 100 * TOKEN),
        withdraw_unlocked_ix(&a.pubkey(), &mint, &a_token),
        spl_token::instruction::transfer(&spl_token::ID, &a_token, &b_token, &a.pubkey(), &[], 100 * TOKEN).unwrap(),
        lock_tokens_ix(&b.pubkey(), &mint, &b_token, 100 * TOKEN),
        verify_access_ix(&b.pubkey()),
    ];
    let result = env.send(&chain, &[&a, &b]).await;
    assert_custom_error(result, Aistm7Error::UnlockCooldownActive.into());

    // One pass: A's. Neither B nor a large free balance is a pass.
    env.send(&[verify_access_ix(&a.pubkey())], &[]).await.expect("A's locked tokens");
    assert_custom_error(env.send(&[verify_access_ix(&b.pubkey())], &[]).await, Aistm7Error::InsufficientBalance.into());
    assert_custom_error(env.send(&[verify_access_ix(&free.pubkey())], &[]).await, Aistm7Error::InsufficientBalance.into());
    // Once A unlocks, A's tokens stop counting at once: still one pass at most.
    env.send(&[request_unlock_ix(&a.pubkey(), 100 * TOKEN)], &[&a]).await.unwrap();
    assert_custom_error(env.send(&[verify_access_ix(&a.pubkey())], &[]).await, Aistm7Error::InsufficientBalance.into());
}

#[tokio::test]
async fn a_borrow_verify_repay_in_one_transaction_yields_no_pass() {
    let Initialized { mut env, mint, .. } = priced().await;
    let (lender, lender_token) = env.wallet_with_lock(&mint, 100 * TOKEN, 0).await;
    let (borrower, borrower_token) = env.wallet_with_lock(&mint, 0, 0).await;

    let flash = [
        spl_token::instruction::transfer(&spl_token::ID, &lender_token, &borrower_token, &lender.pubkey(), &[], 100 * TOKEN).unwrap(),
        lock_tokens_ix(&borrower.pubkey(), &mint, &borrower_token, 100 * TOKEN),
        verify_access_ix(&borrower.pubkey()),
        spl_token::instruction::transfer(&spl_token::ID, &borrower_token, &lender_token, &borrower.pubkey(), &[], 100 * TOKEN).unwrap(),
    ];
    let result = env.send(&flash, &[&lender, &borrower]).await;

    // The repayment fails (the tokens are locked), so the whole loan unwinds.
    assert!(matches!(result, Err(TransactionError::InstructionError(3, _))), "{result:?}");
    assert!(env.raw_account(&lock_pda(&borrower.pubkey())).await.is_none());
    assert_eq!(env.token_balance(&lender_token).await, 100 * TOKEN);
    let result = env.send(&[verify_access_ix(&borrower.pubkey())], &[]).await;
    assert_custom_error(result, Aistm7Error::InsufficientBalance.into());
}

// 4. The pause not stopping value moving: a table over every instruction.

#[tokio::test]
async fn the_pause_stops_every_instruction_that_moves_value_or_user_state() {
    let mut w = world().await;
    let guardian = w.roles[1].insecure_clone();
    let cases = w.value_moving_cases().await;
    let env = &mut w.t.env;
    env.send(&[set_paused_ix(&guardian.pubkey(), true)], &[&guardian]).await.unwrap();
    for case in &cases {
        assert_eq!(case.send(env).await, Err(paused_at_first()), "{} while paused", case.name);
    }

    // Exempt: the guardian's stops, the admin's configuration, the refund of
    // an order's budget to the treasury and council governance.
    for case in w.exempt_cases() {
        case.send(&mut w.t.env).await.unwrap_or_else(|e| panic!("{} while paused: {e:?}", case.name));
    }
    let env = &mut w.t.env;
    env.send(&[cancel_proposal_ix(&guardian.pubkey(), w.pending)], &[&guardian]).await.expect("cancel while paused");
    let reset = ix(aistm7::ID, accounts::ResetCircuitBreaker { guardian: guardian.pubkey(), config: config_pda() }, instruction::ResetCircuitBreaker {});
    assert_custom_error(env.send(&[reset], &[&guardian]).await, Aistm7Error::CircuitBreakerNotTripped.into());

    // Unpaused, none of them fails with `Paused` any more.
    env.send(&[set_paused_ix(&guardian.pubkey(), false)], &[&guardian]).await.unwrap();
    for case in &cases {
        assert_ne!(case.send(env).await, Err(paused_at_first()), "{} after unpause", case.name);
    }
}

/// The first instruction failed with `Paused`.
fn paused_at_first() -> TransactionError {
    TransactionError::InstructionError(0, InstructionError::Custom(Aistm7Error::Paused.into()))
}

// 5. A tripped breaker not stopping buy-orders.

#[tokio::test]
async fn a_tripped_breaker_stops_buy_orders_and_fills() {
    let mut t = treasury().await;
    t.report(200_000 * ZAR).await;
    t.execute().await.unwrap();
    let backup = Keypair::new();
    let now = t.env.clock().await.unix_timestamp;
    t.env.write_price(&backup, price_args(BACKUP_FEED, 19_500_000, now)).await;
    let trip = refresh_ix(&t.token_feed.pubkey(), Some(backup.pubkey()));
    t.env.send(&[trip], &[]).await.unwrap();
    assert!(requirement(&mut t.env).await.breaker_tripped);
    let (seller, seller_token, seller_quote) = t.seller(100 * TOKEN).await;

    assert_custom_error(t.execute().await, Aistm7Error::CircuitBreakerTripped.into());
    let fill = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN);
    assert_custom_error(t.env.send(&[fill], &[&seller]).await, Aistm7Error::CircuitBreakerTripped.into());
    assert_eq!(t.env.token_balance(&seller_quote).await, 0);
}

// 6. A seller picking the best price of the last minute.

#[tokio::test]
async fn a_seller_cannot_go_back_to_an_older_price() {
    let mut t = treasury().await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let (seller, seller_token, seller_quote) = t.seller(1_000 * TOKEN).await;
    // An older update at a better price for the seller, still within the maximum age.
    let (older, newer) = (Keypair::new(), Keypair::new());
    let now = t.env.clock().await.unix_timestamp;
    t.env.write_price(&older, price_args(PRIMARY_FEED, 15_100_000, now)).await;
    t.env.advance_time(30).await;
    t.env.write_price(&newer, price_args(PRIMARY_FEED, 14_000_000, now + 30)).await;
    let fx = t.fx_feed.insecure_clone();
    t.env.write_price(&fx, price_args(USD_ZAR_FEED, 1_850_000_000, now + 30)).await;
    let mut fill_at_newer = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN);
    fill_at_newer.accounts[10].pubkey = newer.pubkey();
    let mut fill_at_older = fill_at_newer.clone();
    fill_at_older.accounts[10].pubkey = older.pubkey();

    t.env.send(&[fill_at_newer], &[&seller]).await.expect("the newest price");
    let result = t.env.send(&[fill_at_older], &[&seller]).await;
    assert_custom_error(result, Aistm7Error::PriceOlderThanLastUsed.into());
    assert_eq!(t.env.token_balance(&seller_quote).await, 14_000_000);
    assert_eq!(t.buyback().await.last_token_publish_time, now + 30);
}

#[tokio::test]
async fn fills_pay_the_treasurys_side_of_the_confidence_band() {
    let mut t = treasury_with(BuybackParams { quote_rate: aistm7::state::QuoteRate::FixedZar { quote_units_per_zar: 1_000_000 }, ..params() }).await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let (seller, seller_token, seller_quote) = t.seller(1_000 * TOKEN).await;
    let now = t.env.clock().await.unix_timestamp;
    let (token_feed, fx_feed) = (t.token_feed.insecure_clone(), t.fx_feed.insecure_clone());
    // $0.15 +- 1% and 18.5 +- 1% ZAR per USD: the treasury pays 0.1485 * 18.315.
    t.env.write_price(&token_feed, WritePriceArgs { conf: 150_000, ..price_args(PRIMARY_FEED, 15_000_000, now) }).await;
    t.env.write_price(&fx_feed, WritePriceArgs { conf: 18_500_000, ..price_args(USD_ZAR_FEED, 1_850_000_000, now) }).await;

    let logs = t.env.send(&[t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN)], &[&seller]).await.unwrap();

    let filled = &events::<BuyOrderFilled>(&logs)[0];
    // 0.1485 * 18.315 = R2.7197775 per token, 6 decimals, rounded down.
    assert_eq!((filled.price, filled.quote_paid), (2_719_777, 271_977_700));
}

// 7. A program-owned account as the payout account.

#[tokio::test]
async fn an_escrow_or_vault_cannot_be_the_payout_account() {
    let mut t = treasury().await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let [admin, _, _, _, rewarder] = [0, 1, 2, 3, 4].map(|i| t.keys[i].insecure_clone());
    let seller = Keypair::new();
    let (mint, quote_mint) = (t.mint, t.quote_mint);
    let seller_token = t.env.create_token_account(&mint, &seller.pubkey(), 100 * TOKEN).await;

    let fill = t.fill_ix(&seller.pubkey(), 1, &seller_token, &escrow_pda(1), 100 * TOKEN);
    assert_custom_error(t.env.send(&[fill], &[&seller]).await, Aistm7Error::ProgramOwnedDestination.into());
    let withdraw = withdraw_quote_ix(&admin.pubkey(), quote_mint, escrow_pda(1), 1);
    assert_custom_error(t.env.send(&[withdraw], &[&admin]).await, Aistm7Error::ProgramOwnedDestination.into());
    let action = ProposalAction::Withdraw { vault: quote_vault(), destination: escrow_pda(1), amount: 1 };
    let propose = create_proposal_ix(&admin.pubkey(), 1, action, Some(escrow_pda(1)));
    assert_custom_error(t.env.send(&[propose], &[&admin]).await, Aistm7Error::ProgramOwnedDestination.into());
    let reward = reward_ix(&rewarder.pubkey(), &mint, &pda(&[SEED_TREASURY, mint.as_ref()]), 1);
    assert_custom_error(t.env.send(&[reward], &[&rewarder]).await, Aistm7Error::ProgramOwnedDestination.into());
    assert_eq!(t.env.token_balance(&escrow_pda(1)).await, 540_540_540);
}

// 8. The token treasury as a sink, and a supply cap that is not a cap.

#[tokio::test]
async fn treasury_tokens_leave_only_through_the_council() {
    let mut t = treasury_with(BuybackParams { burn_on_fill: false, ..params() }).await;
    let admin = t.keys[0].insecure_clone();
    let mint = t.mint;
    let treasury = pda(&[SEED_TREASURY, mint.as_ref()]);
    let buyback_vault = vault_pda(SEED_BUYBACK_VAULT, &mint);
    let payer = t.env.payer().pubkey();
    for vault in [treasury, buyback_vault] {
        let fund = spl_token::instruction::mint_to(&spl_token::ID, &mint, &vault, &payer, &[], 1_000 * TOKEN).unwrap();
        t.env.send(&[fund], &[]).await.unwrap();
    }
    let dest = t.env.create_token_account(&mint, &Keypair::new().pubkey(), 0).await;

    // The lock vault holds the wallets' tokens, not the program's: no proposal reaches it.
    let lock_vault = vault_pda(SEED_LOCK_VAULT, &mint);
    let steal = ProposalAction::Withdraw { vault: lock_vault, destination: dest, amount: 1 };
    let result = t.env.send(&[create_proposal_ix(&admin.pubkey(), 1, steal, Some(dest))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidWithdrawalVault.into());
    // The quote vault's mint does not match a token destination.
    let wrong_mint = ProposalAction::Withdraw { vault: quote_vault(), destination: dest, amount: 1 };
    let result = t.env.send(&[create_proposal_ix(&admin.pubkey(), 1, wrong_mint, Some(dest))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::WrongMint.into());

    for (vault, amount) in [(treasury, 300 * TOKEN), (buyback_vault, 200 * TOKEN)] {
        let action = ProposalAction::Withdraw { vault, destination: dest, amount };
        let id = t.propose_and_approve(action, Some(dest), 2).await;
        let execute = execute_withdraw_ix(id, vault, mint, dest);
        assert_custom_error(t.env.send(&[execute.clone()], &[]).await, Aistm7Error::TimelockNotElapsed.into());
        t.env.advance_time(172_800).await;
        // Another vault than the proposal names is refused.
        let swapped = execute_withdraw_ix(id, lock_vault, mint, dest);
        assert_custom_error(t.env.send(&[swapped], &[]).await, Aistm7Error::MissingProposalAccount.into());
        let logs = t.env.send(&[execute], &[]).await.unwrap();
        assert_eq!(events::<VaultWithdrawn>(&logs)[0].proposal, Some(id));
    }
    assert_eq!(t.env.token_balance(&dest).await, 500 * TOKEN);
    assert_eq!(t.env.token_balance(&treasury).await, 700 * TOKEN);
    assert_eq!(t.env.token_balance(&buyback_vault).await, 800 * TOKEN);
}

#[tokio::test]
async fn the_admin_cannot_raise_the_max_supply() {
    let mut t = treasury().await;
    let admin = t.keys[0].insecure_clone();
    let max = default_token_params().max_supply;
    let set = |max_supply: u64| {
        ix(
            aistm7::ID,
            accounts::SetTokenParams { admin: admin.pubkey(), config: config_pda() },
            instruction::SetTokenParams { args: SetTokenParamsArgs { max_supply: Some(max_supply), ..Default::default() } },
        )
    };
    let max_supply = |c: Config| c.token_params.max_supply;

    assert_custom_error(t.env.send(&[set(max + 1)], &[&admin]).await, Aistm7Error::MaxSupplyRaiseNeedsCouncil.into());
    t.env.send(&[set(max - 1)], &[&admin]).await.expect("lowering is the admin's");
    assert_eq!(max_supply(t.env.account(&config_pda()).await.unwrap()), max - 1);

    let id = t.propose_and_approve(ProposalAction::SetMaxSupply { max_supply: 2 * max }, None, 2).await;
    t.env.advance_time(172_800).await;
    t.env.send(&[execute_proposal_ix(id)], &[]).await.expect("the council raises it");
    assert_eq!(max_supply(t.env.account(&config_pda()).await.unwrap()), 2 * max);
}

// 9. The time-lock starting at the proposal.

#[tokio::test]
async fn quorum_and_payout_cannot_land_together_after_the_proposal_aged() {
    let mut t = treasury().await;
    let guardian = t.keys[1].insecure_clone();
    let quote_mint = t.quote_mint;
    let dest = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let action = ProposalAction::Withdraw { vault: quote_vault(), destination: dest, amount: 50_000_000_000 };
    let id = t.propose_and_approve(action.clone(), Some(dest), 0).await;
    t.env.advance_time(172_800).await;
    let (m0, m1) = (t.council[0].insecure_clone(), t.council[1].insecure_clone());
    let execute = execute_withdraw_ix(id, quote_vault(), quote_mint, dest);

    // Two approvals and the payout in one transaction, 48 h after proposing.
    let together = [approve_proposal_ix(&m0.pubkey(), id), approve_proposal_ix(&m1.pubkey(), id), execute.clone()];
    let result = t.env.send(&together, &[&m0, &m1]).await;
    assert_custom_error(result, Aistm7Error::TimelockNotElapsed.into());

    t.env.send(&[approve_proposal_ix(&m0.pubkey(), id), approve_proposal_ix(&m1.pubkey(), id)], &[&m0, &m1]).await.unwrap();
    let now = t.env.clock().await.unix_timestamp;
    let proposal: Proposal = t.env.account(&proposal_pda(id)).await.unwrap();
    assert_eq!((proposal.quorum_at, proposal.executable_at), (now, now + 172_800));
    t.env.advance_time(172_799).await;
    assert_custom_error(t.env.send(&[execute.clone()], &[]).await, Aistm7Error::TimelockNotElapsed.into());
    // The guardian cancels during the time-lock: it never pays.
    t.env.send(&[cancel_proposal_ix(&guardian.pubkey(), id)], &[&guardian]).await.unwrap();
    t.env.advance_time(1).await;
    assert_custom_error(t.env.send(&[execute], &[]).await, Aistm7Error::ProposalNotPending.into());
    assert_eq!(t.env.token_balance(&dest).await, 0);
}

// Also: council membership through the council, the admin as guardian, rent.

#[tokio::test]
async fn the_council_rotates_only_through_itself_and_old_approvals_go_stale() {
    let mut t = treasury().await;
    let admin = t.keys[0].insecure_clone();
    let quote_mint = t.quote_mint;
    let dest = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let newcomer = Keypair::new();
    let members = vec![t.council[0].pubkey(), t.council[1].pubkey(), newcomer.pubkey()];
    let rotate = ProposalAction::SetCouncil { members: members.clone(), approvals_required: 2 };

    // A stranger cannot propose; a council member can.
    let stranger = Keypair::new();
    t.env.fund(&stranger.pubkey(), 1_000_000_000).await;
    let result = t.env.send(&[create_proposal_ix(&stranger.pubkey(), 1, rotate.clone(), None)], &[&stranger]).await;
    assert_custom_error(result, Aistm7Error::NotProposer.into());
    let bad = ProposalAction::SetCouncil { members: members.clone(), approvals_required: 4 };
    let result = t.env.send(&[create_proposal_ix(&admin.pubkey(), 1, bad, None)], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidParameter.into());

    let waiting = ProposalAction::Withdraw { vault: quote_vault(), destination: dest, amount: 1 };
    let rotation = t.propose_and_approve(rotate, None, 2).await;
    let stale = t.propose_and_approve(waiting, Some(dest), 1).await;
    t.env.advance_time(172_800).await;
    let logs = t.env.send(&[execute_proposal_ix(rotation)], &[]).await.unwrap();
    let changed = &events::<CouncilChanged>(&logs)[0];
    assert_eq!((changed.new_members.clone(), changed.proposals_stale_through), (members, stale));
    assert_eq!(t.buyback().await.council[2], newcomer.pubkey());

    // The member rotated out can no longer approve; a proposal from the old council cannot pass.
    let gone = t.council[2].insecure_clone();
    let result = t.env.send(&[approve_proposal_ix(&gone.pubkey(), stale)], &[&gone]).await;
    assert_custom_error(result, Aistm7Error::NotCouncilMember.into());
    let result = t.env.send(&[approve_proposal_ix(&newcomer.pubkey(), stale)], &[&newcomer]).await;
    assert_custom_error(result, Aistm7Error::ProposalStale.into());
    // A stale proposal never passes: anyone may close it after the retention period.
    let close = close_proposal_ix(stale, &admin.pubkey());
    assert_custom_error(t.env.send(&[close.clone()], &[]).await, Aistm7Error::RetentionNotElapsed.into());
    t.env.advance_time(7 * 86_400).await;
    t.env.send(&[close], &[]).await.expect("stale and past retention");
}

#[tokio::test]
async fn settled_records_return_their_rent_to_whoever_paid_it_after_retention() {
    let mut t = treasury().await;
    let [admin, guardian, keeper, collector, _] = [0, 1, 2, 3, 4].map(|i| t.keys[i].insecure_clone());
    let mint = t.mint;
    t.env.fund(&collector.pubkey(), 1_000_000_000).await;
    t.env.send(&[init_fee_schedule_ix(&admin.pubkey())], &[&admin]).await.unwrap();
    t.env.send(&[set_fee_ix(&admin.pubkey(), new_service("search", 10_000_000))], &[&admin]).await.unwrap();
    let (user, user_token) = t.env.wallet_with_lock(&mint, 100 * TOKEN, 0).await;
    let allowance = spl_token::instruction::approve(&spl_token::ID, &user_token, &pda(&[SEED_FEE_DELEGATE]), &user.pubkey(), &[], TOKEN).unwrap();
    t.env.send(&[allowance], &[&user]).await.unwrap();
    t.env.send(&[charge_ix(&collector.pubkey(), &mint, &user_token, "search", [5; 32])], &[&collector]).await.unwrap();
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    t.env.send(&[t.cancel_order_ix(&admin.pubkey(), 1)], &[&admin]).await.unwrap();
    let dest = t.env.create_token_account(&t.quote_mint.clone(), &Keypair::new().pubkey(), 0).await;
    let proposal = t.propose_and_approve(ProposalAction::Withdraw { vault: quote_vault(), destination: dest, amount: 1 }, Some(dest), 0).await;
    t.env.send(&[cancel_proposal_ix(&guardian.pubkey(), proposal)], &[&guardian]).await.unwrap();
    // A donation to the settled order's escrow is swept back to the quote vault.
    let payer = t.env.payer().pubkey();
    let donation = spl_token::instruction::mint_to(&spl_token::ID, &t.quote_mint.clone(), &escrow_pda(1), &payer, &[], 7).unwrap();
    t.env.send(&[donation], &[]).await.unwrap();

    let closes = [
        t.close_order_ix(1, &keeper.pubkey()),
        close_proposal_ix(proposal, &admin.pubkey()),
        close_charge_receipt_ix([5; 32], &collector.pubkey()),
    ];
    for close in &closes {
        assert_custom_error(t.env.send(&[close.clone()], &[]).await, Aistm7Error::RetentionNotElapsed.into());
    }
    t.env.advance_time(7 * 86_400).await;
    let stranger = Keypair::new().pubkey();
    let wrong = [t.close_order_ix(1, &stranger), close_proposal_ix(proposal, &stranger), close_charge_receipt_ix([5; 32], &stranger)];
    for close in wrong {
        assert_custom_error(t.env.send(&[close], &[]).await, Aistm7Error::WrongRentRecipient.into());
    }
    let vault_before = t.env.token_balance(&quote_vault()).await;
    for (close, recipient) in closes.iter().zip([keeper.pubkey(), admin.pubkey(), collector.pubkey()]) {
        let before = t.env.ctx.banks_client.get_balance(recipient).await.unwrap();
        let logs = t.env.send(&[close.clone()], &[]).await.unwrap();
        if recipient == keeper.pubkey() {
            assert_eq!(events::<EscrowSwept>(&logs)[0].amount, 7);
        }
        let closed = &events::<AccountClosed>(&logs)[0];
        let after = t.env.ctx.banks_client.get_balance(recipient).await.unwrap();
        assert_eq!((closed.rent_recipient, after - before), (recipient, closed.lamports));
    }
    assert_eq!(t.env.token_balance(&quote_vault()).await, vault_before + 7);
    for gone in [order_pda(1), escrow_pda(1), proposal_pda(proposal), pda(&[SEED_CHARGE, &[5; 32]])] {
        assert!(t.env.raw_account(&gone).await.is_none());
    }
}

// Found in review: attacks on the fixes above.

#[tokio::test]
async fn a_compromised_admin_cannot_replace_the_guardian_to_unpause() {
    let mut t = treasury().await;
    let (admin, guardian) = (t.keys[0].insecure_clone(), t.keys[1].insecure_clone());
    let accomplice = Keypair::new();
    t.env.send(&[set_paused_ix(&guardian.pubkey(), true)], &[&guardian]).await.unwrap();
    let set_guardian = |signer: &Pubkey, new_guardian: Pubkey| {
        ix(
            aistm7::ID,
            accounts::SetGuardian { guardian: *signer, config: config_pda() },
            instruction::SetGuardian { new_guardian },
        )
    };

    let result = t.env.send(&[set_guardian(&admin.pubkey(), accomplice.pubkey())], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    assert_custom_error(t.env.send(&[set_paused_ix(&admin.pubkey(), false)], &[&admin]).await, Aistm7Error::Unauthorized.into());
    let admin_as_guardian = ix(
        aistm7::ID,
        accounts::SetAuthorities { admin: admin.pubkey(), config: config_pda() },
        instruction::SetAuthorities { args: SetAuthoritiesArgs { admin: Some(guardian.pubkey()), ..Default::default() } },
    );
    assert_custom_error(t.env.send(&[admin_as_guardian], &[&admin]).await, Aistm7Error::AdminCannotBeGuardian.into());
    let result = t.env.send(&[set_guardian(&guardian.pubkey(), admin.pubkey())], &[&guardian]).await;
    assert_custom_error(result, Aistm7Error::AdminCannotBeGuardian.into());
    let config: Config = t.env.account(&config_pda()).await.unwrap();
    assert_eq!((config.authorities.guardian, config.paused), (guardian.pubkey(), true));

    // The council replaces a lost guardian, while paused; the new one unpauses.
    let successor = Keypair::new();
    let id = t.propose_and_approve(ProposalAction::SetGuardian { guardian: successor.pubkey() }, None, 2).await;
    t.env.advance_time(172_800).await;
    t.env.send(&[execute_proposal_ix(id)], &[]).await.expect("the council's recovery path");
    t.env.send(&[set_paused_ix(&successor.pubkey(), false)], &[&successor]).await.expect("the new guardian unpauses");
}

#[tokio::test]
async fn an_older_or_lone_update_cannot_reprice_the_requirement_far() {
    let Initialized { mut env, .. } = priced().await;
    let t0 = env.clock().await.unix_timestamp;
    env.advance_time(62).await;
    let now = t0 + 62;
    let (primary, backup, older) = (Keypair::new(), Keypair::new(), Keypair::new());
    env.write_price(&older, price_args(PRIMARY_FEED, 10_000_000, t0 - 5)).await;
    env.write_price(&backup, price_args(BACKUP_FEED, 10_000_000, now)).await;
    let refresh = || refresh_ix(&primary.pubkey(), Some(backup.pubkey()));

    // An update older than the one the requirement was priced with.
    let result = env.send(&[refresh_ix(&older.pubkey(), Some(backup.pubkey()))], &[]).await;
    assert_custom_error(result, Aistm7Error::PriceOlderThanLastUsed.into());
    // A primary left to go stale lets the backup price alone, but not 33% away.
    env.write_price(&primary, price_args(PRIMARY_FEED, 15_000_000, t0 + 1)).await;
    assert_custom_error(env.send(&[refresh()], &[]).await, Aistm7Error::LoneFeedDiverges.into());
    assert_eq!(requirement(&mut env).await.required, 100 * TOKEN);
    // Within the feed divergence limit (2%) it may.
    env.write_price(&backup, price_args(BACKUP_FEED, 14_800_000, now)).await;
    env.send(&[refresh()], &[]).await.expect("1.33% from the backup alone");
    let state = requirement(&mut env).await;
    assert_eq!((state.price, state.source), (14_800_000, aistm7::state::PriceSource::Backup));
    // Two usable feeds published 11 s apart are not compared.
    env.advance_time(61).await;
    env.write_price(&primary, price_args(PRIMARY_FEED, 14_500_000, now + 50)).await;
    env.write_price(&backup, price_args(BACKUP_FEED, 14_500_000, now + 61)).await;
    assert_custom_error(env.send(&[refresh()], &[]).await, Aistm7Error::FeedsOutOfSync.into());
}

#[tokio::test]
async fn relinking_cannot_reuse_locked_tokens_for_another_user() {
    let Initialized { mut env, mint, .. } = priced().await;
    let (wallet, _) = env.wallet_with_lock(&mint, 100 * TOKEN, 100 * TOKEN).await;
    let w = wallet.pubkey();
    let link = pda(&[SEED_LINK, w.as_ref()]);
    env.send(&[link_ix(&w, [1; 32])], &[&wallet]).await.unwrap();

    let relink = [verify_access_ix(&w), unlink_ix(&w, &link), link_ix(&w, [2; 32]), verify_access_ix(&w)];
    let result = env.send(&relink, &[&wallet]).await;
    assert_custom_error(result, Aistm7Error::WalletHasLockedTokens.into());
    // Unlocking is not enough: the cooldown must pass first.
    env.send(&[request_unlock_ix(&w, 100 * TOKEN)], &[&wallet]).await.unwrap();
    let result = env.send(&[unlink_ix(&w, &link)], &[&wallet]).await;
    assert_custom_error(result, Aistm7Error::WalletHasLockedTokens.into());
    env.advance_time(86_400).await;
    env.send(&[unlink_ix(&w, &link), link_ix(&w, [2; 32])], &[&wallet]).await.expect("after the cooldown");
}

#[tokio::test]
async fn an_approved_proposal_expires_and_rechecks_its_destination() {
    let mut t = treasury().await;
    let quote_mint = t.quote_mint;
    let owner = Keypair::new();
    let dest = t.env.create_token_account(&quote_mint, &owner.pubkey(), 0).await;
    let action = ProposalAction::Withdraw { vault: quote_vault(), destination: dest, amount: 1_000 };
    let late = t.propose_and_approve(action.clone(), Some(dest), 2).await;
    let handed_over = t.propose_and_approve(action, Some(dest), 2).await;

    // The destination's owner hands it to the program after the vote.
    t.env.advance_time(172_800).await;
    let hand_over = spl_token::instruction::set_authority(
        &spl_token::ID,
        &dest,
        Some(&config_pda()),
        spl_token::instruction::AuthorityType::AccountOwner,
        &owner.pubkey(),
        &[],
    )
    .unwrap();
    t.env.send(&[hand_over], &[&owner]).await.unwrap();
    let result = t.env.send(&[execute_withdraw_ix(handed_over, quote_vault(), quote_mint, dest)], &[]).await;
    assert_custom_error(result, Aistm7Error::ProgramOwnedDestination.into());
    // Fourteen days after its time-lock an approval is spent.
    t.env.advance_time(14 * 86_400 + 1).await;
    let result = t.env.send(&[execute_withdraw_ix(late, quote_vault(), quote_mint, dest)], &[]).await;
    assert_custom_error(result, Aistm7Error::ProposalExpired.into());
    assert_eq!(t.env.token_balance(&dest).await, 0);
    // An expired proposal is closed like a settled one, after the retention period.
    let admin = t.keys[0].pubkey();
    assert_custom_error(t.env.send(&[close_proposal_ix(late, &admin)], &[]).await, Aistm7Error::RetentionNotElapsed.into());
    t.env.advance_time(7 * 86_400).await;
    t.env.send(&[close_proposal_ix(late, &admin)], &[]).await.expect("expired and past retention");
}

#[tokio::test]
async fn minting_into_a_vault_other_than_the_treasury_is_refused() {
    let Initialized { mut env, keys, mint } = initialized().await;
    let admin = keys[0].insecure_clone();
    env.hand_mint_authority_to_program(&mint).await;

    let into_locks = mint_to_ix(&admin.pubkey(), &mint, &vault_pda(SEED_LOCK_VAULT, &mint), TOKEN);
    assert_custom_error(env.send(&[into_locks], &[&admin]).await, Aistm7Error::ProgramOwnedDestination.into());
    let treasury = pda(&[SEED_TREASURY, mint.as_ref()]);
    env.send(&[mint_to_ix(&admin.pubkey(), &mint, &treasury, TOKEN)], &[&admin]).await.expect("the treasury");
    assert_eq!(env.token_balance(&treasury).await, TOKEN);
}

#[tokio::test]
async fn changing_the_requirement_feed_does_not_reprice_buy_orders() {
    let mut t = treasury().await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let admin = t.keys[0].insecure_clone();
    let other_feed = [0xD4; 32];
    let swap = ix(
        aistm7::ID,
        accounts::SetOracleParams { admin: admin.pubkey(), config: config_pda() },
        instruction::SetOracleParams { args: aistm7::SetOracleParamsArgs { primary_feed_id: Some(other_feed), ..Default::default() } },
    );
    t.env.send(&[swap], &[&admin]).await.unwrap();
    let expensive = Keypair::new();
    let now = t.env.clock().await.unix_timestamp;
    t.env.write_price(&expensive, price_args(other_feed, 6_000_000_000_000, now)).await;
    let (seller, seller_token, seller_quote) = t.seller(100 * TOKEN).await;

    let mut fill = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, TOKEN);
    fill.accounts[10].pubkey = expensive.pubkey();
    assert_custom_error(t.env.send(&[fill], &[&seller]).await, Aistm7Error::WrongFeedId.into());
    let fill = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN);
    t.env.send(&[fill], &[&seller]).await.expect("priced by the treasury's own feed");
    assert_eq!(t.env.token_balance(&seller_quote).await, 15_000_000);
}
