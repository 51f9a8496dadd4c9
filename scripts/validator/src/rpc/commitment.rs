//! Which bank a request reads: its `commitment` (finalized when it names
//! none, as agave defaults) and its `minContextSlot`.

use std::sync::Arc;

use serde_json::Value;
use solana_clock::Slot;
use solana_commitment_config::CommitmentLevel;
use solana_rpc_client_api::custom_error::RpcCustomError;
use solana_runtime::bank::Bank;

use super::RpcError;
use crate::chain::Chain;

/// The `commitment` field of a config object. agave's config types flatten
/// it as an `Option`, which reads an unknown level as "none given": it is
/// checked here so that a typo is an error, not a silent "finalized".
pub fn commitment_in(config: Option<&Value>) -> Result<CommitmentLevel, RpcError> {
    match config.and_then(|config| config.get("commitment")) {
        None | Some(Value::Null) => Ok(CommitmentLevel::Finalized),
        Some(level) => serde_json::from_value(level.clone()).map_err(|_| {
            RpcError::invalid_params(format!(
                "Invalid commitment {level}: expected one of processed, confirmed, finalized"
            ))
        }),
    }
}

/// The `minContextSlot` field of a config object.
fn min_context_slot(config: Option<&Value>) -> Result<Option<Slot>, RpcError> {
    match config.and_then(|config| config.get("minContextSlot")) {
        None | Some(Value::Null) => Ok(None),
        Some(slot) => serde_json::from_value(slot.clone())
            .map(Some)
            .map_err(|e| RpcError::invalid_params(format!("invalid minContextSlot: {e}"))),
    }
}

/// The bank at the config's commitment, once it has reached `minContextSlot`.
pub fn bank(chain: &Chain, config: Option<&Value>) -> Result<Arc<Bank>, RpcError> {
    let bank = chain.bank_at(commitment_in(config)?);
    match min_context_slot(config)? {
        Some(min) if bank.slot() < min => {
            Err(RpcCustomError::MinContextSlotNotReached { context_slot: bank.slot() }.into())
        }
        _ => Ok(bank),
    }
}

/// History methods read confirmed or finalized data only, as agave's do.
pub fn at_least_confirmed(config: Option<&Value>) -> Result<CommitmentLevel, RpcError> {
    match commitment_in(config)? {
        CommitmentLevel::Processed => {
            Err(RpcError::invalid_params("Method does not support commitment below `confirmed`"))
        }
        level => Ok(level),
    }
}
