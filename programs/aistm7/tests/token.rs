use aistm7::{
    accounts,
    constants::{SEED_LINK, SEED_REWARD_VAULT},
    errors::Aistm7Error,
    events::{RewardPaid, TokensMinted, WalletLinked, WalletUnlinked},
    instruction,
    state::{Config, WalletLink},
};
use aistm7_tests::*;
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;

const TOKEN: u64 = 100_000_000;

#[tokio::test]
async fn admin_mints_through_the_program_pda_up_to_the_max_supply() {
    let Initialized { mut env, keys, mint } = initialized().await;
    let admin = keys[0].insecure_clone();
    let holder = env.create_token_account(&mint, &Keypair::new().pubkey(), 0).await;

    let result = env.send(&[mint_to_ix(&admin.pubkey(), &mint, &holder, TOKEN)], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::MintAuthorityNotProgram.into());

    env.hand_mint_authority_to_program(&mint).await;

    let stranger = Keypair::new();
    let result = env.send(&[mint_to_ix(&stranger.pubkey(), &mint, &holder, TOKEN)], &[&stranger]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    let max = default_token_params().max_supply;
    let logs = env.send(&[mint_to_ix(&admin.pubkey(), &mint, &holder, max - 1)], &[&admin]).await.unwrap();
    assert_eq!(events::<TokensMinted>(&logs)[0].supply, max - 1);
    let result = env.send(&[mint_to_ix(&admin.pubkey(), &mint, &holder, 2)], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::MaxSupplyExceeded.into());
    env.send(&[mint_to_ix(&admin.pubkey(), &mint, &holder, 1)], &[&admin]).await.expect("up to the cap exactly");
    assert_eq!(env.token_balance(&holder).await, max);
}

#[tokio::test]
async fn rewards_are_paid_by_the_rewarder_within_the_daily_cap() {
    let Initialized { mut env, keys, mint } = initialized().await;
    let (admin, rewarder) = (keys[0].insecure_clone(), keys[4].insecure_clone());
    let admin_tokens = env.create_token_account(&mint, &admin.pubkey(), 5_000 * TOKEN).await;
    let vault = vault_pda(SEED_REWARD_VAULT, &mint);
    let fund = ix(
        aistm7::ID,
        accounts::FundRewards {
            admin: admin.pubkey(),
            config: config_pda(),
            mint,
            source: admin_tokens,
            reward_vault: vault,
            token_program: anchor_spl::token::ID,
        },
        instruction::FundRewards { amount: 2_500 * TOKEN },
    );
    env.send(&[fund], &[&admin]).await.unwrap();
    assert_eq!(env.token_balance(&vault).await, 2_500 * TOKEN);
    let user = env.create_token_account(&mint, &Keypair::new().pubkey(), 0).await;
    let reward = |signer: &Pubkey, amount: u64| {
        ix(
            aistm7::ID,
            accounts::DistributeReward {
                rewarder: *signer,
                config: config_pda(),
                mint,
                reward_vault: vault,
                recipient_token: user,
                token_program: anchor_spl::token::ID,
            },
            instruction::DistributeReward { reward_type: 2, amount },
        )
    };

    assert_custom_error(env.send(&[reward(&admin.pubkey(), TOKEN)], &[&admin]).await, Aistm7Error::Unauthorized.into());
    env.send(&[reward(&rewarder.pubkey(), 600 * TOKEN)], &[&rewarder]).await.unwrap();
    let logs = env.send(&[reward(&rewarder.pubkey(), 400 * TOKEN)], &[&rewarder]).await.expect("exactly at the cap");
    assert_eq!(events::<RewardPaid>(&logs)[0].paid_today, 1_000 * TOKEN);
    assert_custom_error(env.send(&[reward(&rewarder.pubkey(), 1)], &[&rewarder]).await, Aistm7Error::RewardCapExceeded.into());
    assert_eq!(env.token_balance(&user).await, 1_000 * TOKEN);

    env.advance_time(86_400).await;
    env.send(&[reward(&rewarder.pubkey(), 1_000 * TOKEN)], &[&rewarder]).await.expect("a new day");
    env.advance_time(86_400).await;
    let result = env.send(&[reward(&rewarder.pubkey(), 600 * TOKEN)], &[&rewarder]).await;
    assert_custom_error(result, Aistm7Error::RewardVaultInsufficient.into());
    let config: Config = env.account(&config_pda()).await.unwrap();
    assert_eq!(config.rewards.paid_total, 2_000 * TOKEN);
    assert_eq!(env.token_balance(&vault).await, 500 * TOKEN);
}

#[tokio::test]
async fn a_wallet_links_to_one_user_at_a_time() {
    let Initialized { mut env, .. } = initialized().await;
    let wallet = Keypair::new();
    env.fund(&wallet.pubkey(), 1_000_000_000).await;
    let link = pda(&[SEED_LINK, wallet.pubkey().as_ref()]);

    let logs = env.send(&[link_ix(&wallet.pubkey(), [9; 32])], &[&wallet]).await.unwrap();
    assert_eq!(events::<WalletLinked>(&logs)[0].user_ref, [9; 32]);
    let stored: WalletLink = env.account(&link).await.unwrap();
    assert_eq!((stored.wallet, stored.user_ref), (wallet.pubkey(), [9; 32]));
    let again = env.send(&[link_ix(&wallet.pubkey(), [8; 32])], &[&wallet]).await;
    assert_custom_error(again, Aistm7Error::WalletAlreadyLinked.into());

    let other = Keypair::new();
    env.fund(&other.pubkey(), 1_000_000_000).await;
    let hijack = env.send(&[unlink_ix(&other.pubkey(), &link)], &[&other]).await;
    assert_custom_error(hijack, anchor_lang::error::ErrorCode::ConstraintSeeds.into());

    let before = env.ctx.banks_client.get_balance(wallet.pubkey()).await.unwrap();
    let logs = env.send(&[unlink_ix(&wallet.pubkey(), &link)], &[&wallet]).await.unwrap();
    assert_eq!(events::<WalletUnlinked>(&logs)[0].user_ref, [9; 32]);
    assert!(env.raw_account(&link).await.is_none());
    assert!(env.ctx.banks_client.get_balance(wallet.pubkey()).await.unwrap() > before, "rent returned");
    env.send(&[link_ix(&wallet.pubkey(), [8; 32])], &[&wallet]).await.expect("relink after unlinking");
}

#[tokio::test]
async fn token_admin_instructions_refuse_other_signers_owners_and_mints() {
    let Initialized { mut env, keys, mint } = initialized().await;
    let (admin, rewarder) = (keys[0].insecure_clone(), keys[4].insecure_clone());
    let stranger = Keypair::new();
    let strangers_tokens = env.create_token_account(&mint, &stranger.pubkey(), 100 * TOKEN).await;
    let admin_tokens = env.create_token_account(&mint, &admin.pubkey(), 100 * TOKEN).await;
    let other_mint = env.create_mint(8).await;
    let foreign = env.create_token_account(&other_mint, &Keypair::new().pubkey(), 0).await;
    let vault = vault_pda(SEED_REWARD_VAULT, &mint);
    let fund = |signer: &Pubkey, source: Pubkey| {
        ix(
            aistm7::ID,
            accounts::FundRewards { admin: *signer, config: config_pda(), mint, source, reward_vault: vault, token_program: anchor_spl::token::ID },
            instruction::FundRewards { amount: 10 * TOKEN },
        )
    };
    assert_custom_error(env.send(&[fund(&stranger.pubkey(), strangers_tokens)], &[&stranger]).await, Aistm7Error::Unauthorized.into());
    assert_custom_error(env.send(&[fund(&admin.pubkey(), strangers_tokens)], &[&admin]).await, Aistm7Error::WrongTokenOwner.into());
    env.send(&[fund(&admin.pubkey(), admin_tokens)], &[&admin]).await.unwrap();

    let reward = ix(
        aistm7::ID,
        accounts::DistributeReward {
            rewarder: rewarder.pubkey(),
            config: config_pda(),
            mint,
            reward_vault: vault,
            recipient_token: foreign,
            token_program: anchor_spl::token::ID,
        },
        instruction::DistributeReward { reward_type: 0, amount: TOKEN },
    );
    assert_custom_error(env.send(&[reward], &[&rewarder]).await, Aistm7Error::WrongMint.into());
    let params = ix(
        aistm7::ID,
        accounts::SetTokenParams { admin: stranger.pubkey(), config: config_pda() },
        instruction::SetTokenParams { args: aistm7::SetTokenParamsArgs { max_supply: Some(1), ..Default::default() } },
    );
    assert_custom_error(env.send(&[params], &[&stranger]).await, Aistm7Error::Unauthorized.into());

    assert_eq!(env.token_balance(&vault).await, 10 * TOKEN);
    assert_eq!(env.token_balance(&strangers_tokens).await, 100 * TOKEN);
    let config: Config = env.account(&config_pda()).await.unwrap();
    assert_eq!(config.token_params, default_token_params());
}
