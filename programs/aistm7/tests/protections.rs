//! Protections that held before the soundness work but had no test: each
//! is tried here and must be refused by name.

use aistm7::{
    accounts,
    constants::{SEED_BUYBACK, SEED_BUYBACK_VAULT, SEED_FEES, SEED_QUOTE_VAULT},
    errors::Aistm7Error,
    instruction,
    state::ProposalAction,
    InitializeBuybackArgs,
};
use aistm7_tests::buyback_env::*;
use aistm7_tests::world::{world, Case};
use aistm7_tests::*;
use anchor_lang::{
    error::ErrorCode,
    prelude::*,
    solana_program::{instruction::error::InstructionError, program_pack::Pack},
};
use solana_transaction_error::TransactionError;
use mock_pyth::WritePriceArgs;
use solana_keypair::Keypair;
use solana_signer::Signer;

const TOKEN_2022: Pubkey = pubkey!("TokenzQdBNbLqP5VEhdkAS6EPFLC1PHnBqCXEpPxuEb");

#[tokio::test]
async fn token_2022_accounts_and_program_are_refused_on_every_token_instruction() {
    let mut w = world().await;
    let cases = w.value_moving_cases().await;
    let env = &mut w.t.env;
    let t22_mint = env.create_mint_with(&TOKEN_2022, 8, None).await;
    let t22_account = env.create_token_account_with(&TOKEN_2022, &t22_mint, &w.wallet.pubkey(), 0).await;
    let mut checked = Vec::new();
    for case in &cases {
        for (index, meta) in case.instruction.accounts.iter().enumerate() {
            let substitute = if meta.pubkey == spl_token::ID {
                Some((TOKEN_2022, ErrorCode::InvalidProgramId))
            } else {
                match env.raw_account(&meta.pubkey).await {
                    Some(account) if account.owner == spl_token::ID => {
                        let is_mint = account.data.len() == spl_token::state::Mint::LEN;
                        Some((if is_mint { t22_mint } else { t22_account }, ErrorCode::AccountOwnedByWrongProgram))
                    }
                    _ => None,
                }
            };
            let Some((key, expected)) = substitute else { continue };
            let signers = case.signers.iter().map(|k| k.insecure_clone()).collect();
            let mut attack = Case { name: case.name, instruction: case.instruction.clone(), signers };
            attack.instruction.accounts[index].pubkey = key;
            let result = attack.send(env).await;
            assert_eq!(
                result,
                Err(TransactionError::InstructionError(
                    0,
                    InstructionError::Custom(expected.into())
                )),
                "{} with account {index} substituted",
                case.name
            );
            checked.push(case.name);
        }
    }
    checked.dedup();
    let token_instructions = [
        "lock_tokens", "withdraw_unlocked", "deposit_treasury", "pay_service_fee", "charge_service_fee", "mint_to",
        "fund_rewards", "distribute_reward", "execute_buy_order", "fill_buy_order", "close_expired_buy_order",
        "close_buy_order", "withdraw_quote", "execute_proposal",
    ];
    assert_eq!(checked, token_instructions);
}

#[tokio::test]
async fn initialize_refuses_a_mint_with_a_freeze_authority() {
    let mut env = Env::start().await;
    let keys: Vec<Keypair> = (0..5).map(|_| Keypair::new()).collect();
    let freezer = Keypair::new().pubkey();
    let mint = env.create_mint_with(&spl_token::ID, 8, Some(&freezer)).await;
    let payer = env.payer().pubkey();
    let args = default_initialize_args(authorities_of(&[&keys[0], &keys[1], &keys[2], &keys[3], &keys[4]]));

    let result = env.send(&[initialize_ix(&payer, &mint, args)], &[]).await;

    assert_custom_error(result, Aistm7Error::MintHasFreezeAuthority.into());
    assert!(env.raw_account(&config_pda()).await.is_none());
}

