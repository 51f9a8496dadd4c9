//! Sending, simulating and looking up transactions.

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde::Deserialize;
use serde_json::{json, Value};
use solana_message::{
    v0::LoadedAddresses, SanitizedMessage, SanitizedVersionedMessage, SimpleAddressLoader,
    VersionedMessage,
};
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_error::TransactionError;

use super::{
    encoding::{encode_bytes, Encoding},
    parse, with_context, Params, RpcError, RpcResult, INTERNAL_ERROR, PREFLIGHT_FAILURE,
    SIGNATURE_VERIFICATION_FAILURE,
};
use crate::chain::{Chain, Execution, SendError, StoredTx};

/// agave's caps on list parameters.
const MAX_SIGNATURE_STATUSES: usize = 256;
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1000;
const MAX_PRIORITIZATION_FEE_ACCOUNTS: usize = 128;
/// agave `RpcCustomError::UnsupportedTransactionVersion`.
const UNSUPPORTED_TRANSACTION_VERSION: i64 = -32015;

fn decode_binary(text: &str, encoding: Encoding) -> Result<Vec<u8>, RpcError> {
    match encoding {
        Encoding::Base58 => bs58::decode(text)
            .into_vec()
            .map_err(|e| RpcError::invalid_params(format!("invalid base58 encoding: {e}"))),
        Encoding::Base64 => BASE64
            .decode(text)
            .map_err(|e| RpcError::invalid_params(format!("invalid base64 encoding: {e}"))),
        other => Err(RpcError::invalid_params(format!(
            "unsupported encoding: {other:?}. Supported encodings: base58, base64"
        ))),
    }
}

fn decode_transaction(text: &str, encoding: Encoding) -> Result<VersionedTransaction, RpcError> {
    let bytes = decode_binary(text, encoding)?;
    bincode::deserialize(&bytes).map_err(|e| {
        RpcError::invalid_params(format!(
            "failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}"
        ))
    })
}

fn error_json(err: &Option<TransactionError>) -> Value {
    serde_json::to_value(err).expect("TransactionError serializes")
}

fn status_json(err: &Option<TransactionError>) -> Value {
    match err {
        None => json!({ "Ok": null }),
        Some(err) => json!({ "Err": err }),
    }
}

fn return_data_json(return_data: &Option<(Pubkey, Vec<u8>)>) -> Value {
    match return_data {
        Some((program_id, data)) => json!({
            "programId": program_id.to_string(),
            "data": [BASE64.encode(data), "base64"],
        }),
        None => Value::Null,
    }
}

/// `RpcSimulateTransactionResult` JSON.
fn simulation_json(execution: &Execution, replacement_blockhash: Value) -> Value {
    json!({
        "err": error_json(&execution.err),
        "logs": execution.logs,
        "accounts": null,
        "unitsConsumed": execution.units,
        "returnData": return_data_json(&execution.return_data),
        "innerInstructions": null,
        "replacementBlockhash": replacement_blockhash,
        "loadedAccountsDataSize": execution.loaded_accounts_data_size,
    })
}

