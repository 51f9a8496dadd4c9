use aistm7::{
    accounts, SetOracleParamsArgs,
    errors::Aistm7Error,
    events::{CircuitBreakerReset, CircuitBreakerTripped, RequirementUpdated},
    instruction,
    state::{Config, PriceSource, RequirementState},
};
use aistm7_tests::*;
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;

/// An initialized Bank with a primary and a backup price account.
struct Feeds {
    env: Env,
    keys: Vec<Keypair>,
    primary: Keypair,
    backup: Keypair,
}

/// The primary feed alone: no backup configured.
async fn feeds() -> Feeds {
    let mut f = feeds_with_backup().await;
    let admin = f.keys[0].insecure_clone();
    let args = SetOracleParamsArgs { backup_feed_id: Some([0; 32]), ..Default::default() };
    let set = ix(
        aistm7::ID,
        accounts::SetOracleParams { admin: admin.pubkey(), config: config_pda() },
        instruction::SetOracleParams { args },
    );
    f.env.send(&[set], &[&admin]).await.expect("remove the backup feed");
    f
}

/// `BACKUP_FEED` configured as the backup.
async fn feeds_with_backup() -> Feeds {
    let Initialized { env, keys, .. } = initialized().await;
    Feeds { env, keys, primary: Keypair::new(), backup: Keypair::new() }
}

impl Feeds {
    async fn now(&mut self) -> i64 {
        self.env.clock().await.unix_timestamp
    }

    async fn set_primary(&mut self, price: i64) {
        let now = self.now().await;
        let account = self.primary.insecure_clone();
        self.env.write_price(&account, price_args(PRIMARY_FEED, price, now)).await;
    }

    async fn refresh(&mut self) -> Result<Vec<String>, solana_transaction_error::TransactionError> {
        let ix = refresh_ix(&self.primary.pubkey(), None);
        self.env.send(&[ix], &[]).await
    }

    async fn requirement(&mut self) -> RequirementState {
        self.env.account::<Config>(&config_pda()).await.unwrap().requirement
    }
}

#[tokio::test]
async fn requirement_table_at_eight_decimals() {
    let rows = [
        (15_000_000, 10_000_000_000),      // $0.15 -> 100 tokens
        (10_000_000, 15_000_000_000),      // $0.10 -> 150 tokens
        (100_000, 1_000_000_000_000),      // $0.001 -> 10_000 tokens (cap)
        (100_000_000, 10_000_000_000),     // $1.00 -> 100 tokens (floor)
        (12_345_678, 12_150_000_997),      // 121.500009963... rounded up
    ];
    for (price, expected) in rows {
        let mut f = feeds().await;
        f.set_primary(price).await;

        let logs = f.refresh().await.expect("refresh");

        let state = f.requirement().await;
        assert_eq!(state.required, expected, "price {price}");
        assert_eq!((state.price, state.expo, state.source), (price, -8, PriceSource::Primary));
        let events = events::<RequirementUpdated>(&logs);
        assert_eq!(events.len(), 1);
        assert_eq!((events[0].old, events[0].new, events[0].feed), (0, expected, PRIMARY_FEED));
    }
}

#[tokio::test]
async fn a_move_below_the_threshold_changes_nothing_and_one_percent_applies() {
    let mut f = feeds().await;
    f.set_primary(15_000_000).await;
    f.refresh().await.expect("first price");
    f.env.advance_time(61).await;

    f.set_primary(15_148_500).await; // +0.99%
    assert_custom_error(f.refresh().await, Aistm7Error::BelowUpdateThreshold.into());
    assert_eq!(f.requirement().await.price, 15_000_000);

    f.set_primary(14_850_000).await; // -1.00%
    f.refresh().await.expect("a 1% move applies");
    let state = f.requirement().await;
    assert_eq!(state.price, 14_850_000);
    assert_eq!(state.required, 10_101_010_102);
}

#[tokio::test]
async fn updates_wait_for_the_minimum_interval() {
    let mut f = feeds().await;
    f.set_primary(15_000_000).await;
    f.refresh().await.expect("first price");

    f.env.advance_time(59).await;
    f.set_primary(10_000_000).await;
    assert_custom_error(f.refresh().await, Aistm7Error::UpdateTooSoon.into());
    assert_eq!(f.requirement().await.required, 10_000_000_000);

    f.env.advance_time(1).await;
    f.refresh().await.expect("after the interval");
    assert_eq!(f.requirement().await.required, 15_000_000_000);
}

