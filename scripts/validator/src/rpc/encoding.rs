//! Account and binary encodings as agave's RPC writes them.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde::Deserialize;
use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_pubkey::Pubkey;
use spl_token::solana_program::program_pack::Pack;

use super::RpcError;

/// Longest account data agave encodes as base-58.
const MAX_BASE58_BYTES: usize = 128;

#[derive(Deserialize, Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Encoding {
    #[serde(rename = "base58")]
    Base58,
    #[default]
    #[serde(rename = "base64")]
    Base64,
    #[serde(rename = "base64+zstd")]
    Base64Zstd,
    #[serde(rename = "jsonParsed")]
    JsonParsed,
    /// Transactions only.
    #[serde(rename = "json")]
    Json,
}

#[derive(Deserialize, Clone, Copy, Debug)]
pub struct DataSlice {
    pub offset: usize,
    pub length: usize,
}

/// The `config` object most account methods take.
#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
pub struct AccountConfig {
    #[serde(default)]
    pub encoding: Option<Encoding>,
    #[serde(default)]
    pub data_slice: Option<DataSlice>,
}

pub fn encode_bytes(bytes: &[u8], encoding: Encoding) -> Result<Value, RpcError> {
    Ok(match encoding {
        Encoding::Base58 => {
            if bytes.len() > MAX_BASE58_BYTES {
                return Err(RpcError::invalid_params(format!(
                    "Encoded binary (base 58) data should be less than {MAX_BASE58_BYTES} bytes, please use Base64 encoding."
                )));
            }
            json!([bs58::encode(bytes).into_string(), "base58"])
        }
        Encoding::Base64Zstd => {
            let compressed = zstd::encode_all(bytes, 0)
                .map_err(|e| RpcError::new(super::INTERNAL_ERROR, format!("zstd: {e}")))?;
            json!([BASE64.encode(compressed), "base64+zstd"])
        }
        Encoding::Base64 | Encoding::JsonParsed | Encoding::Json => json!([BASE64.encode(bytes), "base64"]),
    })
}

/// `UiAccount` JSON of `account` in `encoding`, optionally sliced.
pub fn encode_account(account: &AccountSharedData, config: &AccountConfig) -> Result<Value, RpcError> {
    let encoding = config.encoding.unwrap_or_default();
    let full = account.data();
    let data = match config.data_slice {
        Some(DataSlice { offset, length }) => {
            let start = offset.min(full.len());
            &full[start..(start.saturating_add(length)).min(full.len())]
        }
        None => full,
    };
    let parsed = match (encoding, config.data_slice) {
        (Encoding::JsonParsed, None) => parse_token_account(account),
        _ => None,
    };
    let data = match parsed {
        Some(parsed) => parsed,
        None => encode_bytes(data, encoding)?,
    };
    Ok(json!({
        "lamports": account.lamports(),
        "data": data,
        "owner": account.owner().to_string(),
        "executable": account.executable(),
        "rentEpoch": account.rent_epoch(),
        "space": full.len(),
    }))
}

/// `UiTokenAmount` JSON.
pub fn token_amount(amount: u64, decimals: u8) -> Value {
    let text = spl_token::amount_to_ui_amount_string_trimmed(amount, decimals);
    json!({
        "amount": amount.to_string(),
        "decimals": decimals,
        "uiAmount": text.parse::<f64>().ok(),
        "uiAmountString": text,
    })
}

/// Decimals of an SPL Token mint account.
pub fn mint_decimals(account: &AccountSharedData) -> Option<u8> {
    (*account.owner() == spl_token::ID)
        .then(|| spl_token::state::Mint::unpack(account.data()).ok())
        .flatten()
        .map(|mint| mint.decimals)
}

/// jsonParsed for SPL Token accounts and mints; `None` for anything else
/// (which agave then sends as base64, as done here).
fn parse_token_account(account: &AccountSharedData) -> Option<Value> {
    if *account.owner() != spl_token::ID {
        return None;
    }
    let data = account.data();
    let space = data.len();
    if let Ok(token) = spl_token::state::Account::unpack(data) {
        // The mint's decimals are not in the token account; agave looks the
        // mint up, callers here use getTokenAccountBalance for amounts.
        return Some(json!({
            "program": "spl-token",
            "parsed": {
                "type": "account",
                "info": {
                    "mint": token.mint.to_string(),
                    "owner": token.owner.to_string(),
                    "amount": token.amount.to_string(),
                    "state": match token.state {
                        spl_token::state::AccountState::Uninitialized => "uninitialized",
                        spl_token::state::AccountState::Initialized => "initialized",
                        spl_token::state::AccountState::Frozen => "frozen",
                    },
                    "isNative": token.is_native.is_some(),
                    "delegate": Option::<Pubkey>::from(token.delegate).map(|k| k.to_string()),
                    "delegatedAmount": token.delegated_amount.to_string(),
                },
            },
            "space": space,
        }));
    }
    let mint = spl_token::state::Mint::unpack(data).ok()?;
    Some(json!({
        "program": "spl-token",
        "parsed": {
            "type": "mint",
            "info": {
                "mintAuthority": Option::<Pubkey>::from(mint.mint_authority).map(|k| k.to_string()),
                "supply": mint.supply.to_string(),
                "decimals": mint.decimals,
                "isInitialized": mint.is_initialized,
                "freezeAuthority": Option::<Pubkey>::from(mint.freeze_authority).map(|k| k.to_string()),
            },
        },
        "space": space,
    }))
}
