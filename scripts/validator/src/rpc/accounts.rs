//! Account reads: single, multiple, by program (with agave's filters),
//! balances and the largest holders of lamports.

use serde_json::Value;
use solana_account::{AccountSharedData, ReadableAccount};
use solana_accounts_db::accounts_index::ScanConfig;
use solana_pubkey::Pubkey;
use solana_rpc_client_api::{
    config::{RpcAccountInfoConfig, RpcLargestAccountsConfig, RpcLargestAccountsFilter, RpcProgramAccountsConfig},
    filter::RpcFilterType,
    response::{RpcAccountBalance, RpcKeyedAccount},
};
use solana_runtime::{bank::Bank, non_circulating_supply::calculate_non_circulating_supply};

use super::{commitment, encoding::encode_account, parse, with_context, Params, RpcError, RpcResult, INTERNAL_ERROR};
use crate::chain::Chain;

/// agave's cap on `getMultipleAccounts`.
const MAX_MULTIPLE_ACCOUNTS: usize = 100;
/// How many accounts `getLargestAccounts` lists, as agave.
const LARGEST_ACCOUNTS: usize = 20;

pub fn pubkey_param(params: &Params, index: usize, name: &str) -> Result<Pubkey, RpcError> {
    parse(&params.required::<String>(index, name)?, "pubkey")
}

fn encode_optional(
    bank: &Bank,
    pubkey: &Pubkey,
    account: Option<AccountSharedData>,
    config: &RpcAccountInfoConfig,
) -> Result<Value, RpcError> {
    match account {
        Some(account) => super::to_value(encode_account(bank, pubkey, &account, config)?),
        None => Ok(Value::Null),
    }
}

pub fn get_account_info(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "pubkey")?;
    let config: RpcAccountInfoConfig = params.optional(1, "config")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    with_context(bank.slot(), encode_optional(&bank, &address, bank.get_account(&address), &config)?)
}

pub fn get_multiple_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let addresses: Vec<String> = params.required(0, "pubkeys")?;
    if addresses.len() > MAX_MULTIPLE_ACCOUNTS {
        return Err(RpcError::invalid_params(format!("Too many inputs provided; max {MAX_MULTIPLE_ACCOUNTS}")));
    }
    let config: RpcAccountInfoConfig = params.optional(1, "config")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let accounts = addresses
        .iter()
        .map(|text| {
            let address = parse(text, "pubkey")?;
            encode_optional(&bank, &address, bank.get_account(&address), &config)
        })
        .collect::<Result<Vec<_>, _>>()?;
    with_context(bank.slot(), accounts)
}

/// agave's filter checks (sizes, encodings) before any scan.
pub fn verified(filters: Option<Vec<RpcFilterType>>) -> Result<Vec<RpcFilterType>, RpcError> {
    let filters = filters.unwrap_or_default();
    for filter in &filters {
        filter.verify().map_err(|e| RpcError::invalid_params(format!("Invalid param: {e:?}")))?;
    }
    Ok(filters)
}

/// Accounts owned by `owner` that pass every filter, by address.
/// `RpcFilterType::allows` is what agave's `solana_rpc::filter::filter_allows`
/// does (that crate is the whole RPC service); it is deprecated only to move.
#[allow(deprecated)]
pub fn scan(bank: &Bank, owner: &Pubkey, filters: &[RpcFilterType]) -> Result<Vec<(Pubkey, AccountSharedData)>, RpcError> {
    let mut found = bank
        .get_filtered_program_accounts(owner, |account| filters.iter().all(|f| f.allows(account)), &ScanConfig::default())
        .map_err(|e| RpcError::new(INTERNAL_ERROR, format!("account scan failed: {e}")))?;
    found.sort_unstable_by_key(|(pubkey, _)| *pubkey);
    Ok(found)
}

/// `[{pubkey, account}]` in the config's encoding.
pub fn keyed(
    bank: &Bank,
    accounts: &[(Pubkey, AccountSharedData)],
    config: &RpcAccountInfoConfig,
) -> Result<Vec<RpcKeyedAccount>, RpcError> {
    accounts
        .iter()
        .map(|(pubkey, account)| {
            Ok(RpcKeyedAccount { pubkey: pubkey.to_string(), account: encode_account(bank, pubkey, account, config)? })
        })
        .collect()
}

pub fn get_program_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let program = pubkey_param(params, 0, "programId")?;
    let config: RpcProgramAccountsConfig = params.optional(1, "config")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let filters = verified(config.filters)?;
    let found = keyed(&bank, &scan(&bank, &program, &filters)?, &config.account_config)?;
    if config.with_context.unwrap_or(false) {
        with_context(bank.slot(), found)
    } else {
        super::to_value(found)
    }
}

pub fn get_balance(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "pubkey")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    with_context(bank.slot(), bank.get_balance(&address))
}

/// The 20 accounts with the most lamports, circulating or not as asked.
pub fn get_largest_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let config: RpcLargestAccountsConfig = params.optional(0, "config")?;
    let bank = commitment::bank(chain, params.raw(0))?;
    let non_circulating = calculate_non_circulating_supply(&bank)
        .map_err(|e| RpcError::new(INTERNAL_ERROR, format!("scanning accounts: {e}")))?
        .accounts;
    let wanted = |key: &Pubkey| match config.filter {
        None => true,
        Some(RpcLargestAccountsFilter::Circulating) => !non_circulating.contains(key),
        Some(RpcLargestAccountsFilter::NonCirculating) => non_circulating.contains(key),
    };
    let mut balances: Vec<(Pubkey, u64)> = bank
        .get_all_accounts(false)
        .map_err(|e| RpcError::new(INTERNAL_ERROR, format!("scanning accounts: {e}")))?
        .into_iter()
        .filter(|(key, account, _)| account.lamports() > 0 && wanted(key))
        .map(|(key, account, _)| (key, account.lamports()))
        .collect();
    balances.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    balances.truncate(LARGEST_ACCOUNTS);
    let largest: Vec<RpcAccountBalance> = balances
        .into_iter()
        .map(|(key, lamports)| RpcAccountBalance { address: key.to_string(), lamports })
        .collect();
    with_context(bank.slot(), largest)
}
