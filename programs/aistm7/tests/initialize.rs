use aistm7::{errors::Aistm7Error, events::ConfigInitialized, state::Config};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::error::InstructionError};
use aistm7_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;
use solana_transaction_error::TransactionError;

#[tokio::test]
async fn initialize_creates_config_and_treasury_once() {
    let mut env = Env::start().await;
    let keys: Vec<Keypair> = (0..5).map(|_| Keypair::new()).collect();
    let authorities = authorities_of(&[&keys[0], &keys[1], &keys[2], &keys[3], &keys[4]]);
    let mint = env.create_mint(8).await;
    let payer = env.payer();

    let logs = env
        .send(&[initialize_ix(&payer.pubkey(), &mint, default_initialize_args(authorities))], &[])
        .await
        .expect("initialize");

    let config: Config = env.account(&config_pda()).await.expect("config exists");
    assert_eq!(config.authorities, authorities);
    assert_eq!(config.mint, mint);
    assert_eq!(config.treasury_vault, treasury_pda(&mint));
    assert_eq!(config.bump, Pubkey::find_program_address(&[b"config"], &aistm7::ID).1);
    assert_eq!(env.token_balance(&treasury_pda(&mint)).await, 0);
    let vault: anchor_spl::token::TokenAccount = env.account(&treasury_pda(&mint)).await.unwrap();
    assert_eq!(vault.owner, config_pda());
    assert_eq!(vault.mint, mint);

    let emitted = events::<ConfigInitialized>(&logs);
    assert_eq!(emitted.len(), 1);
    assert_eq!(emitted[0].authorities, authorities);
    assert_eq!(emitted[0].mint, mint);
    assert_eq!((config.token_info.name.as_str(), config.token_info.symbol.as_str()), ("AISTM7 Token", "AISTM7"));
    assert_eq!(emitted[0].token_info, config.token_info);

    // A second initialize cannot take over the existing config.
    let (other, other_guardian) = (Keypair::new(), Keypair::new());
    let hijack = authorities_of(&[&other, &other_guardian, &other, &other, &other]);
    let err = env
        .send(&[initialize_ix(&payer.pubkey(), &mint, default_initialize_args(hijack))], &[])
        .await
        .unwrap_err();
    // The system program refuses to create an account that already exists.
    assert_eq!(err, TransactionError::InstructionError(0, InstructionError::Custom(0)));
    let config: Config = env.account(&config_pda()).await.unwrap();
    assert_eq!(config.authorities, authorities);
}

#[tokio::test]
async fn initialize_rejects_a_default_authority() {
    let mut env = Env::start().await;
    let (key, guardian) = (Keypair::new(), Keypair::new());
    let mut authorities = authorities_of(&[&key, &guardian, &key, &key, &key]);
    authorities.keeper = Pubkey::default();
    let mint = env.create_mint(8).await;
    let payer = env.payer();

    let result = env
        .send(&[initialize_ix(&payer.pubkey(), &mint, default_initialize_args(authorities))], &[])
        .await;

    assert_custom_error(result, Aistm7Error::InvalidAuthority.into());
    assert!(env.raw_account(&config_pda()).await.is_none());
}

#[tokio::test]
async fn initialize_rejects_an_empty_or_long_symbol() {
    let mut env = Env::start().await;
    let key = Keypair::new();
    let mint = env.create_mint(8).await;
    let payer = env.payer();
    let guardian = Keypair::new();
    for symbol in ["", "ELEVENCHARS"] {
        let mut args = default_initialize_args(authorities_of(&[&key, &guardian, &key, &key, &key]));
        args.token_info.symbol = symbol.into();
        let result = env.send(&[initialize_ix(&payer.pubkey(), &mint, args)], &[]).await;
        assert_custom_error(result, Aistm7Error::InvalidParameter.into());
    }
    assert!(env.raw_account(&config_pda()).await.is_none());
}
