//! Sending, simulating and looking up transactions, in agave's request and
//! response types and its transaction encodings (solana-transaction-status).

use base64::{engine::general_purpose::STANDARD as BASE64, Engine as _};
use serde_json::{json, Value};
use solana_account_decoder::{encode_ui_account, UiAccountEncoding};
use solana_commitment_config::CommitmentLevel;
use solana_message::{
    v0::LoadedAddresses, AccountKeys, SanitizedMessage, SanitizedVersionedMessage, SimpleAddressLoader, VersionedMessage,
};
use solana_pubkey::Pubkey;
use solana_rpc_client_api::{
    config::{
        RpcEncodingConfigWrapper, RpcRequestAirdropConfig, RpcSendTransactionConfig, RpcSignatureStatusConfig,
        RpcSignaturesForAddressConfig, RpcSimulateTransactionConfig, RpcTransactionConfig,
    },
    custom_error::RpcCustomError,
    response::{RpcBlockhash, RpcConfirmedTransactionStatusWithSignature, RpcPrioritizationFee, RpcSimulateTransactionResult},
};
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_status::{
    extract_and_fmt_memos, parse_ui_inner_instructions, ConfirmedTransactionWithStatusMeta, EncodeError,
    TransactionConfirmationStatus, TransactionStatus, TransactionWithStatusMeta, UiTransactionEncoding,
    VersionedTransactionWithStatusMeta,
};

use super::{
    commitment, parse, to_value, with_context, Params, RpcError, RpcResult, INTERNAL_ERROR, PREFLIGHT_FAILURE,
    SIGNATURE_VERIFICATION_FAILURE,
};
use crate::{
    chain::{Chain, Execution, SendError},
    history::StoredTx,
};

/// agave's caps on list parameters.
const MAX_SIGNATURE_STATUSES: usize = 256;
const MAX_SIGNATURES_FOR_ADDRESS: usize = 1000;
const MAX_PRIORITIZATION_FEE_ACCOUNTS: usize = 128;

fn decode_binary(text: &str, encoding: UiTransactionEncoding) -> Result<Vec<u8>, RpcError> {
    match encoding {
        UiTransactionEncoding::Base58 | UiTransactionEncoding::Binary => bs58::decode(text)
            .into_vec()
            .map_err(|e| RpcError::invalid_params(format!("invalid base58 encoding: {e}"))),
        UiTransactionEncoding::Base64 => {
            BASE64.decode(text).map_err(|e| RpcError::invalid_params(format!("invalid base64 encoding: {e}")))
        }
        other => Err(RpcError::invalid_params(format!(
            "unsupported encoding: {other}. Supported encodings: base58, base64"
        ))),
    }
}

fn decode_transaction(text: &str, encoding: UiTransactionEncoding) -> Result<VersionedTransaction, RpcError> {
    let bytes = decode_binary(text, encoding)?;
    bincode::deserialize(&bytes).map_err(|e| {
        RpcError::invalid_params(format!("failed to deserialize solana_transaction::versioned::VersionedTransaction: {e}"))
    })
}

/// `RpcSimulateTransactionResult` of an execution: the accounts asked for
/// (after execution) and, when asked, inner instructions.
fn simulation_result(
    execution: Execution,
    accounts: Option<(UiAccountEncoding, Vec<Pubkey>)>,
    inner_instructions: bool,
    replacement_blockhash: Option<RpcBlockhash>,
) -> RpcSimulateTransactionResult {
    let keys = AccountKeys::new(&execution.static_keys, Some(&execution.loaded));
    let accounts = accounts.map(|(encoding, addresses)| {
        addresses
            .iter()
            .map(|address| {
                execution
                    .accounts
                    .iter()
                    .find(|(key, _)| key == address)
                    .map(|(key, account)| encode_ui_account(key, account, encoding, None, None))
            })
            .collect()
    });
    let inner_instructions = execution.inner_instructions.filter(|_| inner_instructions).map(|list| {
        list.into_iter().map(|inner| parse_ui_inner_instructions(inner, &keys)).collect()
    });
    RpcSimulateTransactionResult {
        err: execution.err,
        logs: Some(execution.logs),
        accounts,
        units_consumed: Some(execution.units),
        loaded_accounts_data_size: Some(execution.loaded_accounts_data_size),
        return_data: execution.return_data.map(Into::into),
        inner_instructions,
        replacement_blockhash,
    }
}

fn send_error(error: SendError) -> RpcError {
    match error {
        SendError::Invalid(err) => RpcError::invalid_params(format!("invalid transaction: {err}")),
        SendError::Signature => RpcError::new(SIGNATURE_VERIFICATION_FAILURE, "Transaction signature verification failure"),
        SendError::Preflight(execution) => {
            let err = execution.err.clone().expect("preflight failures carry an error");
            RpcError {
                code: PREFLIGHT_FAILURE,
                message: format!("Transaction simulation failed: {err}"),
                data: serde_json::to_value(simulation_result(execution, None, false, None)).ok(),
            }
        }
    }
}

