use aistm7::{
    constants::SEED_LOCK_VAULT,
    errors::Aistm7Error,
    events::{AccessVerified, PauseChanged, RequirementOverrideSet, RequirementParamsUpdated, TokensUnlocked, UnlockRequested},
    instruction,
    state::{AccessLock, AccessResult, Config, RequirementOverride},
    SetOracleParamsArgs, SetRequirementOverrideArgs, SetRequirementParamsArgs,
};
use aistm7_tests::*;
use anchor_lang::{
    prelude::{AccountMeta, Pubkey},
    solana_program::instruction::Instruction,
    AnchorDeserialize, InstructionData,
};
use solana_keypair::Keypair;
use solana_signer::Signer;

const TOKEN: u64 = 100_000_000; // base units per token (8 decimals)

/// Initialized and priced at $0.15 (100 tokens required).
struct Priced {
    env: Env,
    keys: Vec<Keypair>,
    mint: Pubkey,
}

async fn priced() -> Priced {
    let Initialized { mut env, keys, mint } = initialized().await;
    let feed = Keypair::new();
    let now = env.clock().await.unix_timestamp;
    env.write_price(&feed, price_args(PRIMARY_FEED, 15_000_000, now)).await;
    let no_backup = SetOracleParamsArgs { backup_feed_id: Some([0; 32]), ..Default::default() };
    let admin = keys[0].insecure_clone();
    env.send(&[admin_ix(&admin.pubkey(), instruction::SetOracleParams { args: no_backup })], &[&admin]).await.unwrap();
    env.send(&[refresh_ix(&feed.pubkey(), None)], &[]).await.expect("price the requirement");
    Priced { env, keys, mint }
}

/// Every admin and guardian instruction takes (signer, config).
fn admin_ix(admin: &Pubkey, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id: aistm7::ID,
        accounts: vec![AccountMeta::new_readonly(*admin, true), AccountMeta::new(config_pda(), false)],
        data: data.data(),
    }
}

impl Priced {
    async fn verify(&mut self, wallet: &Pubkey) -> Outcome {
        self.env.process(&[verify_access_ix(wallet)], &[]).await
    }

    async fn wallet(&mut self, amount: u64, locked: u64) -> (Keypair, Pubkey) {
        let mint = self.mint;
        self.env.wallet_with_lock(&mint, amount, locked).await
    }
}

#[tokio::test]
async fn a_wallet_with_enough_locked_tokens_has_access_and_return_data() {
    let mut p = priced().await;
    let (wallet, _) = p.wallet(150 * TOKEN, 100 * TOKEN).await;

    let outcome = p.verify(&wallet.pubkey()).await;

    outcome.result.expect("100 locked tokens meet 100 required");
    let now = p.env.clock().await.unix_timestamp;
    let (program, data) = outcome.return_data.expect("return data");
    assert_eq!(program, aistm7::ID);
    let result = AccessResult::deserialize(&mut data.as_slice()).unwrap();
    assert_eq!(
        result,
        AccessResult { wallet: wallet.pubkey(), locked: 100 * TOKEN, required: 100 * TOKEN, valid_until: now + 3_600 }
    );
    assert_eq!(events::<AccessVerified>(&outcome.logs)[0].locked, 100 * TOKEN);
    let lock: AccessLock = p.env.account(&lock_pda(&wallet.pubkey())).await.unwrap();
    assert_eq!((lock.wallet, lock.locked, lock.unlocking), (wallet.pubkey(), 100 * TOKEN, 0));
    let config: Config = p.env.account(&config_pda()).await.unwrap();
    assert_eq!(config.total_locked, 100 * TOKEN);
    assert_eq!(p.env.token_balance(&vault_pda(SEED_LOCK_VAULT, &p.mint)).await, 100 * TOKEN);
}

#[tokio::test]
async fn free_or_too_few_locked_tokens_give_no_access() {
    let mut p = priced().await;
    let (short, _) = p.wallet(200 * TOKEN, 100 * TOKEN - 1).await;
    let (free, _) = p.wallet(10_000 * TOKEN, 0).await;

    let outcome = p.verify(&short.pubkey()).await;
    assert!(outcome.logs.iter().any(|l| l.contains(&format!("have {} need {}", 100 * TOKEN - 1, 100 * TOKEN))));
    assert_custom_error(outcome.result, Aistm7Error::InsufficientBalance.into());
    let outcome = p.verify(&free.pubkey()).await;
    assert!(outcome.logs.iter().any(|l| l.contains(&format!("have 0 need {}", 100 * TOKEN))));
    assert_custom_error(outcome.result, Aistm7Error::InsufficientBalance.into());
}

