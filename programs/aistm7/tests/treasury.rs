use aistm7::{errors::Aistm7Error, events::TreasuryDeposited};
use anchor_lang::{
    error::ErrorCode, AnchorDeserialize,
};
use aistm7_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

#[tokio::test]
async fn deposit_rejects_other_mints_owners_and_zero() {
    let Initialized { mut env, mint, .. } = initialized().await;
    let funder = Keypair::new();
    let stranger = Keypair::new();
    let other_mint = env.create_mint(8).await;
    let own = env.create_token_account(&mint, &funder.pubkey(), 1_000).await;
    let foreign_mint = env.create_token_account(&other_mint, &funder.pubkey(), 1_000).await;
    let not_own = env.create_token_account(&mint, &stranger.pubkey(), 1_000).await;

    let result = env.send(&[deposit_ix(&funder.pubkey(), &mint, &foreign_mint, 10)], &[&funder]).await;
    assert_custom_error(result, Aistm7Error::WrongMint.into());
    // Naming the other mint throughout points at a vault that does not exist.
    let result = env.send(&[deposit_ix(&funder.pubkey(), &other_mint, &foreign_mint, 10)], &[&funder]).await;
    assert_custom_error(result, ErrorCode::AccountNotInitialized.into());
    // A look-alike vault (same mint, not the PDA) is refused by its seeds.
    let mut substituted = deposit_ix(&funder.pubkey(), &mint, &own, 10);
    substituted.accounts[4].pubkey = not_own;
    let result = env.send(&[substituted], &[&funder]).await;
    assert_custom_error(result, ErrorCode::ConstraintSeeds.into());
    let result = env.send(&[deposit_ix(&funder.pubkey(), &mint, &not_own, 10)], &[&funder]).await;
    assert_custom_error(result, Aistm7Error::WrongTokenOwner.into());
    let result = env.send(&[deposit_ix(&funder.pubkey(), &mint, &own, 0)], &[&funder]).await;
    assert_custom_error(result, Aistm7Error::ZeroAmount.into());

    assert_eq!(env.token_balance(&own).await, 1_000);
    assert_eq!(env.token_balance(&not_own).await, 1_000);
    assert_eq!(env.token_balance(&treasury_pda(&mint)).await, 0);
}

#[tokio::test]
async fn deposit_moves_tokens_by_cpi_and_returns_the_balance() {
    let Initialized { mut env, mint, .. } = initialized().await;
    let funder = Keypair::new();
    let source = env.create_token_account(&mint, &funder.pubkey(), 50_000_000_000).await;

    let first = env.process(&[deposit_ix(&funder.pubkey(), &mint, &source, 10_000_000)], &[&funder]).await;
    first.result.expect("first deposit");
    let second = env.process(&[deposit_ix(&funder.pubkey(), &mint, &source, 5)], &[&funder]).await;
    second.result.expect("second deposit");

    assert_eq!(env.token_balance(&source).await, 50_000_000_000 - 10_000_005);
    assert_eq!(env.token_balance(&treasury_pda(&mint)).await, 10_000_005);
    // The SPL Token program ran as an inner instruction of ours.
    assert!(first.logs.iter().any(|l| l.starts_with(&format!("Program {} invoke [2]", anchor_spl::token::ID))));
    // Return data: the vault balance after the deposit, set by our program.
    let (program, data) = second.return_data.expect("return data");
    assert_eq!(program, aistm7::ID);
    assert_eq!(u64::deserialize(&mut data.as_slice()).unwrap(), 10_000_005);
    let emitted = events::<TreasuryDeposited>(&second.logs);
    assert_eq!(emitted.len(), 1);
    assert_eq!((emitted[0].funder, emitted[0].amount, emitted[0].balance), (funder.pubkey(), 5, 10_000_005));
}
