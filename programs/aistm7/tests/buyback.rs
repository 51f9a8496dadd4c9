use aistm7::{
    accounts,
    constants::{MAX_REVENUE_ENTRY_CENTS, SEED_BUYBACK, SEED_BUYBACK_VAULT, SEED_QUOTE_VAULT},
    errors::Aistm7Error,
    events::{BuyOrderClosed, BuyOrderFilled, BuyOrderOpened, ProposalApproved, RevenueReported},
    instruction,
    state::{BuyOrder, BuybackParams, OrderStatus, Proposal, ProposalAction, ProposalStatus, QuoteRate, BatchCommitment, RevenueBatch},
};
use aistm7_tests::buyback_env::*;
use aistm7_tests::*;
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

#[tokio::test]
async fn allocation_rows_hold() {
    let mut t = treasury().await;

    // 100,000 ZAR: allocates 10,000 and uses all of it.
    t.report(100_000 * ZAR).await;
    let logs = t.execute().await.expect("execute");
    let opened = &events::<BuyOrderOpened>(&logs)[0];
    assert_eq!((opened.zar_allocated_cents, opened.revenue_used_cents), (10_000 * ZAR, 100_000 * ZAR));
    // 10,000 ZAR / 18.5 = 540.540540 USD, rounded down.
    assert_eq!(opened.quote_budget, 540_540_540);
    assert_eq!(opened.limit_price, 151_500); // $0.15 + 1%
    assert_eq!(t.buyback().await.available_cents(), 0);

    // 999 ZAR: below the 100 ZAR minimum; nothing changes.
    t.report(999 * ZAR).await;
    assert_custom_error(t.execute().await, Aistm7Error::AllocationBelowMinimum.into());
    let b = t.buyback().await;
    assert_eq!((b.available_cents(), b.metrics.orders_opened), (999 * ZAR, 1));
    t.report(ZAR).await;
    let logs = t.execute().await.expect("1,000 ZAR allocates 100");
    assert_eq!(events::<BuyOrderOpened>(&logs)[0].zar_allocated_cents, 100 * ZAR);

    // 20,000,000 ZAR: capped at 1,000,000; 10,000,000 used, 10,000,000 left.
    t.report(20_000_000 * ZAR).await;
    let logs = t.execute().await.expect("capped");
    let opened = &events::<BuyOrderOpened>(&logs)[0];
    assert_eq!((opened.zar_allocated_cents, opened.revenue_used_cents), (1_000_000 * ZAR, 10_000_000 * ZAR));
    assert_eq!(t.buyback().await.available_cents(), 10_000_000 * ZAR);
}

#[tokio::test]
async fn revenue_batches_are_sequenced_and_checked() {
    let mut t = treasury().await;
    let keeper = t.keys[2].insecure_clone();
    let batch = commitment(149_900, 9_900, 1, 3);
    let logs = t.env.send(&[t.report_ix(&keeper.pubkey(), 1, batch)], &[&keeper]).await.unwrap();
    let reported = &events::<RevenueReported>(&logs)[0];
    assert_eq!((reported.batch_seq, reported.events, reported.totals.total), (1, 3, 159_801));
    assert_eq!((reported.account, reported.root), (batch_pda(1), batch.root));
    let stored: RevenueBatch = t.env.account(&batch_pda(1)).await.unwrap();
    assert_eq!((stored.batch_seq, stored.root, stored.events, stored.totals.total), (1, batch.root, 3, 159_801));
    assert_eq!((stored.totals.course_sale, stored.totals.subscription, stored.totals.other), (149_900, 9_900, 1));

    let again = t.report_ix(&keeper.pubkey(), 1, batch);
    assert_custom_error(t.env.send(&[again], &[&keeper]).await, Aistm7Error::BatchAlreadyRecorded.into());
    let gap = t.report_ix(&keeper.pubkey(), 3, batch);
    assert_custom_error(t.env.send(&[gap], &[&keeper]).await, Aistm7Error::BatchSequenceGap.into());
    let refused = [
        (commitment(100, 0, 0, 0), Aistm7Error::InvalidRevenueBatch),
        (BatchCommitment { root: [0; 32], ..batch }, Aistm7Error::InvalidRevenueBatch),
        (commitment(2, 0, 0, 3), Aistm7Error::InvalidRevenueBatch),
        (commitment(MAX_REVENUE_ENTRY_CENTS, 0, 1, 1), Aistm7Error::RevenueEntryTooLarge),
        (commitment(u64::MAX, 1, 0, u64::MAX), Aistm7Error::MathOverflow),
    ];
    for (bad, error) in refused {
        let ix = t.report_ix(&keeper.pubkey(), 2, bad);
        assert_custom_error(t.env.send(&[ix], &[&keeper]).await, error.into());
    }
    let admin = t.keys[0].insecure_clone();
    let stranger = t.report_ix(&admin.pubkey(), 2, batch);
    assert_custom_error(t.env.send(&[stranger], &[&admin]).await, Aistm7Error::Unauthorized.into());
    // Another batch's address cannot stand in for this one's.
    let mut swapped = t.report_ix(&keeper.pubkey(), 2, batch);
    swapped.accounts[3].pubkey = batch_pda(3);
    assert_custom_error(t.env.send(&[swapped], &[&keeper]).await, anchor_lang::error::ErrorCode::ConstraintSeeds.into());

    let b = t.buyback().await;
    assert_eq!((b.last_batch_seq, b.revenue.course_sale, b.revenue.subscription, b.revenue.other, b.revenue.total), (1, 149_900, 9_900, 1, 159_801));
}

