//! A Bank with aistm7, mock_pyth and SPL Token, plus helpers to send
//! transactions and read accounts, events and errors back.

use anchor_lang::{
    prelude::Pubkey,
    solana_program::{instruction::Instruction, program_pack::Pack},
    AccountDeserialize,
    AnchorDeserialize, Discriminator, InstructionData, ToAccountMetas,
};
use anchor_spl::token::TokenAccount;
use solana_keypair::Keypair;
use solana_program_test::{
    processor, BanksTransactionResultWithMetadata, ProgramTest,
    ProgramTestContext,
};
use solana_signer::Signer;
use solana_transaction::Transaction;
use solana_transaction_error::TransactionError;

use aistm7::{
    accounts,
    constants::*,
    instruction,
    state::{Authorities, OracleParams, RequirementParams, TokenInfo, TokenParams},
    InitializeArgs,
};
use anchor_lang::prelude::Clock;
use mock_pyth::WritePriceArgs;

pub mod builders;
pub mod buyback_env;
pub mod world;

pub use builders::*;

host_hooks::native_entry!(aistm7_entry, aistm7::entry);
host_hooks::native_entry!(mock_pyth_entry, mock_pyth::entry);

/// What processing a transaction produced.
pub struct Outcome {
    pub result: Result<(), TransactionError>,
    pub logs: Vec<String>,
    pub return_data: Option<(Pubkey, Vec<u8>)>,
}

pub struct Env {
    pub ctx: ProgramTestContext,
}

pub fn config_pda() -> Pubkey {
    Pubkey::find_program_address(&[SEED_CONFIG], &aistm7::ID).0
}

pub fn lock_pda(wallet: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[SEED_LOCK, wallet.as_ref()], &aistm7::ID).0
}

pub const PRIMARY_FEED: [u8; 32] = [0xA1; 32];
pub const BACKUP_FEED: [u8; 32] = [0xB2; 32];

pub fn default_requirement_params() -> RequirementParams {
    RequirementParams {
        target_usd_micros: DEFAULT_TARGET_USD_MICROS,
        min_tokens: DEFAULT_MIN_TOKENS,
        max_tokens: DEFAULT_MAX_TOKENS,
        update_threshold_bps: DEFAULT_UPDATE_THRESHOLD_BPS,
        min_update_interval_secs: DEFAULT_MIN_UPDATE_INTERVAL_SECS,
        pass_validity_secs: DEFAULT_PASS_VALIDITY_SECS,
        unlock_cooldown_secs: DEFAULT_UNLOCK_COOLDOWN_SECS,
    }
}

/// Default guard rails on `PRIMARY_FEED`, with `BACKUP_FEED` as backup.
pub fn default_oracle_params() -> OracleParams {
    OracleParams {
        primary_feed_id: PRIMARY_FEED,
        backup_feed_id: BACKUP_FEED,
        max_price_age_secs: DEFAULT_MAX_PRICE_AGE_SECS,
        max_confidence_bps: DEFAULT_MAX_CONFIDENCE_BPS,
        max_ema_divergence_bps: DEFAULT_MAX_EMA_DIVERGENCE_BPS,
        max_feed_divergence_bps: DEFAULT_MAX_FEED_DIVERGENCE_BPS,
    }
}

/// One billion tokens of 8 decimals at most; 1,000 tokens of rewards a day.
pub fn default_token_params() -> TokenParams {
    TokenParams { max_supply: 1_000_000_000 * 100_000_000, reward_daily_cap: 1_000 * 100_000_000 }
}

pub fn default_initialize_args(authorities: Authorities) -> InitializeArgs {
    InitializeArgs {
        authorities,
        requirement_params: default_requirement_params(),
        oracle_params: default_oracle_params(),
        token_params: default_token_params(),
        token_info: TokenInfo { name: "AISTM7 Token".into(), symbol: "AISTM7".into() },
    }
}

