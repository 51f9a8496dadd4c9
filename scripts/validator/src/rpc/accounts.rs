//! Account reads: single, multiple, by program (with filters), balances and
//! SPL Token views.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde::Deserialize;
use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_accounts_db::accounts_index::ScanConfig;
use solana_pubkey::Pubkey;
use spl_token::solana_program::program_pack::Pack;

use super::{
    encoding::{encode_account, mint_decimals, token_amount, AccountConfig},
    parse, with_context, Params, RpcError, RpcResult,
};
use crate::chain::Chain;

/// agave's cap on `getMultipleAccounts`.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;

fn pubkey_param(params: &Params, index: usize, name: &str) -> Result<Pubkey, RpcError> {
    parse(&params.required::<String>(index, name)?, "pubkey")
}

fn encode_optional(account: Option<AccountSharedData>, config: &AccountConfig) -> RpcResult {
    match account {
        Some(account) => encode_account(&account, config),
        None => Ok(Value::Null),
    }
}

pub fn get_account_info(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "pubkey")?;
    let config: AccountConfig = params.optional(1, "config")?;
    let bank = chain.bank();
    Ok(with_context(bank.slot(), encode_optional(bank.get_account(&address), &config)?))
}

pub fn get_multiple_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let addresses: Vec<String> = params.required(0, "pubkeys")?;
    if addresses.len() > MAX_MULTIPLE_ACCOUNTS {
        return Err(RpcError::invalid_params(format!(
            "Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}"
        )));
    }
    let config: AccountConfig = params.optional(1, "config")?;
    let bank = chain.bank();
    let accounts = addresses
        .iter()
        .map(|text| encode_optional(bank.get_account(&parse(text, "pubkey")?), &config))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(with_context(bank.slot(), Value::Array(accounts)))
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
enum Filter {
    DataSize(usize),
    Memcmp(Memcmp),
}

#[derive(Deserialize, Debug)]
struct Memcmp {
    offset: usize,
    bytes: String,
    #[serde(default)]
    encoding: Option<String>,
}

impl Filter {
    fn compile(self) -> Result<Compiled, RpcError> {
        Ok(match self {
            Filter::DataSize(size) => Compiled::DataSize(size),
            Filter::Memcmp(Memcmp { offset, bytes, encoding }) => {
                let decoded = match encoding.as_deref() {
                    None | Some("base58") => bs58::decode(&bytes).into_vec().ok(),
                    Some("base64") => BASE64.decode(&bytes).ok(),
                    Some(other) => {
                        return Err(RpcError::invalid_params(format!("unknown memcmp encoding {other:?}")))
                    }
                };
                let decoded = decoded.ok_or_else(|| RpcError::invalid_params("Invalid param: memcmp bytes"))?;
                Compiled::Memcmp(offset, decoded)
            }
        })
    }
}

enum Compiled {
    DataSize(usize),
    Memcmp(usize, Vec<u8>),
}

impl Compiled {
    fn matches(&self, data: &[u8]) -> bool {
        match self {
            Compiled::DataSize(size) => data.len() == *size,
            Compiled::Memcmp(offset, bytes) => data
                .get(*offset..offset.saturating_add(bytes.len()))
                .is_some_and(|window| window == bytes.as_slice()),
        }
    }
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct ProgramAccountsConfig {
    #[serde(flatten)]
    account: AccountConfig,
    #[serde(default)]
    filters: Option<Vec<Filter>>,
    #[serde(default)]
    with_context: Option<bool>,
}

/// `[{pubkey, account}]` for every account owned by `owner` that passes `filters`.
fn keyed_accounts(
    chain: &Chain,
    owner: &Pubkey,
    filters: &[Compiled],
    config: &AccountConfig,
) -> Result<(u64, Vec<Value>), RpcError> {
    let bank = chain.bank();
    let found = bank
        .get_filtered_program_accounts(
            owner,
            |account| filters.iter().all(|filter| filter.matches(account.data())),
            &ScanConfig::default(),
        )
        .map_err(|e| RpcError::new(super::INTERNAL_ERROR, format!("account scan failed: {e}")))?;
    let mut keyed = found
        .iter()
        .map(|(pubkey, account)| {
            Ok(json!({ "pubkey": pubkey.to_string(), "account": encode_account(account, config)? }))
        })
        .collect::<Result<Vec<_>, RpcError>>()?;
    keyed.sort_by(|a, b| a["pubkey"].as_str().cmp(&b["pubkey"].as_str()));
    Ok((bank.slot(), keyed))
}

pub fn get_program_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let program = pubkey_param(params, 0, "programId")?;
    let config: ProgramAccountsConfig = params.optional(1, "config")?;
    let filters = config
        .filters
        .unwrap_or_default()
        .into_iter()
        .map(Filter::compile)
        .collect::<Result<Vec<_>, _>>()?;
    let (slot, keyed) = keyed_accounts(chain, &program, &filters, &config.account)?;
    Ok(if config.with_context.unwrap_or(false) {
        with_context(slot, Value::Array(keyed))
    } else {
        Value::Array(keyed)
    })
}