#[tokio::test]
async fn every_oracle_rejection_stops_executions_and_fills() {
    let mut t = treasury().await;
    t.report(200_000 * ZAR).await;
    t.execute().await.unwrap();
    t.report(100_000 * ZAR).await;
    let (seller, seller_token, seller_quote) = t.seller(100 * TOKEN).await;
    let now = t.env.clock().await.unix_timestamp;
    let (stale, partial) = (Keypair::new(), Keypair::new());
    t.env.write_price(&stale, WritePriceArgs { publish_time: now - 61, ..price_args(PRIMARY_FEED, 15_000_000, now) }).await;
    t.env.write_price(&partial, WritePriceArgs { partial_signatures: Some(5), ..price_args(PRIMARY_FEED, 15_000_000, now) }).await;
    let (token_feed, fx_feed, wallet) = (t.token_feed.pubkey(), t.fx_feed.pubkey(), t.env.payer().pubkey());
    let token_slot = [
        (wallet, Aistm7Error::WrongPriceOwner),
        (stale.pubkey(), Aistm7Error::StalePrice),
        (partial.pubkey(), Aistm7Error::PartialVerification),
        (fx_feed, Aistm7Error::WrongFeedId),
    ];
    // execute_buy_order: token price at 3, USD/ZAR at 4; fill_buy_order: 10 and 11.
    let keeper = t.keys[2].insecure_clone();
    for (slot, substitutes) in [(0, token_slot.to_vec()), (1, vec![(token_feed, Aistm7Error::WrongFeedId), (wallet, Aistm7Error::WrongPriceOwner)])] {
        for (account, expected) in substitutes {
            let mut execute = t.execute_ix().await;
            execute.accounts[3 + slot].pubkey = account;
            assert_custom_error(t.env.send(&[execute], &[&keeper]).await, expected.into());
            let mut fill = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 100 * TOKEN);
            fill.accounts[10 + slot].pubkey = account;
            assert_custom_error(t.env.send(&[fill], &[&seller]).await, expected.into());
        }
    }
    assert_eq!(t.buyback().await.metrics.orders_opened, 1);
    assert_eq!(t.env.token_balance(&seller_quote).await, 0);
}

#[tokio::test]
async fn fills_too_small_to_pay_or_from_a_program_vault_are_refused() {
    let mut t = treasury().await;
    t.report(100_000 * ZAR).await;
    t.execute().await.unwrap();
    let (seller, seller_token, seller_quote) = t.seller(100 * TOKEN).await;

    // One base unit at 150_000 quote units per token pays nothing.
    let dust = t.fill_ix(&seller.pubkey(), 1, &seller_token, &seller_quote, 1);
    assert_custom_error(t.env.send(&[dust], &[&seller]).await, Aistm7Error::FillTooSmall.into());
    let vault = vault_pda(SEED_BUYBACK_VAULT, &t.mint);
    let from_vault = t.fill_ix(&seller.pubkey(), 1, &vault, &seller_quote, TOKEN);
    assert_custom_error(t.env.send(&[from_vault], &[&seller]).await, Aistm7Error::WrongTokenOwner.into());
    assert_eq!(t.env.token_balance(&seller_quote).await, 0);
}

#[tokio::test]
async fn executions_need_the_keeper_and_enough_quote() {
    let mut t = treasury().await;
    t.report(20_000_000 * ZAR).await;
    let mut by_stranger = t.execute_ix().await;
    let stranger = Keypair::new();
    t.env.fund(&stranger.pubkey(), 1_000_000_000).await;
    by_stranger.accounts[0].pubkey = stranger.pubkey();
    assert_custom_error(t.env.send(&[by_stranger], &[&stranger]).await, Aistm7Error::Unauthorized.into());

    // 1,000,000 ZAR at 18.5 is 54,054 USD: the second does not fit the 100,000 USD vault.
    t.execute().await.expect("first execution");
    assert_custom_error(t.execute().await, Aistm7Error::InsufficientTreasuryQuote.into());
    assert_eq!(t.buyback().await.metrics.orders_opened, 1);
}

