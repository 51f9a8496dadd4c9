use aistm7_tests::*;
use mock_pyth::WritePriceArgs;
use pyth_solana_receiver_sdk::price_update::{PriceUpdateV2, VerificationLevel};
use solana_keypair::Keypair;
use solana_signer::Signer;

fn args(price: i64, partial_signatures: Option<u8>) -> WritePriceArgs {
    WritePriceArgs {
        feed_id: [7; 32],
        price,
        conf: 1_500,
        exponent: -8,
        publish_time: 1_700_000_000,
        prev_publish_time: 1_699_999_999,
        ema_price: 14_900_000,
        ema_conf: 1_600,
        partial_signatures,
        posted_slot: Some(42),
    }
}

/// A Bank with one price account written by the payer at $0.15.
async fn with_price_account() -> (Env, Keypair, Keypair) {
    let mut env = Env::start().await;
    let payer = env.payer();
    let account = Keypair::new();
    env.send(&[write_price_ix(&payer.pubkey(), &account.pubkey(), args(15_000_000, None))], &[&account])
        .await
        .expect("create");
    (env, payer, account)
}

#[tokio::test]
async fn writes_price_update_v2_bytes_at_the_documented_offsets() {
    let (mut env, payer, account) = with_price_account().await;

    let raw = env.raw_account(&account.pubkey()).await.unwrap();
    assert_eq!(raw.owner, pyth_solana_receiver_sdk::ID);
    assert_eq!(raw.data.len(), PriceUpdateV2::LEN);
    let d = &raw.data;
    assert_eq!(&d[0..8], &[0x22, 0xf1, 0x23, 0x63, 0x9d, 0x7e, 0xf4, 0xcd]);
    assert_eq!(&d[8..40], payer.pubkey().as_ref());
    assert_eq!(d[40], 1, "Full verification is the one-byte variant 1");
    assert_eq!(&d[41..73], &[7; 32]);
    let i64_at = |o: usize| i64::from_le_bytes(d[o..o + 8].try_into().unwrap());
    assert_eq!(i64_at(73), 15_000_000);
    assert_eq!(i64_at(81), 1_500);
    assert_eq!(i32::from_le_bytes(d[89..93].try_into().unwrap()), -8);
    assert_eq!(i64_at(93), 1_700_000_000);
    assert_eq!(i64_at(101), 1_699_999_999);
    assert_eq!(i64_at(109), 14_900_000);
    assert_eq!(i64_at(117), 1_600);
    assert_eq!(i64_at(125), 42);

    // Overwrite, as a partially verified update (shifts what follows by one byte).
    env.send(&[write_price_ix(&payer.pubkey(), &account.pubkey(), args(16_000_000, Some(5)))], &[&account])
        .await
        .expect("overwrite");
    let update: PriceUpdateV2 = env.account(&account.pubkey()).await.unwrap();
    assert_eq!(update.verification_level, VerificationLevel::Partial { num_signatures: 5 });
    assert_eq!(update.price_message.price, 16_000_000);
}

#[tokio::test]
async fn only_the_write_authority_overwrites() {
    let (mut env, _, account) = with_price_account().await;
    let intruder = Keypair::new();
    env.fund(&intruder.pubkey(), 1_000_000_000).await;

    let result = env
        .send(&[write_price_ix(&intruder.pubkey(), &account.pubkey(), args(1, None))], &[&intruder, &account])
        .await;

    assert_custom_error(result, mock_pyth::MockPythError::WrongWriteAuthority.into());
    let update: PriceUpdateV2 = env.account(&account.pubkey()).await.unwrap();
    assert_eq!(update.price_message.price, 15_000_000);
}