#[tokio::test]
async fn locks_take_only_the_wallets_own_tokens_of_the_mint() {
    let mut p = priced().await;
    let (wallet, own) = p.wallet(500 * TOKEN, 0).await;
    let other_mint = p.env.create_mint(8).await;
    let foreign_mint = p.env.create_token_account(&other_mint, &wallet.pubkey(), 500 * TOKEN).await;
    let someone_elses = p.env.create_token_account(&p.mint, &Keypair::new().pubkey(), 500 * TOKEN).await;
    let mint = p.mint;
    let w = wallet.pubkey();

    let result = p.env.send(&[lock_tokens_ix(&w, &mint, &foreign_mint, TOKEN)], &[&wallet]).await;
    assert_custom_error(result, Aistm7Error::WrongMint.into());
    let result = p.env.send(&[lock_tokens_ix(&w, &mint, &someone_elses, TOKEN)], &[&wallet]).await;
    assert_custom_error(result, Aistm7Error::WrongTokenOwner.into());
    let result = p.env.send(&[lock_tokens_ix(&w, &mint, &own, 0)], &[&wallet]).await;
    assert_custom_error(result, Aistm7Error::ZeroAmount.into());
    p.env.send(&[lock_tokens_ix(&w, &mint, &own, 150 * TOKEN)], &[&wallet]).await.unwrap();
    // Another wallet's lock PDA is refused by its seeds.
    let mut substituted = verify_access_ix(&w);
    substituted.accounts[2].pubkey = lock_pda(&Keypair::new().pubkey());
    let result = p.env.send(&[substituted], &[]).await;
    assert_custom_error(result, anchor_lang::error::ErrorCode::ConstraintSeeds.into());
    p.verify(&w).await.result.expect("own lock");
}

#[tokio::test]
async fn unlocked_tokens_stop_counting_at_once_and_leave_after_the_cooldown() {
    let mut p = priced().await;
    let (wallet, own) = p.wallet(150 * TOKEN, 150 * TOKEN).await;
    let (w, mint) = (wallet.pubkey(), p.mint);

    let result = p.env.send(&[request_unlock_ix(&w, 151 * TOKEN)], &[&wallet]).await;
    assert_custom_error(result, Aistm7Error::InsufficientLocked.into());
    let logs = p.env.send(&[request_unlock_ix(&w, 60 * TOKEN)], &[&wallet]).await.unwrap();
    let now = p.env.clock().await.unix_timestamp;
    let event = &events::<UnlockRequested>(&logs)[0];
    assert_eq!((event.locked, event.unlocking, event.unlock_at), (90 * TOKEN, 60 * TOKEN, now + 86_400));
    assert_custom_error(p.verify(&w).await.result, Aistm7Error::InsufficientBalance.into());

    let withdraw = withdraw_unlocked_ix(&w, &mint, &own);
    p.env.advance_time(86_399).await;
    assert_custom_error(p.env.send(&[withdraw.clone()], &[&wallet]).await, Aistm7Error::UnlockCooldownActive.into());
    p.env.advance_time(1).await;
    let logs = p.env.send(&[withdraw.clone()], &[&wallet]).await.unwrap();
    assert_eq!(events::<TokensUnlocked>(&logs)[0].amount, 60 * TOKEN);
    assert_eq!(p.env.token_balance(&own).await, 60 * TOKEN);
    assert_custom_error(p.env.send(&[withdraw.clone()], &[&wallet]).await, Aistm7Error::NothingToUnlock.into());

    // Unlocking the rest empties the lock, which closes.
    p.env.send(&[request_unlock_ix(&w, 90 * TOKEN)], &[&wallet]).await.unwrap();
    p.env.advance_time(86_400).await;
    let logs = p.env.send(&[withdraw], &[&wallet]).await.unwrap();
    assert!(events::<TokensUnlocked>(&logs)[0].closed);
    assert!(p.env.raw_account(&lock_pda(&w)).await.is_none());
    assert_eq!(p.env.token_balance(&own).await, 150 * TOKEN);
    let config: Config = p.env.account(&config_pda()).await.unwrap();
    assert_eq!(config.total_locked, 0);
}