fn send_error(error: SendError) -> RpcError {
    match error {
        SendError::Invalid(err) => RpcError::invalid_params(format!("invalid transaction: {err}")),
        SendError::Signature => {
            RpcError::new(SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure")
        }
        SendError::Preflight(execution) => {
            let err = execution.err.as_ref().expect("preflight failures carry an error");
            RpcError {
                code: PREFLIGHT_FAILURE,
                message: format!("Transaction simulation failed: {err}"),
                data: Some(simulation_json(&execution, Value::Null)),
            }
        }
    }
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct SendConfig {
    #[serde(default)]
    skip_preflight: Option<bool>,
    #[serde(default)]
    encoding: Option<Encoding>,
}

pub fn send_transaction(chain: &Chain, params: &Params) -> RpcResult {
    let encoded: String = params.required(0, "transaction")?;
    let config: SendConfig = params.optional(1, "config")?;
    let tx = decode_transaction(&encoded, config.encoding.unwrap_or(Encoding::Base58))?;
    let signature = chain.send(tx, config.skip_preflight.unwrap_or(false)).map_err(send_error)?;
    Ok(json!(signature.to_string()))
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct SimulateConfig {
    #[serde(default)]
    sig_verify: Option<bool>,
    #[serde(default)]
    replace_recent_blockhash: Option<bool>,
    #[serde(default)]
    encoding: Option<Encoding>,
}

pub fn simulate_transaction(chain: &Chain, params: &Params) -> RpcResult {
    let encoded: String = params.required(0, "transaction")?;
    let config: SimulateConfig = params.optional(1, "config")?;
    let sig_verify = config.sig_verify.unwrap_or(false);
    let replace_recent_blockhash = config.replace_recent_blockhash.unwrap_or(false);
    if sig_verify && replace_recent_blockhash {
        return Err(RpcError::invalid_params(
            "sigVerify may not be used with replaceRecentBlockhash",
        ));
    }
    let mut tx = decode_transaction(&encoded, config.encoding.unwrap_or(Encoding::Base58))?;
    let bank = chain.bank();
    let mut replacement = Value::Null;
    if replace_recent_blockhash {
        let blockhash = bank.last_blockhash();
        tx.message.set_recent_blockhash(blockhash);
        replacement = json!({
            "blockhash": blockhash.to_string(),
            "lastValidBlockHeight": bank.get_blockhash_last_valid_block_height(&blockhash),
        });
    }
    let execution = chain.simulate(tx, sig_verify).map_err(send_error)?;
    Ok(with_context(bank.slot(), simulation_json(&execution, replacement)))
}

fn signature_param(text: &str) -> Result<Signature, RpcError> {
    parse(text, "signature")
}

fn confirmation_status(chain: &Chain, slot: u64) -> &'static str {
    if slot <= chain.root() {
        "finalized"
    } else {
        "confirmed"
    }
}

pub fn get_signature_statuses(chain: &Chain, params: &Params) -> RpcResult {
    let signatures: Vec<String> = params.required(0, "signatures")?;
    if signatures.len() > MAX_SIGNATURE_STATUSES {
        return Err(RpcError::invalid_params(format!(
            "Too many inputs provided; max {MAX_SIGNATURE_STATUSES}"
        )));
    }
    let bank = chain.bank();
    let statuses = signatures
        .iter()
        .map(|text| {
            let signature = signature_param(text)?;
            Ok(match chain.status(&signature) {
                None => Value::Null,
                Some((slot, err)) => {
                    let status = confirmation_status(chain, slot);
                    json!({
                        "slot": slot,
                        "confirmations": (status != "finalized").then(|| bank.slot().saturating_sub(slot)),
                        "err": error_json(&err),
                        "status": status_json(&err),
                        "confirmationStatus": status,
                    })
                }
            })
        })
        .collect::<Result<Vec<_>, RpcError>>()?;
    Ok(with_context(bank.slot(), Value::Array(statuses)))
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct TransactionConfig {
    #[serde(default)]
    encoding: Option<Encoding>,
    #[serde(default)]
    max_supported_transaction_version: Option<u8>,
}

fn message_json(message: &VersionedMessage) -> Value {
    let header = message.header();
    let instructions: Vec<Value> = message
        .instructions()
        .iter()
        .map(|ix| {
            json!({
                "programIdIndex": ix.program_id_index,
                "accounts": ix.accounts,
                "data": bs58::encode(&ix.data).into_string(),
                "stackHeight": null,
            })
        })
        .collect();
    let mut out = json!({
        "header": {
            "numRequiredSignatures": header.num_required_signatures,
            "numReadonlySignedAccounts": header.num_readonly_signed_accounts,
            "numReadonlyUnsignedAccounts": header.num_readonly_unsigned_accounts,
        },
        "accountKeys": message.static_account_keys().iter().map(|k| k.to_string()).collect::<Vec<_>>(),
        "recentBlockhash": message.recent_blockhash().to_string(),
        "instructions": instructions,
    });
    if let Some(lookups) = message.address_table_lookups() {
        out["addressTableLookups"] = lookups
            .iter()
            .map(|lookup| {
                json!({
                    "accountKey": lookup.account_key.to_string(),
                    "writableIndexes": lookup.writable_indexes,
                    "readonlyIndexes": lookup.readonly_indexes,
                })
            })
            .collect();
    }
    out
}

fn meta_json(stored: &StoredTx) -> Value {
    let execution = &stored.execution;
    let mut meta = json!({
        "err": error_json(&execution.err),
        "status": status_json(&execution.err),
        "fee": stored.fee,
        "preBalances": stored.pre_balances,
        "postBalances": stored.post_balances,
        "innerInstructions": [],
        "logMessages": execution.logs,
        "preTokenBalances": [],
        "postTokenBalances": [],
        "rewards": [],
        "loadedAddresses": { "writable": [], "readonly": [] },
        "computeUnitsConsumed": execution.units,
    });
    if execution.return_data.is_some() {
        meta["returnData"] = return_data_json(&execution.return_data);
    }
    meta
}

pub fn get_transaction(chain: &Chain, params: &Params) -> RpcResult {
    let signature = signature_param(&params.required::<String>(0, "signature")?)?;
    let config: TransactionConfig = params.optional(1, "config")?;
    let Some(stored) = chain.transaction(&signature) else {
        return Ok(Value::Null);
    };
    let version = match &stored.tx.message {
        VersionedMessage::Legacy(_) => json!("legacy"),
        VersionedMessage::V0(_) => {
            if config.max_supported_transaction_version.is_none() {
                return Err(RpcError::new(
                    UNSUPPORTED_TRANSACTION_VERSION,
                    "Transaction version (0) is not supported by the requesting client. Please try the request again with the following configuration parameter: \"maxSupportedTransactionVersion\": 0",
                ));
            }
            json!(0)
        }
    };
    let transaction = match config.encoding.unwrap_or(Encoding::Json) {
        Encoding::Json | Encoding::JsonParsed => json!({
            "signatures": stored.tx.signatures.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            "message": message_json(&stored.tx.message),
        }),
        binary => {
            let bytes = bincode::serialize(&stored.tx)
                .map_err(|e| RpcError::new(INTERNAL_ERROR, format!("serialize transaction: {e}")))?;
            encode_bytes(&bytes, binary)?
        }
    };
    let mut out = json!({
        "slot": stored.slot,
        "blockTime": stored.block_time,
        "transaction": transaction,
        "meta": meta_json(&stored),
    });
    if config.max_supported_transaction_version.is_some() {
        out["version"] = version;
    }
    Ok(out)
}

#[derive(Deserialize, Default, Debug)]
#[serde(rename_all = "camelCase")]
struct SignaturesConfig {
    #[serde(default)]
    limit: Option<usize>,
    #[serde(default)]
    before: Option<String>,
    #[serde(default)]
    until: Option<String>,
}

pub fn get_signatures_for_address(chain: &Chain, params: &Params) -> RpcResult {
    let address: Pubkey = parse(&params.required::<String>(0, "address")?, "address")?;
    let config: SignaturesConfig = params.optional(1, "config")?;
    let limit = config.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
    if !(1..=MAX_SIGNATURES_FOR_ADDRESS).contains(&limit) {
        return Err(RpcError::invalid_params(format!(
            "Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}"
        )));
    }
    let before = config.before.as_deref().map(signature_param).transpose()?;
    let until = config.until.as_deref().map(signature_param).transpose()?;
    let found = chain.signatures_for(&address, limit, before, until);
    Ok(Value::Array(
        found
            .iter()
            .map(|stored| {
                json!({
                    "signature": stored.tx.signatures[0].to_string(),
                    "slot": stored.slot,
                    "err": error_json(&stored.execution.err),
                    "memo": null,
                    "blockTime": stored.block_time,
                    "confirmationStatus": confirmation_status(chain, stored.slot),
                })
            })
            .collect(),
    ))
}

pub fn request_airdrop(chain: &Chain, params: &Params) -> RpcResult {
    let to: Pubkey = parse(&params.required::<String>(0, "pubkey")?, "pubkey")?;
    let lamports: u64 = params.required(1, "lamports")?;
    let signature = chain.airdrop(&to, lamports).map_err(|error| {
        let reason = match error {
            SendError::Preflight(execution) => format!("{:?}", execution.err),
            SendError::Invalid(err) => err.to_string(),
            SendError::Signature => "signature".into(),
        };
        RpcError::new(INTERNAL_ERROR, format!("airdrop request failed: {reason}"))
    })?;
    Ok(json!(signature.to_string()))
}

pub fn get_fee_for_message(chain: &Chain, params: &Params) -> RpcResult {
    let encoded: String = params.required(0, "message")?;
    let bytes = decode_binary(&encoded, Encoding::Base64)?;
    let message: VersionedMessage = bincode::deserialize(&bytes)
        .map_err(|e| RpcError::invalid_params(format!("invalid message: {e}")))?;
    let bank = chain.bank();
    let invalid = |e: &dyn std::fmt::Display| RpcError::invalid_params(format!("invalid message: {e}"));
    let message = SanitizedVersionedMessage::try_new(message).map_err(|e| invalid(&e))?;
    let sanitized = SanitizedMessage::try_new(
        message,
        SimpleAddressLoader::Enabled(LoadedAddresses::default()),
        bank.get_reserved_account_keys(),
    )
    .map_err(|e| invalid(&e))?;
    Ok(with_context(bank.slot(), json!(bank.get_fee_for_message(&sanitized))))
}

pub fn get_recent_prioritization_fees(chain: &Chain, params: &Params) -> RpcResult {
    let addresses: Vec<String> = params.optional(0, "addresses")?;
    if addresses.len() > MAX_PRIORITIZATION_FEE_ACCOUNTS {
        return Err(RpcError::invalid_params(format!(
            "Too many inputs provided; max {MAX_PRIORITIZATION_FEE_ACCOUNTS}"
        )));
    }
    let accounts = addresses
        .iter()
        .map(|text| parse(text, "pubkey"))
        .collect::<Result<Vec<Pubkey>, _>>()?;
    Ok(Value::Array(
        chain
            .prioritization_fees(&accounts)
            .into_iter()
            .map(|(slot, fee)| json!({ "slot": slot, "prioritizationFee": fee }))
            .collect(),
    ))
}
