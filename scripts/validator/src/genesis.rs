//! The first Bank: genesis (faucet, one bootstrap validator, every feature
//! active), the SPL programs solana-program-test bundles, our programs as
//! native builtins, and the accounts given with `--account`.

use std::{sync::Arc, time::Duration};

use solana_account::AccountSharedData;
use solana_fee_calculator::FeeRateGovernor;
use solana_builtins::prototype::BuiltinPrototype;
use solana_genesis_config::{ClusterType, GenesisConfig};
use solana_keypair::Keypair;
use solana_poh_config::PohConfig;
use solana_program_runtime::loaded_programs::ProgramCacheEntry;
use solana_program_test::{processor, programs};
use solana_pubkey::Pubkey;
use solana_rent::Rent;
use solana_runtime::{
    bank::Bank, genesis_utils::create_genesis_config_with_leader_ex, runtime_config::RuntimeConfig,
};
use solana_signer::Signer;

host_hooks::native_entry!(aistm7_entry, aistm7::entry);
host_hooks::native_entry!(mock_pyth_entry, mock_pyth::entry);

const LAMPORTS_PER_SOL: u64 = 1_000_000_000;
/// What the faucet (the genesis mint) holds for `requestAirdrop`.
const FAUCET_LAMPORTS: u64 = 500_000_000 * LAMPORTS_PER_SOL;
/// Fee per signature, as on mainnet.
const LAMPORTS_PER_SIGNATURE: u64 = 5_000;

/// Build the genesis bank. `slot_duration` sets the clock: the bank's
/// `unix_timestamp` advances by this much per slot.
/// Returns the bank, its genesis config and the faucet keypair.
pub fn genesis_bank(
    accounts: Vec<(Pubkey, AccountSharedData)>,
    slot_duration: Duration,
) -> (Bank, GenesisConfig, Keypair) {
    install_syscall_stubs();

    let rent = Rent::default();
    let faucet = Keypair::new();
    let fee_rate_governor = FeeRateGovernor {
        lamports_per_signature: LAMPORTS_PER_SIGNATURE,
        ..FeeRateGovernor::default()
    };
    let mut genesis = create_genesis_config_with_leader_ex(
        FAUCET_LAMPORTS,
        &faucet.pubkey(),
        &Pubkey::new_unique(),
        &Keypair::new().pubkey(),
        &Pubkey::new_unique(),
        1_000_001 * LAMPORTS_PER_SOL,
        42,
        fee_rate_governor,
        rent.clone(),
        ClusterType::Development,
        accounts.clone(),
    );
    genesis.poh_config = PohConfig::new_sleep(slot_duration / genesis.ticks_per_slot as u32);

    let bank = Bank::new_with_paths(
        &genesis,
        Arc::new(RuntimeConfig::default()),
        Vec::new(),
        None,
        None,
        false,
        None,
        None,
        None,
        Arc::default(),
        None,
        None,
    );
    for (program_id, account) in programs::spl_programs(&rent) {
        bank.store_account(&program_id, &account);
    }
    for (program_id, account) in
        programs::core_bpf_programs(&rent, |feature| genesis.accounts.contains_key(feature))
    {
        bank.store_account(&program_id, &account);
    }
    for native in natives() {
        let cache_entry = ProgramCacheEntry::new_builtin(0, native.name.len(), native.entrypoint);
        bank.add_builtin(native.program_id, native.name, cache_entry);
    }
    // `--account` files win over anything stored above, as with solana-test-validator.
    for (address, account) in &accounts {
        bank.store_account(address, account);
    }
    bank.set_capitalization();
    (bank, genesis, faucet)
}

/// Our programs as native builtins: added to the genesis bank, and handed to
/// a bank restored from a snapshot (whose program cache starts empty).
pub fn natives() -> Vec<BuiltinPrototype> {
    let native = |program_id, name, entrypoint: Option<_>| BuiltinPrototype {
        core_bpf_migration_config: None,
        enable_feature_id: None,
        program_id,
        name,
        entrypoint: entrypoint.expect("processor! always yields a function"),
    };
    vec![
        native(aistm7::ID, "aistm7", processor!(aistm7_entry)),
        native(mock_pyth::ID, "mock_pyth", processor!(mock_pyth_entry)),
    ]
}

/// solana-program-test installs the syscall stubs native programs call
/// (logs, CPI, sysvars, return data) only when it starts a bank of its own:
/// start a throwaway one once, then route the host hooks to the stubs.
pub fn install_syscall_stubs() {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async {
        let mut test = solana_program_test::ProgramTest::default();
        test.prefer_bpf(false);
        drop(test.start().await);
    });
    drop(runtime);
    host_hooks::install();
    // Starting it also installed solana-logger at debug level for the runtime;
    // RUST_LOG chooses the level, otherwise only warnings are printed.
    if std::env::var_os("RUST_LOG").is_none() {
        log::set_max_level(log::LevelFilter::Warn);
    }
}