/// A fresh, tight price update of `feed` at `price` (expo -8), published `now`.
pub fn price_args(feed: [u8; 32], price: i64, now: i64) -> WritePriceArgs {
    WritePriceArgs {
        feed_id: feed,
        price,
        conf: 0,
        exponent: -8,
        publish_time: now,
        prev_publish_time: now - 1,
        ema_price: price,
        ema_conf: 0,
        partial_signatures: None,
        posted_slot: None,
    }
}

pub fn write_price_ix(authority: &Pubkey, price_update: &Pubkey, args: WritePriceArgs) -> Instruction {
    ix(
        mock_pyth::ID,
        mock_pyth::accounts::WritePrice {
            authority: *authority,
            price_update: *price_update,
            system_program: anchor_lang::system_program::ID,
        },
        mock_pyth::instruction::WritePrice { args },
    )
}

pub fn vault_pda(seed: &[u8], mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[seed, mint.as_ref()], &aistm7::ID).0
}

pub fn pda(seeds: &[&[u8]]) -> Pubkey {
    Pubkey::find_program_address(seeds, &aistm7::ID).0
}

pub fn treasury_pda(mint: &Pubkey) -> Pubkey {
    Pubkey::find_program_address(&[SEED_TREASURY, mint.as_ref()], &aistm7::ID).0
}

pub fn authorities_of(keys: &[&Keypair; 5]) -> Authorities {
    Authorities {
        admin: keys[0].pubkey(),
        guardian: keys[1].pubkey(),
        keeper: keys[2].pubkey(),
        fee_collector: keys[3].pubkey(),
        rewarder: keys[4].pubkey(),
    }
}

impl Env {
    pub async fn start() -> Self {
        let mut test = ProgramTest::default();
        test.prefer_bpf(false);
        test.add_program("aistm7", aistm7::ID, processor!(aistm7_entry));
        test.add_program("mock_pyth", mock_pyth::ID, processor!(mock_pyth_entry));
        let ctx = test.start_with_context().await;
        host_hooks::install();
        Env { ctx }
    }

    pub async fn clock(&mut self) -> Clock {
        self.ctx.banks_client.get_sysvar::<Clock>().await.unwrap()
    }

    /// Move the cluster clock forward by `seconds`.
    pub async fn advance_time(&mut self, seconds: i64) {
        let mut clock = self.clock().await;
        clock.unix_timestamp += seconds;
        self.ctx.set_sysvar(&clock);
    }

    /// Write (create or overwrite) the price account `account` with `args`.
    pub async fn write_price(&mut self, account: &Keypair, args: WritePriceArgs) {
        let payer = self.payer();
        self.send(&[write_price_ix(&payer.pubkey(), &account.pubkey(), args)], &[account])
            .await
            .expect("write price");
    }

    pub fn payer(&self) -> Keypair {
        self.ctx.payer.insecure_clone()
    }