#[tokio::test]
async fn lamports_sent_to_the_next_batch_address_do_not_block_reporting() {
    let mut t = treasury().await;
    let keeper = t.keys[2].insecure_clone();
    // Anyone can send lamports to a PDA: an attacker funds the next batches'
    // addresses, one with less than the rent, one with more.
    t.env.fund(&batch_pda(1), 1_000_000).await;
    t.env.fund(&batch_pda(2), 10_000_000).await;
    for seq in 1..=3 {
        let ix = t.report_ix(&keeper.pubkey(), seq, commitment(100, 0, 0, 1));
        t.env.send(&[ix], &[&keeper]).await.expect("reported despite the lamports");
        let stored: RevenueBatch = t.env.account(&batch_pda(seq)).await.unwrap();
        assert_eq!(stored.batch_seq, seq);
    }
    assert_eq!(t.buyback().await.revenue.total, 300);
}

#[tokio::test]
async fn fills_pay_the_oracle_price_up_to_the_limit_and_burn() {
    let mut t = treasury().await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let (seller, seller_token, seller_quote) = t.seller(10_000 * TOKEN).await;
    let supply_before = t.env.account::<anchor_spl::token::Mint>(&t.mint.clone()).await.unwrap().supply;

    // Above the limit (+1.01%): refused.
    t.set_prices(15_151_500, 1_850_000_000).await;
    let above = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN);
    assert_custom_error(t.env.send(&[above], &[&seller]).await, Aistm7Error::PriceAboveLimit.into());
    // At the limit exactly: 100 tokens at 151_500 units.
    t.set_prices(15_150_000, 1_850_000_000).await;
    let logs = t.env.send(&[t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN)], &[&seller]).await.unwrap();
    let filled = &events::<BuyOrderFilled>(&logs)[0];
    assert_eq!((filled.price, filled.quote_paid, filled.status), (151_500, 15_150_000, OrderStatus::Pending));
    // Below: 1.5 tokens at $0.14 = 210_000 units.
    t.set_prices(14_000_000, 1_850_000_000).await;
    t.env.send(&[t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 150_000_000)], &[&seller]).await.unwrap();
    assert_eq!(t.env.token_balance(&seller_quote).await, 15_150_000 + 210_000);
    // More than the rest of the budget: refused; the exact rest completes it.
    let order: BuyOrder = t.env.account(&order_pda(1)).await.unwrap();
    let rest = order.remaining();
    let too_much = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 10_000 * TOKEN);
    assert_custom_error(t.env.send(&[too_much], &[&seller]).await, Aistm7Error::FillExceedsBudget.into());
    // The fewest tokens that cost the whole rest (rounded down) at 140_000 per token.
    let exact_tokens = (rest * TOKEN).div_ceil(140_000);
    t.env.send(&[t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, exact_tokens)], &[&seller]).await.unwrap();

    let order: BuyOrder = t.env.account(&order_pda(1)).await.unwrap();
    assert_eq!((order.status, order.remaining()), (OrderStatus::Completed, 0));
    let tokens_in = 100 * TOKEN + 150_000_000 + exact_tokens;
    assert_eq!(order.tokens_acquired, tokens_in);
    assert_eq!(t.env.token_balance(&seller_quote).await, 540_540_540);
    let supply_after = t.env.account::<anchor_spl::token::Mint>(&t.mint.clone()).await.unwrap().supply;
    assert_eq!(supply_before - supply_after, tokens_in, "bought tokens are burned");
    let m = t.buyback().await.metrics;
    assert_eq!((m.quote_spent, m.tokens_acquired, m.tokens_burned, m.orders_completed), (540_540_540, tokens_in, tokens_in, 1));
    let done = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, TOKEN);
    assert_custom_error(t.env.send(&[done], &[&seller]).await, Aistm7Error::OrderNotPending.into());
}

