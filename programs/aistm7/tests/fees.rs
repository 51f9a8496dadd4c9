use aistm7::{
    accounts,
    constants::{SEED_CHARGE, SEED_FEES, SEED_FEE_DELEGATE},
    errors::Aistm7Error,
    events::{FeePaid, ServiceFeeSet},
    instruction,
    state::FeeSchedule,
    SetServiceFeeArgs,
};
use aistm7_tests::*;
use anchor_lang::prelude::Pubkey;
use solana_keypair::Keypair;
use solana_signer::Signer;

const DEFAULTS: [(&str, u64); 4] = [("search", 10_000_000), ("goal", 100_000_000), ("analysis", 50_000_000), ("notification", 5_000_000)];

struct Fees {
    env: Env,
    keys: Vec<Keypair>,
    mint: Pubkey,
}

/// Initialized, with the fee schedule holding the four default services.
async fn fees() -> Fees {
    let Initialized { mut env, keys, mint } = initialized().await;
    let admin = keys[0].insecure_clone();
    env.fund(&admin.pubkey(), 1_000_000_000).await;
    let init = ix(
        aistm7::ID,
        accounts::InitializeFeeSchedule {
            admin: admin.pubkey(),
            config: config_pda(),
            fee_schedule: pda(&[SEED_FEES]),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::InitializeFeeSchedule {},
    );
    env.send(&[init], &[&admin]).await.expect("fee schedule");
    for (name, cost) in DEFAULTS {
        env.send(&[set_fee_ix(&admin.pubkey(), new_service(name, cost))], &[&admin]).await.expect("service");
    }
    Fees { env, keys, mint }
}

impl Fees {
    async fn schedule(&mut self) -> FeeSchedule {
        self.env.account(&pda(&[SEED_FEES])).await.unwrap()
    }

    async fn user(&mut self, amount: u64) -> (Keypair, Pubkey) {
        let user = Keypair::new();
        let mint = self.mint;
        let account = self.env.create_token_account(&mint, &user.pubkey(), amount).await;
        (user, account)
    }
}

#[tokio::test]
async fn each_default_fee_moves_exactly_its_cost_to_the_treasury() {
    let mut f = fees().await;
    let (user, account) = f.user(1_000_000_000).await;
    let mut expected_balance = 1_000_000_000;
    for (name, cost) in DEFAULTS {
        let logs = f.env.send(&[pay_ix(&user.pubkey(), &f.mint, &account, name)], &[&user]).await.expect(name);
        expected_balance -= cost;
        assert_eq!(f.env.token_balance(&account).await, expected_balance, "{name}");
        let paid = &events::<FeePaid>(&logs)[0];
        assert_eq!((paid.payer, paid.service.as_str(), paid.amount, paid.charged_by), (user.pubkey(), name, cost, None));
    }
    assert_eq!(f.env.token_balance(&treasury_pda(&f.mint)).await, 165_000_000);
    let schedule = f.schedule().await;
    for (name, cost) in DEFAULTS {
        let service = schedule.services.iter().find(|s| s.name == name).unwrap();
        assert_eq!((service.count, service.total, service.terms.cost), (1, cost, cost));
    }
}

#[tokio::test]
async fn payments_are_refused_by_name_and_move_nothing() {
    let mut f = fees().await;
    let admin = f.keys[0].insecure_clone();
    let (user, account) = f.user(7_000_000).await;
    let (_, someone_elses) = f.user(1_000_000_000).await;
    let other_mint = f.env.create_mint(8).await;
    let foreign = f.env.create_token_account(&other_mint, &user.pubkey(), 1_000_000_000).await;
    f.env
        .send(&[set_fee_ix(&admin.pubkey(), SetServiceFeeArgs { name: "goal".into(), active: Some(false), ..Default::default() })], &[&admin])
        .await
        .unwrap();

    let cases = [
        (pay_ix(&user.pubkey(), &f.mint, &account, "translate"), Aistm7Error::UnknownService),
        (pay_ix(&user.pubkey(), &f.mint, &account, "goal"), Aistm7Error::ServiceInactive),
        (pay_ix(&user.pubkey(), &f.mint, &account, "search"), Aistm7Error::InsufficientFeeBalance),
        (pay_ix(&user.pubkey(), &f.mint, &someone_elses, "search"), Aistm7Error::WrongTokenOwner),
        (pay_ix(&user.pubkey(), &f.mint, &foreign, "search"), Aistm7Error::WrongMint),
    ];
    for (instruction, expected) in cases {
        assert_custom_error(f.env.send(&[instruction], &[&user]).await, expected.into());
    }
    assert_eq!(f.env.token_balance(&account).await, 7_000_000);
    assert_eq!(f.env.token_balance(&treasury_pda(&f.mint)).await, 0);
    assert!(f.schedule().await.services.iter().all(|s| s.count == 0));
}

#[tokio::test]
async fn time_windows_hold_at_their_boundaries() {
    let mut f = fees().await;
    let admin = f.keys[0].insecure_clone();
    let (user, account) = f.user(1_000_000_000).await;
    let now = f.env.clock().await.unix_timestamp;
    let window = SetServiceFeeArgs {
        name: "search".into(),
        valid_from: Some(now + 100),
        valid_to: Some(now + 200),
        ..Default::default()
    };
    let logs = f.env.send(&[set_fee_ix(&admin.pubkey(), window)], &[&admin]).await.unwrap();
    let set = &events::<ServiceFeeSet>(&logs)[0];
    assert_eq!((set.old.unwrap().valid_from < now + 100, set.new.valid_from, set.new.valid_to), (true, now + 100, now + 200));
    let pay = pay_ix(&user.pubkey(), &f.mint, &account, "search");

    f.env.advance_time(99).await;
    assert_custom_error(f.env.send(&[pay.clone()], &[&user]).await, Aistm7Error::ServiceNotYetValid.into());
    f.env.advance_time(1).await;
    f.env.send(&[pay.clone()], &[&user]).await.expect("valid from its first second");
    f.env.advance_time(99).await;
    f.env.send(&[pay.clone()], &[&user]).await.expect("valid in its last second");
    f.env.advance_time(1).await;
    assert_custom_error(f.env.send(&[pay], &[&user]).await, Aistm7Error::ServiceExpired.into());
    assert_eq!(f.env.token_balance(&account).await, 1_000_000_000 - 20_000_000);

    let inverted = SetServiceFeeArgs { name: "search".into(), valid_to: Some(now), ..Default::default() };
    let result = f.env.send(&[set_fee_ix(&admin.pubkey(), inverted)], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidServiceWindow.into());
}

#[tokio::test]
async fn the_collector_charges_an_allowance_once_per_request() {
    let mut f = fees().await;
    let collector = f.keys[3].insecure_clone();
    f.env.fund(&collector.pubkey(), 1_000_000_000).await;
    let (user, account) = f.user(1_000_000_000).await;
    let approve = spl_token::instruction::approve(&spl_token::ID, &account, &pda(&[SEED_FEE_DELEGATE]), &user.pubkey(), &[], 25_000_000).unwrap();
    f.env.send(&[approve], &[&user]).await.unwrap();

    let first = f.env.send(&[charge_ix(&collector.pubkey(), &f.mint, &account, "search", [1; 32])], &[&collector]).await.unwrap();
    let paid = &events::<FeePaid>(&first)[0];
    assert_eq!((paid.payer, paid.request_id, paid.charged_by), (user.pubkey(), [1; 32], Some(collector.pubkey())));
    let repeat = f.env.send(&[charge_ix(&collector.pubkey(), &f.mint, &account, "search", [1; 32])], &[&collector]).await;
    assert_custom_error(repeat, Aistm7Error::DuplicateRequest.into());
    f.env.send(&[charge_ix(&collector.pubkey(), &f.mint, &account, "search", [2; 32])], &[&collector]).await.unwrap();
    // 5_000_000 of the allowance left: a 0.1 token charge is too much.
    let exhausted = f.env.send(&[charge_ix(&collector.pubkey(), &f.mint, &account, "search", [3; 32])], &[&collector]).await;
    assert_custom_error(exhausted, Aistm7Error::AllowanceTooSmall.into());
    let stranger = Keypair::new();
    f.env.fund(&stranger.pubkey(), 1_000_000_000).await;
    let unauthorized = f.env.send(&[charge_ix(&stranger.pubkey(), &f.mint, &account, "notification", [4; 32])], &[&stranger]).await;
    assert_custom_error(unauthorized, Aistm7Error::Unauthorized.into());

    assert_eq!(f.env.token_balance(&account).await, 1_000_000_000 - 20_000_000);
    assert_eq!(f.env.token_balance(&treasury_pda(&f.mint)).await, 20_000_000);
    let search = f.schedule().await.services.into_iter().find(|s| s.name == "search").unwrap();
    assert_eq!((search.count, search.total), (2, 20_000_000));
}

#[tokio::test]
async fn the_schedule_holds_32_services_with_short_names_and_only_the_admin_sets_them() {
    let mut f = fees().await;
    let (admin, guardian) = (f.keys[0].insecure_clone(), f.keys[1].insecure_clone());
    let result = f.env.send(&[set_fee_ix(&guardian.pubkey(), new_service("x", 1))], &[&guardian]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
    let long = "n".repeat(33);
    let result = f.env.send(&[set_fee_ix(&admin.pubkey(), new_service(&long, 1))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::InvalidServiceName.into());
    let result = f.env.send(&[set_fee_ix(&admin.pubkey(), SetServiceFeeArgs { name: "new".into(), ..Default::default() })], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::MissingServiceCost.into());

    for n in DEFAULTS.len()..32 {
        let name = format!("service-{n:02}-{}", "x".repeat(21));
        f.env.send(&[set_fee_ix(&admin.pubkey(), new_service(&name, 1 + n as u64))], &[&admin]).await.expect("room for 32");
    }
    let result = f.env.send(&[set_fee_ix(&admin.pubkey(), new_service("one-too-many", 1))], &[&admin]).await;
    assert_custom_error(result, Aistm7Error::FeeScheduleFull.into());
    assert_eq!(f.schedule().await.services.len(), 32);
}

#[tokio::test]
async fn charges_refuse_other_mints_and_pauses_stop_fees() {
    let mut f = fees().await;
    let (collector, guardian) = (f.keys[3].insecure_clone(), f.keys[1].insecure_clone());
    f.env.fund(&collector.pubkey(), 1_000_000_000).await;
    let (user, account) = f.user(1_000_000_000).await;
    let other_mint = f.env.create_mint(8).await;
    let foreign = f.env.create_token_account(&other_mint, &user.pubkey(), 1_000_000_000).await;
    let approve = spl_token::instruction::approve(&spl_token::ID, &foreign, &pda(&[SEED_FEE_DELEGATE]), &user.pubkey(), &[], 1_000_000_000).unwrap();
    f.env.send(&[approve], &[&user]).await.unwrap();

    let result = f.env.send(&[charge_ix(&collector.pubkey(), &f.mint, &foreign, "search", [7; 32])], &[&collector]).await;
    assert_custom_error(result, Aistm7Error::WrongMint.into());

    let pause = |on: bool| {
        ix(aistm7::ID, accounts::SetPaused { guardian: guardian.pubkey(), config: config_pda() }, instruction::SetPaused { paused: on })
    };
    f.env.send(&[pause(true)], &[&guardian]).await.unwrap();
    let paid = f.env.send(&[pay_ix(&user.pubkey(), &f.mint, &account, "search")], &[&user]).await;
    assert_custom_error(paid, Aistm7Error::Paused.into());
    let charged = f.env.send(&[charge_ix(&collector.pubkey(), &f.mint, &account, "search", [8; 32])], &[&collector]).await;
    assert_custom_error(charged, Aistm7Error::Paused.into());
    f.env.send(&[pause(false)], &[&guardian]).await.unwrap();

    assert_eq!(f.env.token_balance(&account).await, 1_000_000_000);
    assert_eq!(f.env.token_balance(&foreign).await, 1_000_000_000);
    assert!(f.env.raw_account(&pda(&[SEED_CHARGE, &[7; 32]])).await.is_none(), "no receipt for a refused charge");
}
