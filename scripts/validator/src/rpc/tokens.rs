//! SPL Token and Token-2022 views: balances, supply, accounts by owner or
//! delegate, largest holders. Amounts are agave's `UiTokenAmount`.

use solana_account::ReadableAccount;
use solana_account_decoder::parse_token::{is_known_spl_token_id, token_amount_to_ui_amount_v3};
use solana_pubkey::Pubkey;
use solana_rpc_client_api::{
    config::{RpcAccountInfoConfig, RpcTokenAccountsFilter},
    filter::{Memcmp, RpcFilterType},
    response::RpcTokenAccountBalance,
};
use solana_runtime::bank::Bank;
use spl_token_2022::{
    extension::StateWithExtensions,
    state::{Account, Mint},
};

use super::{
    accounts::{keyed, pubkey_param, scan},
    commitment,
    encoding::mint_data,
    parse, with_context, Params, RpcError, RpcResult,
};
use crate::chain::Chain;

/// How many holders `getTokenLargestAccounts` lists, as agave.
const LARGEST_TOKEN_ACCOUNTS: usize = 20;
/// Offsets in a token account (both programs): mint, owner, delegate option.
const OWNER_OFFSET: usize = 32;
const DELEGATE_OFFSET: usize = 72;

fn token_account(bank: &Bank, address: &Pubkey) -> Result<Account, RpcError> {
    let not_token = || RpcError::invalid_params("Invalid param: not a Token account");
    let account = bank.get_account(address).ok_or_else(not_token)?;
    if !is_known_spl_token_id(account.owner()) {
        return Err(not_token());
    }
    StateWithExtensions::<Account>::unpack(account.data()).map(|state| state.base).map_err(|_| not_token())
}

fn decimals_of(bank: &Bank, mint: &Pubkey) -> Result<solana_account_decoder::parse_account_data::SplTokenAdditionalDataV2, RpcError> {
    mint_data(bank, mint).ok_or_else(|| RpcError::invalid_params("Invalid param: mint could not be unpacked"))
}

pub fn get_token_account_balance(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "pubkey")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let token = token_account(&bank, &address)?;
    let amount = token_amount_to_ui_amount_v3(token.amount, &decimals_of(&bank, &token.mint)?);
    with_context(bank.slot(), amount)
}

pub fn get_token_supply(chain: &Chain, params: &Params) -> RpcResult {
    let address = pubkey_param(params, 0, "mint")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let not_mint = || RpcError::invalid_params("Invalid param: not a Token mint");
    let account = bank.get_account(&address).ok_or_else(not_mint)?;
    if !is_known_spl_token_id(account.owner()) {
        return Err(not_mint());
    }
    let mint = StateWithExtensions::<Mint>::unpack(account.data()).map_err(|_| not_mint())?;
    let supply = token_amount_to_ui_amount_v3(mint.base.supply, &decimals_of(&bank, &address)?);
    with_context(bank.slot(), supply)
}

fn memcmp(offset: usize, bytes: Vec<u8>) -> RpcFilterType {
    RpcFilterType::Memcmp(Memcmp::new_raw_bytes(offset, bytes))
}

pub fn get_token_accounts_by_owner(chain: &Chain, params: &Params) -> RpcResult {
    let owner = pubkey_param(params, 0, "owner")?;
    token_accounts_where(chain, params, memcmp(OWNER_OFFSET, owner.to_bytes().to_vec()))
}

pub fn get_token_accounts_by_delegate(chain: &Chain, params: &Params) -> RpcResult {
    let delegate = pubkey_param(params, 0, "delegate")?;
    let mut some_delegate = 1u32.to_le_bytes().to_vec();
    some_delegate.extend_from_slice(&delegate.to_bytes());
    token_accounts_where(chain, params, memcmp(DELEGATE_OFFSET, some_delegate))
}

/// The token program `filter` names (a mint names its owner), and the mint if any.
fn token_program(bank: &Bank, filter: RpcTokenAccountsFilter) -> Result<(Pubkey, Option<Pubkey>), RpcError> {
    match filter {
        RpcTokenAccountsFilter::Mint(mint) => {
            let mint: Pubkey = parse(&mint, "mint")?;
            let owner = bank
                .get_account(&mint)
                .map(|account| *account.owner())
                .filter(is_known_spl_token_id)
                .ok_or_else(|| RpcError::invalid_params("Invalid param: could not find mint"))?;
            Ok((owner, Some(mint)))
        }
        RpcTokenAccountsFilter::ProgramId(program) => {
            let program: Pubkey = parse(&program, "program id")?;
            if !is_known_spl_token_id(&program) {
                return Err(RpcError::invalid_params("Invalid param: unrecognized Token program id"));
            }
            Ok((program, None))
        }
    }
}

/// The token accounts matching `matches`, under the (mint | programId)
/// filter and config of params 1 and 2.
fn token_accounts_where(chain: &Chain, params: &Params, matches: RpcFilterType) -> RpcResult {
    let filter: RpcTokenAccountsFilter = params.required(1, "filter")?;
    let config: RpcAccountInfoConfig = params.optional(2, "config")?;
    let bank = commitment::bank(chain, params.raw(2))?;
    let (program, mint) = token_program(&bank, filter)?;
    let mut filters = vec![RpcFilterType::TokenAccountState, matches];
    if let Some(mint) = mint {
        filters.push(memcmp(0, mint.to_bytes().to_vec()));
    }
    let found = keyed(&bank, &scan(&bank, &program, &filters)?, &config)?;
    with_context(bank.slot(), found)
}

pub fn get_token_largest_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let mint = pubkey_param(params, 0, "mint")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let (program, _) = token_program(&bank, RpcTokenAccountsFilter::Mint(mint.to_string()))?;
    let decimals = decimals_of(&bank, &mint)?;
    let filters = [RpcFilterType::TokenAccountState, memcmp(0, mint.to_bytes().to_vec())];
    let mut holders: Vec<(Pubkey, u64)> = scan(&bank, &program, &filters)?
        .into_iter()
        .filter_map(|(key, account)| Some((key, StateWithExtensions::<Account>::unpack(account.data()).ok()?.base.amount)))
        .collect();
    holders.sort_unstable_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    holders.truncate(LARGEST_TOKEN_ACCOUNTS);
    let largest: Vec<RpcTokenAccountBalance> = holders
        .into_iter()
        .map(|(key, amount)| RpcTokenAccountBalance {
            address: key.to_string(),
            amount: token_amount_to_ui_amount_v3(amount, &decimals),
        })
        .collect();
    with_context(bank.slot(), largest)
}