#[tokio::test]
async fn expired_orders_return_their_budget_exactly() {
    let mut t = treasury().await;
    let vault = pda(&[SEED_QUOTE_VAULT]);
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let (seller, seller_token, seller_quote) = t.seller(100 * TOKEN).await;
    t.env.send(&[t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN)], &[&seller]).await.unwrap();

    assert_custom_error(t.env.send(&[t.close_ix(1)], &[]).await, Aistm7Error::OrderNotExpired.into());
    t.env.advance_time(3_600).await;
    t.set_prices(15_000_000, 1_850_000_000).await;
    let late = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, TOKEN);
    assert_custom_error(t.env.send(&[late], &[&seller]).await, Aistm7Error::OrderExpired.into());
    let logs = t.env.send(&[t.close_ix(1)], &[]).await.unwrap();

    let closed = &events::<BuyOrderClosed>(&logs)[0];
    assert_eq!((closed.status, closed.quote_returned), (OrderStatus::Expired, 540_540_540 - 15_000_000));
    assert_eq!(t.env.token_balance(&vault).await, QUOTE_FUNDS - 15_000_000);
    assert_eq!(t.env.token_balance(&escrow_pda(1)).await, 0);
    assert_custom_error(t.env.send(&[t.close_ix(1)], &[]).await, Aistm7Error::OrderNotPending.into());
    assert_eq!(t.buyback().await.metrics.orders_expired, 1);
}

