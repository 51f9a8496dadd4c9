//! Accounts in agave's encodings (solana-account-decoder), with the mint
//! data a token account's jsonParsed form needs, as agave's RPC looks it up.

use solana_account::{AccountSharedData, ReadableAccount};
use solana_account_decoder::{
    encode_ui_account,
    parse_account_data::{AccountAdditionalDataV3, SplTokenAdditionalDataV2},
    parse_token::{get_token_account_mint, is_known_spl_token_id},
    UiAccount, UiAccountEncoding, UiDataSliceConfig, MAX_BASE58_BYTES,
};
use solana_pubkey::Pubkey;
use solana_rpc_client_api::config::RpcAccountInfoConfig;
use solana_runtime::bank::Bank;
use spl_token_2022::{
    extension::{
        interest_bearing_mint::InterestBearingConfig, scaled_ui_amount::ScaledUiAmountConfig, BaseStateWithExtensions,
        StateWithExtensions,
    },
    state::Mint,
};

use super::RpcError;

/// agave's check: base58 only for short data, and jsonParsed takes no slice
/// (it falls back to binary, which does).
fn check_encoding(account: &AccountSharedData, config: &RpcAccountInfoConfig) -> Result<(), RpcError> {
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
    if matches!(encoding, UiAccountEncoding::Binary | UiAccountEncoding::Base58) {
        let len = match config.data_slice {
            Some(UiDataSliceConfig { offset, length }) => account.data().len().saturating_sub(offset).min(length),
            None => account.data().len(),
        };
        if len > MAX_BASE58_BYTES {
            return Err(RpcError::invalid_params(format!(
                "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, please use Base64 encoding."
            )));
        }
    }
    Ok(())
}

/// `account` as `UiAccount` in the config's encoding (agave's default: binary).
pub fn encode_account(
    bank: &Bank,
    pubkey: &Pubkey,
    account: &AccountSharedData,
    config: &RpcAccountInfoConfig,
) -> Result<UiAccount, RpcError> {
    check_encoding(account, config)?;
    let encoding = config.encoding.unwrap_or(UiAccountEncoding::Binary);
    let additional = if encoding == UiAccountEncoding::JsonParsed && is_known_spl_token_id(account.owner()) {
        get_token_account_mint(account.data())
            .and_then(|mint| mint_data(bank, &mint))
            .map(|data| AccountAdditionalDataV3 { spl_token_additional_data: Some(data) })
    } else {
        None
    };
    Ok(encode_ui_account(pubkey, account, encoding, additional, config.data_slice))
}

/// Decimals and the amount-display extensions of `mint` (SPL Token or
/// Token-2022), at the bank's clock.
pub fn mint_data(bank: &Bank, mint: &Pubkey) -> Option<SplTokenAdditionalDataV2> {
    if *mint == spl_token::native_mint::ID || *mint == spl_token_2022::native_mint::ID {
        return Some(SplTokenAdditionalDataV2::with_decimals(spl_token::native_mint::DECIMALS));
    }
    let account = bank.get_account(mint)?;
    if !is_known_spl_token_id(account.owner()) {
        return None;
    }
    let state = StateWithExtensions::<Mint>::unpack(account.data()).ok()?;
    let now = bank.clock().unix_timestamp;
    Some(SplTokenAdditionalDataV2 {
        decimals: state.base.decimals,
        interest_bearing_config: state.get_extension::<InterestBearingConfig>().ok().map(|config| (*config, now)),
        scaled_ui_amount_config: state.get_extension::<ScaledUiAmountConfig>().ok().map(|config| (*config, now)),
    })
}