pub fn send_transaction(chain: &Chain, params: &Params) -> RpcResult {
    let encoded: String = params.required(0, "transaction")?;
    let config: RpcSendTransactionConfig = params.optional(1, "config")?;
    let tx = decode_transaction(&encoded, config.encoding.unwrap_or(UiTransactionEncoding::Base58))?;
    let preflight = config.preflight_commitment.unwrap_or(CommitmentLevel::Finalized);
    if let Some(min) = config.min_context_slot {
        let slot = chain.slot_at(preflight);
        if slot < min {
            return Err(RpcCustomError::MinContextSlotNotReached { context_slot: slot }.into());
        }
    }
    let signature = chain.send(tx, (!config.skip_preflight).then_some(preflight)).map_err(send_error)?;
    Ok(json!(signature.to_string()))
}

pub fn simulate_transaction(chain: &Chain, params: &Params) -> RpcResult {
    let encoded: String = params.required(0, "transaction")?;
    let config: RpcSimulateTransactionConfig = params.optional(1, "config")?;
    if config.sig_verify && config.replace_recent_blockhash {
        return Err(RpcError::invalid_params("sigVerify may not be used with replaceRecentBlockhash"));
    }
    let mut tx = decode_transaction(&encoded, config.encoding.unwrap_or(UiTransactionEncoding::Base58))?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let mut replacement = None;
    if config.replace_recent_blockhash {
        let blockhash = bank.last_blockhash();
        tx.message.set_recent_blockhash(blockhash);
        replacement = Some(RpcBlockhash {
            blockhash: blockhash.to_string(),
            last_valid_block_height: bank.get_blockhash_last_valid_block_height(&blockhash).unwrap_or_default(),
        });
    }
    let key_count = tx.message.static_account_keys().len();
    let accounts = match config.accounts {
        None => None,
        Some(accounts) => {
            let encoding = accounts.encoding.unwrap_or(UiAccountEncoding::Base64);
            if matches!(encoding, UiAccountEncoding::Binary | UiAccountEncoding::Base58) {
                return Err(RpcError::invalid_params("base58 encoding not supported"));
            }
            if accounts.addresses.len() > key_count {
                return Err(RpcError::invalid_params(format!("Too many accounts provided; max {key_count}")));
            }
            let addresses = accounts.addresses.iter().map(|text| parse(text, "pubkey")).collect::<Result<_, _>>()?;
            Some((encoding, addresses))
        }
    };
    let execution = chain.simulate(&bank, tx, config.sig_verify, config.inner_instructions).map_err(send_error)?;
    with_context(bank.slot(), simulation_result(execution, accounts, config.inner_instructions, replacement))
}

fn signature_param(text: &str) -> Result<Signature, RpcError> {
    parse(text, "signature")
}

/// How far `slot` has come: finalized at or below the root, confirmed at or
/// below the newest frozen bank, processed above.
fn confirmation(chain: &Chain, slot: u64) -> TransactionConfirmationStatus {
    if slot <= chain.root() {
        TransactionConfirmationStatus::Finalized
    } else if slot <= chain.slot_at(CommitmentLevel::Confirmed) {
        TransactionConfirmationStatus::Confirmed
    } else {
        TransactionConfirmationStatus::Processed
    }
}

pub fn get_signature_statuses(chain: &Chain, params: &Params) -> RpcResult {
    let signatures: Vec<String> = params.required(0, "signatures")?;
    let _config: Option<RpcSignatureStatusConfig> = params.optional(1, "config")?;
    if signatures.len() > MAX_SIGNATURE_STATUSES {
        return Err(RpcError::invalid_params(format!("Too many inputs provided; max {MAX_SIGNATURE_STATUSES}")));
    }
    let bank = chain.bank();
    let confirmed = chain.slot_at(CommitmentLevel::Confirmed);
    let statuses = signatures
        .iter()
        .map(|text| {
            let signature = signature_param(text)?;
            Ok(chain.status(&signature).map(|(slot, err)| {
                let status = confirmation(chain, slot);
                let confirmations = (status != TransactionConfirmationStatus::Finalized)
                    .then(|| chain.history().blocks_in(slot + 1..=confirmed).len());
                TransactionStatus {
                    slot,
                    confirmations,
                    status: err.clone().map_or(Ok(()), Err),
                    err,
                    confirmation_status: Some(status),
                }
            }))
        })
        .collect::<Result<Vec<_>, RpcError>>()?;
    with_context(bank.slot(), statuses)
}

/// agave's error for a transaction version the client did not accept.
fn encode_error(error: EncodeError) -> RpcError {
    match error {
        EncodeError::UnsupportedTransactionVersion(version) => {
            RpcCustomError::UnsupportedTransactionVersion(version).into()
        }
    }
}

pub fn with_meta(stored: StoredTx) -> TransactionWithStatusMeta {
    TransactionWithStatusMeta::Complete(VersionedTransactionWithStatusMeta { transaction: stored.tx, meta: stored.meta })
}