#[tokio::test]
async fn withdrawals_need_council_approvals_and_the_time_lock() {
    let mut t = treasury().await;
    let (admin, guardian) = (t.keys[0].insecure_clone(), t.keys[1].insecure_clone());
    let quote_mint = t.quote_mint;
    let destination = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let vault = pda(&[SEED_QUOTE_VAULT]);
    let withdraw = |amount: u64| withdraw_quote_ix(&admin.pubkey(), quote_mint, destination, amount);
    assert_custom_error(t.env.send(&[withdraw(1_000_000_001)], &[&admin]).await, Aistm7Error::WithdrawalNeedsApproval.into());
    t.env.send(&[withdraw(1_000_000_000)], &[&admin]).await.expect("at the direct limit");

    let action = ProposalAction::Withdraw { vault, destination, amount: 50_000_000_000 };
    let propose = |id: u64| create_proposal_ix(&admin.pubkey(), id, action.clone(), Some(destination));
    t.env.send(&[propose(1)], &[&admin]).await.unwrap();
    t.env.send(&[propose(2)], &[&admin]).await.unwrap();
    let execute = |id: u64| execute_withdraw_ix(id, vault, quote_mint, destination);
    let (m0, m1) = (t.council[0].insecure_clone(), t.council[1].insecure_clone());

    assert_custom_error(t.env.send(&[approve_proposal_ix(&admin.pubkey(), 1)], &[&admin]).await, Aistm7Error::NotCouncilMember.into());
    t.env.send(&[approve_proposal_ix(&m0.pubkey(), 1)], &[&m0]).await.unwrap();
    assert_custom_error(t.env.send(&[approve_proposal_ix(&m0.pubkey(), 1)], &[&m0]).await, Aistm7Error::AlreadyApproved.into());
    t.env.advance_time(172_800).await;
    assert_custom_error(t.env.send(&[execute(1)], &[]).await, Aistm7Error::NotEnoughApprovals.into());
    let logs = t.env.send(&[approve_proposal_ix(&m1.pubkey(), 1)], &[&m1]).await.unwrap();
    let now = t.env.clock().await.unix_timestamp;
    assert_eq!(events::<ProposalApproved>(&logs)[0].executable_at, now + 172_800);
    t.env.send(&[approve_proposal_ix(&m0.pubkey(), 2)], &[&m0]).await.unwrap();
    t.env.send(&[approve_proposal_ix(&m1.pubkey(), 2)], &[&m1]).await.unwrap();
    t.env.advance_time(172_800).await;
    t.env.send(&[execute(1)], &[]).await.expect("approved and time-locked");
    assert_eq!(t.env.token_balance(&destination).await, 51_000_000_000);
    assert_custom_error(t.env.send(&[execute(1)], &[]).await, Aistm7Error::ProposalNotPending.into());

    assert_custom_error(t.env.send(&[cancel_proposal_ix(&admin.pubkey(), 2)], &[&admin]).await, Aistm7Error::Unauthorized.into());
    t.env.send(&[cancel_proposal_ix(&guardian.pubkey(), 2)], &[&guardian]).await.unwrap();
    let proposal: Proposal = t.env.account(&proposal_pda(2)).await.unwrap();
    assert_eq!(proposal.status, ProposalStatus::Cancelled);
    assert_custom_error(t.env.send(&[execute(2)], &[]).await, Aistm7Error::ProposalNotPending.into());
    assert_eq!(t.env.token_balance(&vault).await, QUOTE_FUNDS - 51_000_000_000);
}

#[tokio::test]
async fn the_time_lock_holds_until_its_last_second() {
    let mut t = treasury().await;
    let quote_mint = t.quote_mint;
    let destination = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let vault = pda(&[SEED_QUOTE_VAULT]);
    let action = ProposalAction::Withdraw { vault, destination, amount: 5_000_000_000 };
    let id = t.propose_and_approve(action, Some(destination), 2).await;
    let execute = execute_withdraw_ix(id, vault, quote_mint, destination);

    t.env.advance_time(172_799).await;
    assert_custom_error(t.env.send(&[execute.clone()], &[]).await, Aistm7Error::TimelockNotElapsed.into());
    t.env.advance_time(1).await;
    t.env.send(&[execute], &[]).await.expect("at the time-lock");
    assert_eq!(t.env.token_balance(&destination).await, 5_000_000_000);
}

#[tokio::test]
async fn only_the_admin_cancels_and_substituted_vaults_are_refused() {
    let mut t = treasury().await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let (admin, keeper) = (t.keys[0].insecure_clone(), t.keys[2].insecure_clone());
    let quote_mint = t.quote_mint;
    let cancel = |signer: &Pubkey, escrow: Pubkey, quote_vault: Pubkey| {
        ix(
            aistm7::ID,
            accounts::CancelBuyOrder {
                admin: *signer,
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                order: order_pda(1),
                escrow,
                quote_vault,
                quote_mint,
                token_program: anchor_spl::token::ID,
            },
            instruction::CancelBuyOrder {},
        )
    };
    let vault = pda(&[SEED_QUOTE_VAULT]);
    let attacker_account = t.env.create_token_account(&quote_mint, &keeper.pubkey(), 0).await;

    assert_custom_error(t.env.send(&[cancel(&keeper.pubkey(), escrow_pda(1), vault)], &[&keeper]).await, Aistm7Error::Unauthorized.into());
    // Another order's escrow, or a refund to someone else's account: refused.
    let wrong_escrow = t.env.send(&[cancel(&admin.pubkey(), escrow_pda(2), vault)], &[&admin]).await;
    assert_custom_error(wrong_escrow, anchor_lang::error::ErrorCode::ConstraintAddress.into());
    let wrong_vault = t.env.send(&[cancel(&admin.pubkey(), escrow_pda(1), attacker_account)], &[&admin]).await;
    assert_custom_error(wrong_vault, anchor_lang::error::ErrorCode::ConstraintSeeds.into());
    let seller = Keypair::new();
    let mint = t.mint;
    let seller_token = t.env.create_token_account(&mint, &seller.pubkey(), 100 * TOKEN).await;
    let mut fill = t.fill_ix(&seller.pubkey(), 1, &seller_token, &attacker_account, 100 * TOKEN);
    fill.accounts[4].pubkey = escrow_pda(2);
    assert_custom_error(t.env.send(&[fill], &[&seller]).await, anchor_lang::error::ErrorCode::ConstraintAddress.into());

    let logs = t.env.send(&[cancel(&admin.pubkey(), escrow_pda(1), vault)], &[&admin]).await.unwrap();
    assert_eq!(events::<BuyOrderClosed>(&logs)[0].status, OrderStatus::Cancelled);
    assert_eq!(t.env.token_balance(&vault).await, QUOTE_FUNDS - 540_540_540);
    assert_eq!(t.buyback().await.metrics.orders_cancelled, 1);
    assert_eq!(t.env.token_balance(&attacker_account).await, 0);
}

