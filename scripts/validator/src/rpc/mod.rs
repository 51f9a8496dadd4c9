//! Solana JSON-RPC 2.0 over the chain: request parsing, errors in the codes
//! agave uses, and the method table.

mod accounts;
mod blocks;
mod cluster;
pub mod commitment;
pub mod encoding;
mod tokens;
mod transactions;

use std::net::SocketAddr;

use serde::de::DeserializeOwned;
use solana_rpc_client_api::custom_error::RpcCustomError;
use serde_json::{json, Value};

use crate::chain::Chain;

pub const PARSE_ERROR: i64 = -32700;
pub const INVALID_REQUEST: i64 = -32600;
pub const METHOD_NOT_FOUND: i64 = -32601;
pub const INVALID_PARAMS: i64 = -32602;
pub const INTERNAL_ERROR: i64 = -32603;
/// agave `RpcCustomError::SendTransactionPreflightFailure`.
pub const PREFLIGHT_FAILURE: i64 = -32002;
/// agave `RpcCustomError::TransactionSignatureVerificationFailure`.
pub const SIGNATURE_VERIFICATION_FAILURE: i64 = -32003;

/// The version reported by `getVersion` and in every response context.
pub const API_VERSION: &str = "2.3.13";

#[derive(Debug)]
pub struct RpcError {
    pub code: i64,
    pub message: String,
    pub data: Option<Value>,
}

impl RpcError {
    pub fn new(code: i64, message: impl Into<String>) -> Self {
        RpcError { code, message: message.into(), data: None }
    }

    pub fn invalid_params(message: impl Into<String>) -> Self {
        Self::new(INVALID_PARAMS, message)
    }
}

pub type RpcResult = Result<Value, RpcError>;

/// Positional parameters of one call.
pub struct Params(Vec<Value>);

impl Params {
    fn from_value(params: Option<Value>) -> Result<Self, RpcError> {
        match params {
            None | Some(Value::Null) => Ok(Params(Vec::new())),
            Some(Value::Array(items)) => Ok(Params(items)),
            Some(_) => Err(RpcError::new(INVALID_REQUEST, "Invalid request: params must be an array")),
        }
    }

    /// Parameter `index`, which must be present.
    pub fn required<T: DeserializeOwned>(&self, index: usize, name: &str) -> Result<T, RpcError> {
        let value = self
            .0
            .get(index)
            .ok_or_else(|| RpcError::invalid_params(format!("missing parameter `{name}`")))?;
        serde_json::from_value(value.clone())
            .map_err(|e| RpcError::invalid_params(format!("invalid parameter `{name}`: {e}")))
    }

    /// Parameter `index` as sent.
    pub fn raw(&self, index: usize) -> Option<&Value> {
        self.0.get(index)
    }

    /// Parameter `index`, or its default when absent or null.
    pub fn optional<T: DeserializeOwned + Default>(&self, index: usize, name: &str) -> Result<T, RpcError> {
        match self.0.get(index) {
            None | Some(Value::Null) => Ok(T::default()),
            Some(_) => self.required(index, name),
        }
    }
}

/// Parse a base-58 public key or signature parameter.
pub fn parse<T: std::str::FromStr>(text: &str, what: &str) -> Result<T, RpcError> {
    text.parse()
        .map_err(|_| RpcError::invalid_params(format!("Invalid param: invalid {what}: {text}")))
}

/// `{"context": {...}, "value": value}` at `slot`.
/// A response type of agave's (solana-rpc-client-api) as JSON.
pub fn to_value(response: impl serde::Serialize) -> RpcResult {
    serde_json::to_value(response).map_err(|e| RpcError::new(INTERNAL_ERROR, format!("encoding the response: {e}")))
}

/// agave's custom errors (block not available, slot skipped...) as sent on the wire.
impl From<RpcCustomError> for RpcError {
    fn from(error: RpcCustomError) -> Self {
        let error = jsonrpc_core::Error::from(error);
        RpcError { code: error.code.code(), message: error.message, data: error.data.map(|data| json!(data)) }
    }
}

pub fn with_context(slot: u64, value: impl serde::Serialize) -> RpcResult {
    Ok(json!({ "context": { "slot": slot, "apiVersion": API_VERSION }, "value": to_value(value)? }))
}

/// Answer one HTTP body: a single request or a batch.
pub fn handle_body(chain: &Chain, rpc_address: SocketAddr, body: &[u8]) -> Value {
    let request: Value = match serde_json::from_slice(body) {
        Ok(value) => value,
        Err(e) => return error_response(Value::Null, RpcError::new(PARSE_ERROR, format!("Parse error: {e}"))),
    };
    match request {
        Value::Array(batch) if batch.is_empty() => {
            error_response(Value::Null, RpcError::new(INVALID_REQUEST, "Invalid request: empty batch"))
        }
        Value::Array(batch) => Value::Array(batch.into_iter().map(|r| handle_request(chain, rpc_address, r)).collect()),
        single => handle_request(chain, rpc_address, single),
    }
}

fn handle_request(chain: &Chain, rpc_address: SocketAddr, request: Value) -> Value {
    answer(request, |method, params| call(chain, rpc_address, method, params))
}