#[tokio::test]
async fn an_unpriced_requirement_refuses_access() {
    let Initialized { mut env, mint, .. } = initialized().await;
    let (wallet, _) = env.wallet_with_lock(&mint, 10_000 * TOKEN, 10_000 * TOKEN).await;

    let result = env.send(&[verify_access_ix(&wallet.pubkey())], &[]).await;

    assert_custom_error(result, Aistm7Error::RequirementNotPriced.into());
}

#[tokio::test]
async fn the_emergency_override_applies_until_it_expires_or_is_cleared() {
    let mut p = priced().await;
    let (admin, guardian) = (p.keys[0].insecure_clone(), p.keys[1].insecure_clone());
    let (wallet, _) = p.wallet(150 * TOKEN, 150 * TOKEN).await;
    let wallet = wallet.pubkey();
    let now = p.env.clock().await.unix_timestamp;
    let set = |o: Option<RequirementOverride>| instruction::SetRequirementOverride {
        args: SetRequirementOverrideArgs { emergency_override: o },
    };
    let strict = RequirementOverride { amount: 200 * TOKEN, expires_at: now + 100 };

    let result = p.env.send(&[admin_ix(&guardian.pubkey(), set(Some(strict)))], &[&guardian]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    let expired = RequirementOverride { amount: 200 * TOKEN, expires_at: now };
    let result = p.env.send(&[admin_ix(&admin.pubkey(), set(Some(expired)))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidOverride.into());

    let logs = p.env.send(&[admin_ix(&admin.pubkey(), set(Some(strict)))], &[&admin]).await.unwrap();
    assert_eq!(events::<RequirementOverrideSet>(&logs)[0].new, Some(strict));
    assert_custom_error(p.verify(&wallet).await.result, Aistm7Error::InsufficientBalance.into());

    p.env.advance_time(100).await;
    p.verify(&wallet).await.result.expect("expired override: 100 tokens again");

    p.env.send(&[admin_ix(&admin.pubkey(), set(Some(RequirementOverride { amount: 200 * TOKEN, expires_at: now + 10_000 })))], &[&admin]).await.unwrap();
    let logs = p.env.send(&[admin_ix(&admin.pubkey(), set(None))], &[&admin]).await.unwrap();
    assert_eq!(events::<RequirementOverrideSet>(&logs)[0].new, None);
    let config: Config = p.env.account(&config_pda()).await.unwrap();
    assert_eq!(config.requirement.emergency_override, None);
    p.verify(&wallet).await.result.expect("cleared override");
}

#[tokio::test]
async fn the_guardian_pauses_crank_and_user_instructions() {
    let mut p = priced().await;
    let (admin, guardian) = (p.keys[0].insecure_clone(), p.keys[1].insecure_clone());
    let (wallet, _) = p.wallet(150 * TOKEN, 150 * TOKEN).await;
    let wallet = wallet.pubkey();
    let pause = |on: bool| instruction::SetPaused { paused: on };

    let result = p.env.send(&[admin_ix(&admin.pubkey(), pause(true))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    let logs = p.env.send(&[admin_ix(&guardian.pubkey(), pause(true))], &[&guardian]).await.unwrap();
    let event = &events::<PauseChanged>(&logs)[0];
    assert_eq!((event.old, event.new, event.guardian), (false, true, guardian.pubkey()));

    assert_custom_error(p.verify(&wallet).await.result, Aistm7Error::Paused.into());
    let feed = Keypair::new();
    let now = p.env.clock().await.unix_timestamp;
    p.env.write_price(&feed, price_args(PRIMARY_FEED, 10_000_000, now)).await;
    p.env.advance_time(61).await;
    assert_custom_error(p.env.send(&[refresh_ix(&feed.pubkey(), None)], &[]).await, Aistm7Error::Paused.into());

    p.env.send(&[admin_ix(&guardian.pubkey(), pause(false))], &[&guardian]).await.unwrap();
    p.verify(&wallet).await.result.expect("unpaused");
}

#[tokio::test]
async fn requirement_and_oracle_params_are_admin_only_and_checked() {
    let mut p = priced().await;
    let (admin, guardian) = (p.keys[0].insecure_clone(), p.keys[1].insecure_clone());
    let params = |args: SetRequirementParamsArgs| instruction::SetRequirementParams { args };
    let before: Config = p.env.account(&config_pda()).await.unwrap();

    let raise = SetRequirementParamsArgs { target_usd_micros: Some(30_000_000), ..Default::default() };
    let result = p.env.send(&[admin_ix(&guardian.pubkey(), params(raise.clone()))], &[&guardian]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    let inverted = SetRequirementParamsArgs { min_tokens: Some(20_000), ..Default::default() };
    let result = p.env.send(&[admin_ix(&admin.pubkey(), params(inverted))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidParameter.into());
    // Results must not outlive the tokens that backed them.
    let short_cooldown = SetRequirementParamsArgs { unlock_cooldown_secs: Some(3_599), ..Default::default() };
    let result = p.env.send(&[admin_ix(&admin.pubkey(), params(short_cooldown))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidParameter.into());
    let longer_pass = SetRequirementParamsArgs { pass_validity_secs: Some(86_401), ..Default::default() };
    let result = p.env.send(&[admin_ix(&admin.pubkey(), params(longer_pass))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidParameter.into());
    let same_feeds = SetOracleParamsArgs { backup_feed_id: Some(PRIMARY_FEED), ..Default::default() };
    let result = p
        .env
        .send(&[admin_ix(&admin.pubkey(), instruction::SetOracleParams { args: same_feeds })], &[&admin])
        .await;
    assert_custom_error(result, Aistm7Error::InvalidParameter.into());
    let unchanged: Config = p.env.account(&config_pda()).await.unwrap();
    assert_eq!(unchanged.requirement_params, before.requirement_params);
    assert_eq!(unchanged.oracle_params, before.oracle_params);

    let logs = p.env.send(&[admin_ix(&admin.pubkey(), params(raise))], &[&admin]).await.unwrap();
    let event = &events::<RequirementParamsUpdated>(&logs)[0];
    assert_eq!((event.old.target_usd_micros, event.new.target_usd_micros), (15_000_000, 30_000_000));
    assert_eq!(event.new.max_tokens, event.old.max_tokens);
}

#[tokio::test]
async fn config_instructions_refuse_wrong_signers_and_a_substituted_config() {
    let mut p = priced().await;
    let (admin, guardian) = (p.keys[0].insecure_clone(), p.keys[1].insecure_clone());
    let stranger = Keypair::new();
    // A copy of the real config at another address, owned by the program.
    let real = p.env.raw_account(&config_pda()).await.unwrap();
    let copy = Pubkey::new_unique();
    p.env.ctx.set_account(&copy, &real.clone().into());
    let admin_only: Vec<Vec<u8>> = vec![
        instruction::SetRequirementParams {
            args: SetRequirementParamsArgs { min_tokens: Some(50), ..Default::default() },
        }
        .data(),
        instruction::SetOracleParams {
            args: SetOracleParamsArgs { max_price_age_secs: Some(30), ..Default::default() },
        }
        .data(),
        instruction::SetRequirementOverride { args: SetRequirementOverrideArgs { emergency_override: None } }.data(),
        instruction::SetAuthorities { args: aistm7::SetAuthoritiesArgs::default() }.data(),
    ];
    let guardian_only: Vec<Vec<u8>> =
        vec![instruction::SetPaused { paused: true }.data(), instruction::ResetCircuitBreaker {}.data()];
    let cases = admin_only
        .iter()
        .map(|data| (data, &admin, &guardian))
        .chain(guardian_only.iter().map(|data| (data, &guardian, &admin)));
    for (data, right, other_role) in cases {
        for wrong in [&stranger, other_role] {
            let ix = Instruction {
                program_id: aistm7::ID,
                accounts: vec![AccountMeta::new_readonly(wrong.pubkey(), true), AccountMeta::new(config_pda(), false)],
                data: data.clone(),
            };
            assert_custom_error(p.env.send(&[ix], &[wrong]).await, Aistm7Error::Unauthorized.into());
        }
        let ix = Instruction {
            program_id: aistm7::ID,
            accounts: vec![AccountMeta::new_readonly(right.pubkey(), true), AccountMeta::new(copy, false)],
            data: data.clone(),
        };
        let result = p.env.send(&[ix], &[right]).await;
        assert_custom_error(result, anchor_lang::error::ErrorCode::ConstraintSeeds.into());
    }
    let after = p.env.raw_account(&config_pda()).await.unwrap();
    assert_eq!(after.data, real.data, "nothing changed");
}