#[tokio::test]
async fn a_zar_quote_at_a_fixed_rate_holds_bought_tokens_when_not_burning() {
    let mut t = treasury_with(BuybackParams {
        quote_rate: QuoteRate::FixedZar { quote_units_per_zar: 1_000_000 },
        burn_on_fill: false,
        ..params()
    })
    .await;
    t.report(100_000 * ZAR).await;
    let logs = t.execute().await.unwrap();
    let opened = &events::<BuyOrderOpened>(&logs)[0];
    // 10,000 ZAR at 1_000_000 units per ZAR; $0.15 * 18.5 = R2.775 per token, +1%.
    assert_eq!((opened.quote_budget, opened.limit_price), (10_000_000_000, 2_802_750));
    let (seller, seller_token, seller_quote) = t.seller(100 * TOKEN).await;
    let supply = t.env.account::<anchor_spl::token::Mint>(&t.mint.clone()).await.unwrap().supply;

    t.env.send(&[t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN)], &[&seller]).await.unwrap();

    assert_eq!(t.env.token_balance(&seller_quote).await, 277_500_000);
    assert_eq!(t.env.token_balance(&vault_pda(SEED_BUYBACK_VAULT, &t.mint.clone())).await, 100 * TOKEN);
    assert_eq!(t.env.account::<anchor_spl::token::Mint>(&t.mint.clone()).await.unwrap().supply, supply);
    assert_eq!(t.buyback().await.metrics.tokens_burned, 0);
}

#[tokio::test]
async fn the_daily_spend_cap_and_the_pause_stop_executions() {
    let mut t = treasury_with(BuybackParams { daily_spend_cap: 600_000_000, ..params() }).await;
    t.report(100_000 * ZAR).await;
    t.execute().await.expect("540_540_540 within the cap");
    t.report(100_000 * ZAR).await;
    assert_custom_error(t.execute().await, Aistm7Error::DailySpendCapExceeded.into());
    assert_eq!(t.buyback().await.metrics.orders_opened, 1);

    t.env.advance_time(86_400).await;
    t.set_prices(15_000_000, 1_850_000_000).await;
    let guardian = t.keys[1].insecure_clone();
    let pause = |on: bool| Instruction {
        program_id: aistm7::ID,
        accounts: vec![
            anchor_lang::prelude::AccountMeta::new_readonly(guardian.pubkey(), true),
            anchor_lang::prelude::AccountMeta::new(config_pda(), false),
        ],
        data: anchor_lang::InstructionData::data(&instruction::SetPaused { paused: on }),
    };
    t.env.send(&[pause(true)], &[&guardian]).await.unwrap();
    assert_custom_error(t.execute().await, Aistm7Error::Paused.into());
    t.env.send(&[pause(false)], &[&guardian]).await.unwrap();
    t.execute().await.expect("a new day, unpaused");
    assert_eq!(t.buyback().await.metrics.orders_opened, 2);
}