pub fn get_balance(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "pubkey")?;
    let bank = chain.bank();
    Ok(with_context(bank.slot(), json!(bank.get_balance(&address))))
}

pub fn get_token_account_balance(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "pubkey")?;
    let bank = chain.bank();
    let not_token = || RpcError::invalid_params("Invalid param: not a Token account");
    let account = bank.get_account(&address).ok_or_else(not_token)?;
    if *account.owner() != spl_token::ID {
        return Err(not_token());
    }
    let token = spl_token::state::Account::unpack(account.data()).map_err(|_| not_token())?;
    let decimals = bank
        .get_account(&token.mint)
        .as_ref()
        .and_then(mint_decimals)
        .ok_or_else(|| RpcError::invalid_params("Invalid param: mint could not be unpacked"))?;
    Ok(with_context(bank.slot(), token_amount(token.amount, decimals)))
}

pub fn get_token_supply(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "mint")?;
    let bank = chain.bank();
    let not_mint = || RpcError::invalid_params("Invalid param: not a Token mint");
    let account = bank.get_account(&address).ok_or_else(not_mint)?;
    if *account.owner() != spl_token::ID {
        return Err(not_mint());
    }
    let mint = spl_token::state::Mint::unpack(account.data()).map_err(|_| not_mint())?;
    Ok(with_context(bank.slot(), token_amount(mint.supply, mint.decimals)))
}

#[derive(Deserialize, Debug)]
#[serde(rename_all = "camelCase")]
enum TokenAccountsFilter {
    Mint(String),
    ProgramId(String),
}

pub fn get_token_accounts_by_owner(chain: &Chain, params: &Params) -> RpcResult {
    let owner = pubkey_param(params, 0, "owner")?;
    token_accounts_where(chain, params, vec![Compiled::Memcmp(32, owner.to_bytes().to_vec())])
}

/// Offset of an SPL Token account's `delegate` (a `COption<Pubkey>`: u32 tag, key).
const DELEGATE_OFFSET: usize = 72;

pub fn get_token_accounts_by_delegate(chain: &Chain, params: &Params) -> RpcResult {
    let delegate = pubkey_param(params, 0, "delegate")?;
    let mut some_delegate = 1u32.to_le_bytes().to_vec();
    some_delegate.extend_from_slice(&delegate.to_bytes());
    token_accounts_where(chain, params, vec![Compiled::Memcmp(DELEGATE_OFFSET, some_delegate)])
}

/// The token accounts matching `matches`, under the (mint | programId)
/// filter and config of params 1 and 2.
fn token_accounts_where(chain: &Chain, params: &Params, matches: Vec<Compiled>) -> RpcResult {
    let filter: TokenAccountsFilter = params.required(1, "filter")?;
    let config: AccountConfig = params.optional(2, "config")?;
    let mut filters = vec![Compiled::DataSize(spl_token::state::Account::LEN)];
    filters.extend(matches);
    match filter {
        TokenAccountsFilter::Mint(mint) => {
            let mint: Pubkey = parse(&mint, "mint")?;
            filters.push(Compiled::Memcmp(0, mint.to_bytes().to_vec()));
        }
        TokenAccountsFilter::ProgramId(program) => {
            let program: Pubkey = parse(&program, "program id")?;
            if program != spl_token::ID {
                return Err(RpcError::invalid_params("Invalid param: unrecognized Token program id"));
            }
        }
    }
    let (slot, keyed) = keyed_accounts(chain, &spl_token::ID, &filters, &config)?;
    Ok(with_context(slot, Value::Array(keyed)))
}