#[tokio::test]
async fn every_bad_price_is_rejected_by_name_and_changes_nothing() {
    let mut f = feeds().await;
    let now = f.now().await;
    let good = price_args(PRIMARY_FEED, 15_000_000, now);
    let cases: Vec<(mock_pyth::WritePriceArgs, Aistm7Error)> = vec![
        (mock_pyth::WritePriceArgs { feed_id: BACKUP_FEED, ..good.clone() }, Aistm7Error::WrongFeedId),
        (mock_pyth::WritePriceArgs { partial_signatures: Some(5), ..good.clone() }, Aistm7Error::PartialVerification),
        (mock_pyth::WritePriceArgs { publish_time: now - 61, ..good.clone() }, Aistm7Error::StalePrice),
        (mock_pyth::WritePriceArgs { publish_time: now + 11, ..good.clone() }, Aistm7Error::FuturePrice),
        (mock_pyth::WritePriceArgs { posted_slot: Some(u64::MAX), ..good.clone() }, Aistm7Error::FuturePrice),
        (mock_pyth::WritePriceArgs { price: 0, ..good.clone() }, Aistm7Error::NonPositivePrice),
        (mock_pyth::WritePriceArgs { price: -15_000_000, ..good.clone() }, Aistm7Error::NonPositivePrice),
        (mock_pyth::WritePriceArgs { conf: 300_001, ..good.clone() }, Aistm7Error::ConfidenceTooWide),
        (mock_pyth::WritePriceArgs { ema_price: 14_200_000, ..good.clone() }, Aistm7Error::EmaDivergence),
    ];
    for (args, expected) in cases {
        let account = f.primary.insecure_clone();
        f.env.write_price(&account, args).await;
        assert_custom_error(f.refresh().await, expected.into());
        assert_eq!(f.requirement().await, RequirementState::UNPRICED, "{expected:?}");
    }

    // Not owned by the receiver program: an ordinary wallet account.
    let payer = f.env.payer().pubkey();
    let result = f.env.send(&[refresh_ix(&payer, None)], &[]).await;
    assert_custom_error(result, Aistm7Error::WrongPriceOwner.into());
    // Owned by the receiver but not a PriceUpdateV2.
    let bogus = Pubkey::new_unique();
    let mut account = solana_account::Account::new(1_000_000_000, 134, &mock_pyth::ID);
    account.data[0] = 1;
    f.env.ctx.set_account(&bogus, &account.into());
    let result = f.env.send(&[refresh_ix(&bogus, None)], &[]).await;
    assert_custom_error(result, Aistm7Error::MalformedPriceAccount.into());
    assert_eq!(f.requirement().await, RequirementState::UNPRICED);
}

#[tokio::test]
async fn the_backup_feed_prices_when_the_primary_is_unusable() {
    let mut f = feeds_with_backup().await;
    let now = f.now().await;
    let (primary, backup) = (f.primary.insecure_clone(), f.backup.insecure_clone());
    f.env.write_price(&primary, mock_pyth::WritePriceArgs { publish_time: now - 600, ..price_args(PRIMARY_FEED, 15_000_000, now) }).await;
    f.env.write_price(&backup, price_args(BACKUP_FEED, 10_000_000, now)).await;

    let logs = f.env.send(&[refresh_ix(&primary.pubkey(), Some(backup.pubkey()))], &[]).await.expect("backup");

    let state = f.requirement().await;
    assert_eq!((state.required, state.source), (15_000_000_000, PriceSource::Backup));
    let event = &events::<RequirementUpdated>(&logs)[0];
    assert_eq!((event.feed, event.source), (BACKUP_FEED, PriceSource::Backup));
}

#[tokio::test]
async fn diverging_feeds_trip_the_breaker_until_the_guardian_resets_it() {
    let mut f = feeds_with_backup().await;
    let now = f.now().await;
    let (primary, backup) = (f.primary.insecure_clone(), f.backup.insecure_clone());
    f.env.write_price(&primary, price_args(PRIMARY_FEED, 15_000_000, now)).await;
    f.env.write_price(&backup, price_args(BACKUP_FEED, 15_450_000, now)).await; // +3%
    let both = refresh_ix(&primary.pubkey(), Some(backup.pubkey()));

    let logs = f.env.send(&[both.clone()], &[]).await.expect("tripping succeeds");
    let tripped = &events::<CircuitBreakerTripped>(&logs)[0];
    assert_eq!(tripped.divergence_bps, 300);
    let state = f.requirement().await;
    assert!(state.breaker_tripped);
    assert_eq!(state.required, 0, "the requirement stays frozen");

    f.env.write_price(&backup, price_args(BACKUP_FEED, 15_000_000, now)).await;
    assert_custom_error(f.env.send(&[both.clone()], &[]).await, Aistm7Error::CircuitBreakerTripped.into());

    let reset = |guardian: &Pubkey| {
        ix(
            aistm7::ID,
            accounts::ResetCircuitBreaker { guardian: *guardian, config: config_pda() },
            instruction::ResetCircuitBreaker {},
        )
    };
    let admin = f.keys[0].insecure_clone();
    assert_custom_error(f.env.send(&[reset(&admin.pubkey())], &[&admin]).await, Aistm7Error::Unauthorized.into());
    let guardian = f.keys[1].insecure_clone();
    let logs = f.env.send(&[reset(&guardian.pubkey())], &[&guardian]).await.expect("guardian resets");
    assert_eq!(events::<CircuitBreakerReset>(&logs)[0].guardian, guardian.pubkey());
    assert_custom_error(
        f.env.send(&[reset(&guardian.pubkey())], &[&guardian]).await,
        Aistm7Error::CircuitBreakerNotTripped.into(),
    );

    f.env.send(&[both], &[]).await.expect("agreeing feeds price again");
    assert_eq!(f.requirement().await.required, 10_000_000_000);
}

#[tokio::test]
async fn a_substituted_config_is_refused() {
    let mut f = feeds().await;
    f.set_primary(15_000_000).await;
    let mut substituted = refresh_ix(&f.primary.pubkey(), None);
    // Any other account in the config slot fails Anchor's checks.
    substituted.accounts[0].pubkey = f.primary.pubkey();
    let result = f.env.send(&[substituted], &[]).await;
    assert_custom_error(result, anchor_lang::error::ErrorCode::AccountOwnedByWrongProgram.into());
    assert_eq!(f.requirement().await, RequirementState::UNPRICED);
}
