//! Cluster-level methods: health, version, slots, blockhashes, rent, time.

use serde_json::json;
use solana_hash::Hash;
use solana_signer::Signer;

use super::{parse, with_context, Params, RpcResult, API_VERSION};
use crate::chain::Chain;

pub fn get_health() -> RpcResult {
    Ok(json!("ok"))
}

pub fn get_version() -> RpcResult {
    Ok(json!({ "solana-core": API_VERSION, "feature-set": 0 }))
}

pub fn get_identity(chain: &Chain) -> RpcResult {
    Ok(json!({ "identity": chain.faucet().pubkey().to_string() }))
}

pub fn get_slot(chain: &Chain) -> RpcResult {
    Ok(json!(chain.bank().slot()))
}

pub fn get_block_height(chain: &Chain) -> RpcResult {
    Ok(json!(chain.bank().block_height()))
}

pub fn get_epoch_info(chain: &Chain) -> RpcResult {
    let info = chain.bank().get_epoch_info();
    Ok(json!({
        "absoluteSlot": info.absolute_slot,
        "blockHeight": info.block_height,
        "epoch": info.epoch,
        "slotIndex": info.slot_index,
        "slotsInEpoch": info.slots_in_epoch,
        "transactionCount": info.transaction_count,
    }))
}

pub fn get_genesis_hash(chain: &Chain) -> RpcResult {
    Ok(json!(chain.genesis_hash().to_string()))
}

pub fn get_latest_blockhash(chain: &Chain) -> RpcResult {
    let bank = chain.bank();
    let blockhash = bank.last_blockhash();
    let last_valid = bank
        .get_blockhash_last_valid_block_height(&blockhash)
        .expect("the latest blockhash is in the queue");
    Ok(with_context(
        bank.slot(),
        json!({ "blockhash": blockhash.to_string(), "lastValidBlockHeight": last_valid }),
    ))
}

pub fn is_blockhash_valid(chain: &Chain, params: &Params) -> RpcResult {
    let blockhash: Hash = parse(&params.required::<String>(0, "blockhash")?, "blockhash")?;
    let bank = chain.bank();
    Ok(with_context(bank.slot(), json!(bank.is_blockhash_valid(&blockhash))))
}

pub fn get_minimum_balance_for_rent_exemption(chain: &Chain, params: &Params) -> RpcResult {
    let size: usize = params.required(0, "dataLength")?;
    Ok(json!(chain.bank().get_minimum_balance_for_rent_exemption(size)))
}

/// Local-only: move slot and unix timestamp forward by at least `seconds`.
pub fn advance_clock(chain: &Chain, params: &Params) -> RpcResult {
    let seconds: u64 = params.required(0, "seconds")?;
    let (slot, unix_timestamp) = chain.advance_clock(seconds);
    Ok(json!({ "slot": slot, "unixTimestamp": unix_timestamp }))
}