    /// Sign with the payer and `signers` and process; logs are normalised
    /// (`Program data:` lines as on-chain) and returned with the return data.
    pub async fn process(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Outcome {
        // A fresh blockhash each time, so repeating an instruction is a new transaction.
        let blockhash = self.ctx.get_new_latest_blockhash().await.unwrap();
        let payer = self.payer();
        let mut all: Vec<&Keypair> = vec![&payer];
        all.extend_from_slice(signers);
        let tx = Transaction::new_signed_with_payer(instructions, Some(&payer.pubkey()), &all, blockhash);
        let BanksTransactionResultWithMetadata { result, metadata } = self
            .ctx
            .banks_client
            .process_transaction_with_metadata(tx)
            .await
            .unwrap();
        // No metadata: the transaction was refused before it ran.
        let (logs, return_data) = match metadata {
            Some(m) => (
                host_hooks::normalize_logs(&m.log_messages),
                m.return_data.map(|r| (r.program_id, r.data)),
            ),
            None => (Vec::new(), None),
        };
        Outcome { result, logs, return_data }
    }

    /// Process and return the logs, or the transaction error.
    pub async fn send(&mut self, instructions: &[Instruction], signers: &[&Keypair]) -> Result<Vec<String>, TransactionError> {
        let outcome = self.process(instructions, signers).await;
        outcome.result.map(|()| outcome.logs)
    }

    pub async fn account<T: AccountDeserialize>(&mut self, address: &Pubkey) -> Option<T> {
        let account = self.ctx.banks_client.get_account(*address).await.unwrap()?;
        Some(T::try_deserialize(&mut account.data.as_slice()).unwrap())
    }

    pub async fn raw_account(&mut self, address: &Pubkey) -> Option<solana_account::Account> {
        self.ctx.banks_client.get_account(*address).await.unwrap()
    }

    pub async fn token_balance(&mut self, address: &Pubkey) -> u64 {
        let account: TokenAccount = self.account(address).await.expect("token account");
        account.amount
    }

    pub async fn fund(&mut self, to: &Pubkey, lamports: u64) {
        let ix = anchor_lang::solana_program::system_instruction::transfer(
            &self.ctx.payer.pubkey(),
            to,
            lamports,
        );
        self.send(&[ix], &[]).await.unwrap();
    }

    /// The instruction creating `address`: rent-exempt, `space` bytes, owned by `program`.
    async fn create_owned(&mut self, address: &Pubkey, space: usize, program: &Pubkey) -> Instruction {
        let rent = self.ctx.banks_client.get_rent().await.unwrap();
        anchor_lang::solana_program::system_instruction::create_account(
            &self.ctx.payer.pubkey(),
            address,
            rent.minimum_balance(space),
            space as u64,
            program,
        )
    }

    /// Make the program's PDA the mint authority of `mint` (the payer's until then).
    pub async fn hand_mint_authority_to_program(&mut self, mint: &Pubkey) {
        let payer = self.ctx.payer.pubkey();
        let handover = spl_token::instruction::set_authority(
            &spl_token::ID,
            mint,
            Some(&pda(&[SEED_MINT_AUTHORITY])),
            spl_token::instruction::AuthorityType::MintTokens,
            &payer,
            &[],
        )
        .unwrap();
        self.send(&[handover], &[]).await.unwrap();
    }

    /// A new mint with `decimals`, minted by the payer.
    pub async fn create_mint(&mut self, decimals: u8) -> Pubkey {
        self.create_mint_with(&spl_token::ID, decimals, None).await
    }

    /// A new mint of the token `program` (SPL Token or Token-2022, whose base
    /// instructions share one layout), minted by the payer.
    pub async fn create_mint_with(&mut self, program: &Pubkey, decimals: u8, freeze_authority: Option<&Pubkey>) -> Pubkey {
        let mint = Keypair::new();
        let payer = self.ctx.payer.pubkey();
        let mut init = spl_token::instruction::initialize_mint2(&spl_token::ID, &mint.pubkey(), &payer, freeze_authority, decimals)
            .unwrap();
        init.program_id = *program;
        let ixs = [self.create_owned(&mint.pubkey(), spl_token::state::Mint::LEN, program).await, init];
        self.send(&ixs, &[&mint]).await.unwrap();
        mint.pubkey()
    }

    /// A token account of `mint` owned by `owner` holding `amount` (minted by the payer).
    pub async fn create_token_account(&mut self, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
        self.create_token_account_with(&spl_token::ID, mint, owner, amount).await
    }

    /// `create_token_account` under the token `program`.
    pub async fn create_token_account_with(&mut self, program: &Pubkey, mint: &Pubkey, owner: &Pubkey, amount: u64) -> Pubkey {
        let account = Keypair::new();
        let payer = self.ctx.payer.pubkey();
        let mut init = spl_token::instruction::initialize_account3(&spl_token::ID, &account.pubkey(), mint, owner).unwrap();
        init.program_id = *program;
        let mut ixs = vec![self.create_owned(&account.pubkey(), spl_token::state::Account::LEN, program).await, init];
        if amount > 0 {
            let mut mint_to = spl_token::instruction::mint_to(&spl_token::ID, mint, &account.pubkey(), &payer, &[], amount).unwrap();
            mint_to.program_id = *program;
            ixs.push(mint_to);
        }
        self.send(&ixs, &[&account]).await.unwrap();
        account.pubkey()
    }
}

/// Build an Anchor instruction from its accounts struct and data.
pub fn ix(program_id: Pubkey, accounts: impl ToAccountMetas, data: impl InstructionData) -> Instruction {
    Instruction {
        program_id,
        accounts: accounts.to_account_metas(None),
        data: data.data(),
    }
}

/// Every event of type `E` in the logs, in order.
pub fn events<E: AnchorDeserialize + Discriminator>(logs: &[String]) -> Vec<E> {
    use base64::Engine as _;
    logs.iter()
        .filter_map(|line| line.strip_prefix("Program data: "))
        .filter_map(|data| base64::engine::general_purpose::STANDARD.decode(data).ok())
        .filter(|bytes| bytes.starts_with(E::DISCRIMINATOR))
        .map(|bytes| E::deserialize(&mut &bytes[E::DISCRIMINATOR.len()..]).unwrap())
        .collect()
}

/// Assert that a transaction failed with the custom program error `code`.
pub fn assert_custom_error<T: std::fmt::Debug>(result: Result<T, TransactionError>, code: u32) {
    use anchor_lang::solana_program::instruction::error::InstructionError;
    match result {
        Err(TransactionError::InstructionError(_, InstructionError::Custom(got))) => {
            assert_eq!(got, code, "wrong custom error")
        }
        other => panic!("expected custom error {code}, got {other:?}"),
    }
}

/// `initialize` as the deployer sends it on a native validator (no program data).
pub fn initialize_ix(initializer: &Pubkey, mint: &Pubkey, args: InitializeArgs) -> Instruction {
    ix(
        aistm7::ID,
        accounts::Initialize {
            initializer: *initializer,
            config: config_pda(),
            mint: *mint,
            treasury_vault: treasury_pda(mint),
            reward_vault: vault_pda(SEED_REWARD_VAULT, mint),
            buyback_vault: vault_pda(SEED_BUYBACK_VAULT, mint),
            lock_vault: vault_pda(SEED_LOCK_VAULT, mint),
            program: aistm7::ID,
            program_data: None,
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        instruction::Initialize { args },
    )
}

/// A started Bank with an initialized config: `keys` are admin, guardian,
/// keeper, fee collector and rewarder, in that order.
pub struct Initialized {
    pub env: Env,
    pub keys: Vec<Keypair>,
    pub mint: Pubkey,
}

pub async fn initialized() -> Initialized {
    let mut env = Env::start().await;
    let keys: Vec<Keypair> = (0..5).map(|_| Keypair::new()).collect();
    let authorities = authorities_of(&[&keys[0], &keys[1], &keys[2], &keys[3], &keys[4]]);
    let mint = env.create_mint(8).await;
    let payer = env.payer();
    env.send(&[initialize_ix(&payer.pubkey(), &mint, default_initialize_args(authorities))], &[])
        .await
        .expect("initialize");
    Initialized { env, keys, mint }
}

impl Env {
    /// A funded wallet with a token account holding `amount`, of which `locked` is locked.
    pub async fn wallet_with_lock(&mut self, mint: &Pubkey, amount: u64, locked: u64) -> (Keypair, Pubkey) {
        let wallet = Keypair::new();
        self.fund(&wallet.pubkey(), 1_000_000_000).await;
        let account = self.create_token_account(mint, &wallet.pubkey(), amount).await;
        if locked > 0 {
            self.send(&[lock_tokens_ix(&wallet.pubkey(), mint, &account, locked)], &[&wallet]).await.expect("lock");
        }
        (wallet, account)
    }
}
