use aistm7::{
    accounts, errors::Aistm7Error, events::AuthoritiesUpdated, instruction, state::Config,
    SetAuthoritiesArgs,
};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction};
use aistm7_tests::*;
use solana_keypair::Keypair;
use solana_signer::Signer;

fn set_authorities_ix(admin: &Pubkey, args: SetAuthoritiesArgs) -> Instruction {
    ix(
        aistm7::ID,
        accounts::SetAuthorities { admin: *admin, config: config_pda() },
        instruction::SetAuthorities { args },
    )
}

#[tokio::test]
async fn set_authorities_rejects_non_admin_signers() {
    let Initialized { mut env, keys, .. } = initialized().await;
    let before: Config = env.account(&config_pda()).await.unwrap();
    let intruder = Keypair::new();
    let args = SetAuthoritiesArgs { admin: Some(intruder.pubkey()), ..Default::default() };

    // A stranger, and the guardian (another authority), are both refused.
    for signer in [&intruder, &keys[1]] {
        let result = env.send(&[set_authorities_ix(&signer.pubkey(), args.clone())], &[signer]).await;
        assert_custom_error(result, Aistm7Error::Unauthorized.into());
    }

    let after: Config = env.account(&config_pda()).await.unwrap();
    assert_eq!(after.authorities, before.authorities);
}

#[tokio::test]
async fn set_authorities_rejects_default_key_and_keeps_state() {
    let Initialized { mut env, keys, .. } = initialized().await;
    let args = SetAuthoritiesArgs { rewarder: Some(Pubkey::default()), ..Default::default() };

    let result = env.send(&[set_authorities_ix(&keys[0].pubkey(), args)], &[&keys[0]]).await;

    assert_custom_error(result, Aistm7Error::InvalidAuthority.into());
    let config: Config = env.account(&config_pda()).await.unwrap();
    assert_eq!(config.authorities.rewarder, keys[4].pubkey());
}

#[tokio::test]
async fn admin_replaces_only_the_given_authorities() {
    let Initialized { mut env, keys, .. } = initialized().await;
    let before: Config = env.account(&config_pda()).await.unwrap();
    let new_keeper = Keypair::new();
    let new_admin = Keypair::new();
    let args = SetAuthoritiesArgs {
        admin: Some(new_admin.pubkey()),
        keeper: Some(new_keeper.pubkey()),
        ..Default::default()
    };

    let logs = env
        .send(&[set_authorities_ix(&keys[0].pubkey(), args)], &[&keys[0]])
        .await
        .expect("admin may set authorities");

    let after: Config = env.account(&config_pda()).await.unwrap();
    assert_eq!(after.authorities.admin, new_admin.pubkey());
    assert_eq!(after.authorities.keeper, new_keeper.pubkey());
    assert_eq!(after.authorities.guardian, before.authorities.guardian);
    assert_eq!(after.authorities.fee_collector, before.authorities.fee_collector);
    assert_eq!(after.authorities.rewarder, before.authorities.rewarder);
    let emitted = events::<AuthoritiesUpdated>(&logs);
    assert_eq!(emitted.len(), 1);
    assert_eq!(emitted[0].old, before.authorities);
    assert_eq!(emitted[0].new, after.authorities);

    // The old admin has lost the role.
    let args = SetAuthoritiesArgs { keeper: Some(keys[0].pubkey()), ..Default::default() };
    let result = env.send(&[set_authorities_ix(&keys[0].pubkey(), args)], &[&keys[0]]).await;
    assert_custom_error(result, Aistm7Error::Unauthorized.into());
}