pub fn get_transaction(chain: &Chain, params: &Params) -> RpcResult {
    let signature = signature_param(&params.required::<String>(0, "signature")?)?;
    let wrapper: Option<RpcEncodingConfigWrapper<RpcTransactionConfig>> = params.optional(1, "config")?;
    let config = wrapper.map(|w| w.convert_to_current()).unwrap_or_default();
    let commitment = commitment::at_least_confirmed(params.raw(1).filter(|raw| raw.is_object()))?;
    let Some(stored) = chain.transaction(&signature).filter(|stored| stored.slot <= chain.slot_at(commitment)) else {
        return Ok(Value::Null);
    };
    let confirmed = ConfirmedTransactionWithStatusMeta {
        slot: stored.slot,
        block_time: Some(stored.block_time),
        tx_with_meta: with_meta(stored),
    };
    let encoding = config.encoding.unwrap_or(UiTransactionEncoding::Json);
    to_value(confirmed.encode(encoding, config.max_supported_transaction_version).map_err(encode_error)?)
}

pub fn get_signatures_for_address(chain: &Chain, params: &Params) -> RpcResult {
    let address: Pubkey = parse(&params.required::<String>(0, "address")?, "address")?;
    let config: RpcSignaturesForAddressConfig = params.optional(1, "config")?;
    let commitment = commitment::at_least_confirmed(params.raw(1))?;
    let limit = config.limit.unwrap_or(MAX_SIGNATURES_FOR_ADDRESS);
    if !(1..=MAX_SIGNATURES_FOR_ADDRESS).contains(&limit) {
        return Err(RpcError::invalid_params(format!("Invalid limit; max {MAX_SIGNATURES_FOR_ADDRESS}")));
    }
    let highest = chain.slot_at(commitment);
    if config.min_context_slot.is_some_and(|min| min > highest) {
        return Err(RpcCustomError::MinContextSlotNotReached { context_slot: highest }.into());
    }
    let before = config.before.as_deref().map(signature_param).transpose()?;
    let until = config.until.as_deref().map(signature_param).transpose()?;
    let history = chain.history();
    let found: Vec<RpcConfirmedTransactionStatusWithSignature> = history
        .signatures_for(&address, highest, limit, before, until)
        .into_iter()
        .map(|stored| RpcConfirmedTransactionStatusWithSignature {
            signature: stored.tx.signatures[0].to_string(),
            slot: stored.slot,
            err: stored.meta.status.clone().err(),
            memo: memo_of(stored),
            block_time: Some(stored.block_time),
            confirmation_status: Some(confirmation(chain, stored.slot)),
        })
        .collect();
    to_value(found)
}

/// The transaction's SPL Memo texts, as agave lists them.
fn memo_of(stored: &StoredTx) -> Option<String> {
    extract_and_fmt_memos(&VersionedTransactionWithStatusMeta { transaction: stored.tx.clone(), meta: stored.meta.clone() })
}

pub fn request_airdrop(chain: &Chain, params: &Params) -> RpcResult {
    let to: Pubkey = parse(&params.required::<String>(0, "pubkey")?, "pubkey")?;
    let lamports: u64 = params.required(1, "lamports")?;
    let _config: Option<RpcRequestAirdropConfig> = params.optional(2, "config")?;
    commitment::commitment_in(params.raw(2))?;
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
    let bytes = decode_binary(&encoded, UiTransactionEncoding::Base64)?;
    let message: VersionedMessage =
        bincode::deserialize(&bytes).map_err(|e| RpcError::invalid_params(format!("invalid message: {e}")))?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let invalid = |e: &dyn std::fmt::Display| RpcError::invalid_params(format!("invalid message: {e}"));
    let message = SanitizedVersionedMessage::try_new(message).map_err(|e| invalid(&e))?;
    let sanitized = SanitizedMessage::try_new(
        message,
        SimpleAddressLoader::Enabled(LoadedAddresses::default()),
        bank.get_reserved_account_keys(),
    )
    .map_err(|e| invalid(&e))?;
    with_context(bank.slot(), bank.get_fee_for_message(&sanitized))
}

pub fn get_recent_prioritization_fees(chain: &Chain, params: &Params) -> RpcResult {
    let addresses: Vec<String> = params.optional(0, "addresses")?;
    if addresses.len() > MAX_PRIORITIZATION_FEE_ACCOUNTS {
        return Err(RpcError::invalid_params(format!(
            "Too many inputs provided; max {MAX_PRIORITIZATION_FEE_ACCOUNTS}"
        )));
    }
    let accounts = addresses.iter().map(|text| parse(text, "pubkey")).collect::<Result<Vec<Pubkey>, _>>()?;
    let mut fees = chain.history().prioritization_fees(&accounts);
    if fees.is_empty() {
        fees.push((chain.bank().slot(), 0));
    }
    let fees: Vec<RpcPrioritizationFee> = fees
        .into_iter()
        .map(|(slot, prioritization_fee)| RpcPrioritizationFee { slot, prioritization_fee })
        .collect();
    to_value(fees)
}