/// Answer one JSON-RPC 2.0 request object with `call(method, params)`.
pub fn answer(request: Value, call: impl FnOnce(&str, &Params) -> RpcResult) -> Value {
    let Value::Object(mut fields) = request else {
        return error_response(Value::Null, RpcError::new(INVALID_REQUEST, "Invalid request"));
    };
    let id = fields.remove("id").unwrap_or(Value::Null);
    let version_ok = fields.get("jsonrpc") == Some(&Value::String("2.0".into()));
    let method = match fields.remove("method") {
        Some(Value::String(method)) if version_ok => method,
        _ => return error_response(id, RpcError::new(INVALID_REQUEST, "Invalid request")),
    };
    let result = Params::from_value(fields.remove("params")).and_then(|params| call(&method, &params));
    match result {
        Ok(result) => json!({ "jsonrpc": "2.0", "result": result, "id": id }),
        Err(error) => error_response(id, error),
    }
}

pub fn error_response(id: Value, error: RpcError) -> Value {
    let mut body = json!({ "code": error.code, "message": error.message });
    if let Some(data) = error.data {
        body["data"] = data;
    }
    json!({ "jsonrpc": "2.0", "error": body, "id": id })
}

fn call(chain: &Chain, rpc_address: SocketAddr, method: &str, params: &Params) -> RpcResult {
    match method {
        "getHealth" => cluster::get_health(),
        "getVersion" => cluster::get_version(),
        "getIdentity" => cluster::get_identity(chain),
        "getSlot" => cluster::get_slot(chain, params),
        "getBlockHeight" => cluster::get_block_height(chain, params),
        "getEpochInfo" => cluster::get_epoch_info(chain, params),
        "getGenesisHash" => cluster::get_genesis_hash(chain),
        "getEpochSchedule" => cluster::get_epoch_schedule(chain),
        "getTransactionCount" => cluster::get_transaction_count(chain, params),
        "getSupply" => cluster::get_supply(chain, params),
        "getInflationGovernor" => cluster::get_inflation_governor(chain, params),
        "getInflationRate" => cluster::get_inflation_rate(chain),
        "getSlotLeader" => cluster::get_slot_leader(chain, params),
        "getSlotLeaders" => cluster::get_slot_leaders(chain, params),
        "getLeaderSchedule" => cluster::get_leader_schedule(chain, params),
        "getClusterNodes" => cluster::get_cluster_nodes(chain, rpc_address),
        "getVoteAccounts" => cluster::get_vote_accounts(chain, params),
        "getStakeMinimumDelegation" => cluster::get_stake_minimum_delegation(chain, params),
        "getBlock" => blocks::get_block(chain, params),
        "getBlocks" => blocks::get_blocks(chain, params),
        "getBlocksWithLimit" => blocks::get_blocks_with_limit(chain, params),
        "getBlockTime" => blocks::get_block_time(chain, params),
        "getBlockCommitment" => blocks::get_block_commitment(chain, params),
        "getBlockProduction" => blocks::get_block_production(chain, params),
        "getRecentPerformanceSamples" => blocks::get_recent_performance_samples(chain, params),
        "getInflationReward" => blocks::get_inflation_reward(chain, params),
        "getHighestSnapshotSlot" => cluster::get_highest_snapshot_slot(chain),
        "getMaxRetransmitSlot" | "getMaxShredInsertSlot" => cluster::get_max_slot(chain),
        "getFirstAvailableBlock" | "minimumLedgerSlot" => blocks::first_available_block(),
        "getLatestBlockhash" => cluster::get_latest_blockhash(chain, params),
        "isBlockhashValid" => cluster::is_blockhash_valid(chain, params),
        "getMinimumBalanceForRentExemption" => cluster::get_minimum_balance_for_rent_exemption(chain, params),
        "advanceClock" => cluster::advance_clock(chain, params),
        "getAccountInfo" => accounts::get_account_info(chain, params),
        "getMultipleAccounts" => accounts::get_multiple_accounts(chain, params),
        "getProgramAccounts" => accounts::get_program_accounts(chain, params),
        "getBalance" => accounts::get_balance(chain, params),
        "getLargestAccounts" => accounts::get_largest_accounts(chain, params),
        "getTokenAccountBalance" => tokens::get_token_account_balance(chain, params),
        "getTokenAccountsByOwner" => tokens::get_token_accounts_by_owner(chain, params),
        "getTokenAccountsByDelegate" => tokens::get_token_accounts_by_delegate(chain, params),
        "getTokenSupply" => tokens::get_token_supply(chain, params),
        "getTokenLargestAccounts" => tokens::get_token_largest_accounts(chain, params),
        "sendTransaction" => transactions::send_transaction(chain, params),
        "simulateTransaction" => transactions::simulate_transaction(chain, params),
        "getSignatureStatuses" => transactions::get_signature_statuses(chain, params),
        "getTransaction" => transactions::get_transaction(chain, params),
        "getSignaturesForAddress" => transactions::get_signatures_for_address(chain, params),
        "requestAirdrop" => transactions::request_airdrop(chain, params),
        "getFeeForMessage" => transactions::get_fee_for_message(chain, params),
        "getRecentPrioritizationFees" => transactions::get_recent_prioritization_fees(chain, params),
        _ => Err(RpcError::new(METHOD_NOT_FOUND, "Method not found")),
    }
}
