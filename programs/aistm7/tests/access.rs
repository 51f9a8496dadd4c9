use aistm7::{
    accounts,
    errors::Aistm7Error,
    events::{AccessVerified, PauseChanged, RequirementOverrideSet, RequirementParamsUpdated},
    instruction,
    state::{AccessPass, AccessResult, Config, RequirementOverride},
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
    let refresh = ix(
        aistm7::ID,
        accounts::RefreshRequirement { config: config_pda(), primary_price: feed.pubkey(), backup_price: None },
        instruction::RefreshRequirement {},
    );
    env.send(&[refresh], &[]).await.expect("price the requirement");
    Priced { env, keys, mint }
}

fn verify_ix(payer: &Pubkey, wallet: &Pubkey, token_accounts: &[Pubkey]) -> Instruction {
    let mut instruction = ix(
        aistm7::ID,
        accounts::VerifyAccess {
            payer: *payer,
            wallet: *wallet,
            config: config_pda(),
            access_pass: access_pda(wallet),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::VerifyAccess {},
    );
    instruction
        .accounts
        .extend(token_accounts.iter().map(|account| AccountMeta::new_readonly(*account, false)));
    instruction
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
    async fn verify(&mut self, wallet: &Pubkey, token_accounts: &[Pubkey]) -> Outcome {
        let payer = self.env.payer().pubkey();
        self.env.process(&[verify_ix(&payer, wallet, token_accounts)], &[]).await
    }
}

#[tokio::test]
async fn a_holder_with_enough_tokens_gets_a_pass_and_return_data() {
    let mut p = priced().await;
    let wallet = Keypair::new().pubkey();
    let a = p.env.create_token_account(&p.mint, &wallet, 60 * TOKEN).await;
    let b = p.env.create_token_account(&p.mint, &wallet, 40 * TOKEN).await;

    let outcome = p.verify(&wallet, &[a, b]).await;

    outcome.result.expect("100 tokens across two accounts meet 100 required");
    let now = p.env.clock().await.unix_timestamp;
    let pass: AccessPass = p.env.account(&access_pda(&wallet)).await.unwrap();
    assert_eq!((pass.wallet, pass.balance, pass.required), (wallet, 100 * TOKEN, 100 * TOKEN));
    assert_eq!(pass.valid_until, pass.checked_at + 3_600);
    assert!(pass.checked_at <= now);
    let (program, data) = outcome.return_data.expect("return data");
    assert_eq!(program, aistm7::ID);
    let result = AccessResult::deserialize(&mut data.as_slice()).unwrap();
    assert_eq!((result.wallet, result.balance, result.valid_until), (wallet, 100 * TOKEN, pass.valid_until));
    assert_eq!(events::<AccessVerified>(&outcome.logs)[0].balance, 100 * TOKEN);
}

#[tokio::test]
async fn too_few_tokens_fail_and_write_no_pass() {
    let mut p = priced().await;
    let wallet = Keypair::new().pubkey();
    let a = p.env.create_token_account(&p.mint, &wallet, 100 * TOKEN - 1).await;

    let outcome = p.verify(&wallet, &[a]).await;

    assert!(outcome.logs.iter().any(|l| l.contains(&format!("have {} need {}", 100 * TOKEN - 1, 100 * TOKEN))));
    assert_custom_error(outcome.result, Aistm7Error::InsufficientBalance.into());
    assert!(p.env.raw_account(&access_pda(&wallet)).await.is_none());
}

#[tokio::test]
async fn token_accounts_must_be_the_wallets_own_of_the_mint_once_each() {
    let mut p = priced().await;
    let wallet = Keypair::new().pubkey();
    let other_mint = p.env.create_mint(8).await;
    let own = p.env.create_token_account(&p.mint, &wallet, 500 * TOKEN).await;
    let foreign_mint = p.env.create_token_account(&other_mint, &wallet, 500 * TOKEN).await;
    let someone_elses = p.env.create_token_account(&p.mint, &Keypair::new().pubkey(), 500 * TOKEN).await;

    assert_custom_error(p.verify(&wallet, &[]).await.result, Aistm7Error::NoTokenAccounts.into());
    assert_custom_error(p.verify(&wallet, &[foreign_mint]).await.result, Aistm7Error::WrongMint.into());
    assert_custom_error(p.verify(&wallet, &[someone_elses]).await.result, Aistm7Error::WrongTokenOwner.into());
    assert_custom_error(p.verify(&wallet, &[own, own]).await.result, Aistm7Error::DuplicateTokenAccount.into());
    // A pass PDA of another wallet is refused by its seeds.
    let payer = p.env.payer().pubkey();
    let mut substituted = verify_ix(&payer, &wallet, &[own]);
    substituted.accounts[3].pubkey = access_pda(&Keypair::new().pubkey());
    let result = p.env.send(&[substituted], &[]).await;
    assert_custom_error(result, anchor_lang::error::ErrorCode::ConstraintSeeds.into());
    assert!(p.env.raw_account(&access_pda(&wallet)).await.is_none());
}

#[tokio::test]
async fn an_unpriced_requirement_refuses_access() {
    let Initialized { mut env, mint, .. } = initialized().await;
    let wallet = Keypair::new().pubkey();
    let own = env.create_token_account(&mint, &wallet, 10_000 * TOKEN).await;
    let payer = env.payer().pubkey();

    let result = env.send(&[verify_ix(&payer, &wallet, &[own])], &[]).await;

    assert_custom_error(result, Aistm7Error::RequirementNotPriced.into());
}

#[tokio::test]
async fn the_emergency_override_applies_until_it_expires_or_is_cleared() {
    let mut p = priced().await;
    let (admin, guardian) = (p.keys[0].insecure_clone(), p.keys[1].insecure_clone());
    let wallet = Keypair::new().pubkey();
    let own = p.env.create_token_account(&p.mint, &wallet, 150 * TOKEN).await;
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
    assert_custom_error(p.verify(&wallet, &[own]).await.result, Aistm7Error::InsufficientBalance.into());

    p.env.advance_time(100).await;
    p.verify(&wallet, &[own]).await.result.expect("expired override: 100 tokens again");

    p.env.send(&[admin_ix(&admin.pubkey(), set(Some(RequirementOverride { amount: 200 * TOKEN, expires_at: now + 10_000 })))], &[&admin]).await.unwrap();
    let logs = p.env.send(&[admin_ix(&admin.pubkey(), set(None))], &[&admin]).await.unwrap();
    assert_eq!(events::<RequirementOverrideSet>(&logs)[0].new, None);
    let config: Config = p.env.account(&config_pda()).await.unwrap();
    assert_eq!(config.requirement.emergency_override, None);
    p.verify(&wallet, &[own]).await.result.expect("cleared override");
}

#[tokio::test]
async fn the_guardian_pauses_crank_and_user_instructions() {
    let mut p = priced().await;
    let (admin, guardian) = (p.keys[0].insecure_clone(), p.keys[1].insecure_clone());
    let wallet = Keypair::new().pubkey();
    let own = p.env.create_token_account(&p.mint, &wallet, 150 * TOKEN).await;
    let pause = |on: bool| instruction::SetPaused { paused: on };

    let result = p.env.send(&[admin_ix(&admin.pubkey(), pause(true))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    let logs = p.env.send(&[admin_ix(&guardian.pubkey(), pause(true))], &[&guardian]).await.unwrap();
    let event = &events::<PauseChanged>(&logs)[0];
    assert_eq!((event.old, event.new, event.guardian), (false, true, guardian.pubkey()));

    assert_custom_error(p.verify(&wallet, &[own]).await.result, Aistm7Error::Paused.into());
    let feed = Keypair::new();
    let now = p.env.clock().await.unix_timestamp;
    p.env.write_price(&feed, price_args(PRIMARY_FEED, 10_000_000, now)).await;
    p.env.advance_time(61).await;
    let refresh = ix(
        aistm7::ID,
        accounts::RefreshRequirement { config: config_pda(), primary_price: feed.pubkey(), backup_price: None },
        instruction::RefreshRequirement {},
    );
    assert_custom_error(p.env.send(&[refresh], &[]).await, Aistm7Error::Paused.into());

    p.env.send(&[admin_ix(&guardian.pubkey(), pause(false))], &[&guardian]).await.unwrap();
    p.verify(&wallet, &[own]).await.result.expect("unpaused");
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