#[tokio::test]
async fn a_proposal_pays_only_its_destination_and_settled_ones_take_no_approvals() {
    let mut t = treasury().await;
    let guardian = t.keys[1].insecure_clone();
    let quote_mint = t.quote_mint;
    let dest = t.env.create_token_account(&quote_mint, &Keypair::new().pubkey(), 0).await;
    let other = t.env.create_token_account(&quote_mint, &t.keys[0].pubkey(), 0).await;
    let vault = pda(&[SEED_QUOTE_VAULT]);
    let action = ProposalAction::Withdraw { vault, destination: dest, amount: 1_000 };
    let executed = t.propose_and_approve(action.clone(), Some(dest), 2).await;
    let cancelled = t.propose_and_approve(action, Some(dest), 0).await;
    t.env.send(&[cancel_proposal_ix(&guardian.pubkey(), cancelled)], &[&guardian]).await.unwrap();
    t.env.advance_time(172_800).await;

    let elsewhere = execute_withdraw_ix(executed, vault, quote_mint, other);
    assert_custom_error(t.env.send(&[elsewhere], &[]).await, Aistm7Error::MissingProposalAccount.into());
    let missing = execute_proposal_ix(executed);
    assert_custom_error(t.env.send(&[missing], &[]).await, Aistm7Error::MissingProposalAccount.into());
    t.env.send(&[execute_withdraw_ix(executed, vault, quote_mint, dest)], &[]).await.unwrap();
    let member = t.council[2].insecure_clone();
    for id in [executed, cancelled] {
        let result = t.env.send(&[approve_proposal_ix(&member.pubkey(), id)], &[&member]).await;
        assert_custom_error(result, Aistm7Error::ProposalNotPending.into());
    }
    assert_eq!((t.env.token_balance(&dest).await, t.env.token_balance(&other).await), (1_000, 0));
}

#[tokio::test]
async fn the_buyback_and_the_fee_schedule_are_initialized_once() {
    let mut t = treasury().await;
    let admin = t.keys[0].insecure_clone();
    t.env.send(&[init_fee_schedule_ix(&admin.pubkey())], &[&admin]).await.unwrap();
    let other_quote = t.env.create_mint(6).await;
    let again = ix(
        aistm7::ID,
        accounts::InitializeBuyback {
            admin: admin.pubkey(),
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            quote_mint: other_quote,
            quote_vault: pda(&[SEED_QUOTE_VAULT]),
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        instruction::InitializeBuyback {
            args: InitializeBuybackArgs { params: params(), council: vec![admin.pubkey()] },
        },
    );
    let before = t.env.raw_account(&pda(&[SEED_BUYBACK])).await.unwrap();
    let fees_before = t.env.raw_account(&pda(&[SEED_FEES])).await.unwrap();
    // The system program refuses to create an account that exists: nothing is replaced.
    let already_in_use = TransactionError::InstructionError(
        0,
        InstructionError::Custom(0),
    );
    assert_eq!(t.env.send(&[again], &[&admin]).await, Err(already_in_use.clone()));
    assert_eq!(t.env.send(&[init_fee_schedule_ix(&admin.pubkey())], &[&admin]).await, Err(already_in_use));
    assert_eq!(t.env.raw_account(&pda(&[SEED_BUYBACK])).await.unwrap().data, before.data);
    assert_eq!(t.env.raw_account(&pda(&[SEED_FEES])).await.unwrap().data, fees_before.data);
}

#[tokio::test]
async fn a_charge_through_a_delegate_the_user_did_not_approve_is_refused() {
    let mut t = treasury().await;
    let (admin, collector) = (t.keys[0].insecure_clone(), t.keys[3].insecure_clone());
    t.env.fund(&collector.pubkey(), 1_000_000_000).await;
    t.env.send(&[init_fee_schedule_ix(&admin.pubkey())], &[&admin]).await.unwrap();
    t.env.send(&[set_fee_ix(&admin.pubkey(), new_service("search", 10_000_000))], &[&admin]).await.unwrap();
    let mint = t.mint;
    let (user, user_token) = t.env.wallet_with_lock(&mint, 100 * TOKEN, 0).await;

    let charge = |id: u8| charge_ix(&collector.pubkey(), &mint, &user_token, "search", [id; 32]);
    assert_custom_error(t.env.send(&[charge(1)], &[&collector]).await, Aistm7Error::AllowanceTooSmall.into());
    // An allowance to the collector's own key is not an allowance to the program.
    let elsewhere = spl_token::instruction::approve(&spl_token::ID, &user_token, &collector.pubkey(), &user.pubkey(), &[], 100 * TOKEN).unwrap();
    t.env.send(&[elsewhere], &[&user]).await.unwrap();
    assert_custom_error(t.env.send(&[charge(2)], &[&collector]).await, Aistm7Error::AllowanceTooSmall.into());
    assert_eq!(t.env.token_balance(&user_token).await, 100 * TOKEN);
}
