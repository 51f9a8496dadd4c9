//! Cluster-level methods: health, version, slots, blockhashes, rent, time.

use std::net::SocketAddr;

use serde_json::json;
use solana_rpc_client_api::{
    config::RpcSupplyConfig,
    response::{RpcContactInfo, RpcInflationGovernor, RpcInflationRate, RpcSupply},
};
use solana_runtime::non_circulating_supply::calculate_non_circulating_supply;
use solana_hash::Hash;

use super::{parse, to_value, with_context, Params, RpcError, RpcResult, API_VERSION};
use crate::chain::Chain;

pub fn get_health() -> RpcResult {
    Ok(json!("ok"))
}

pub fn get_version() -> RpcResult {
    Ok(json!({ "solana-core": API_VERSION, "feature-set": 0 }))
}

/// The node's identity: the key that leads (and collects fees for) every slot.
pub fn get_identity(chain: &Chain) -> RpcResult {
    Ok(json!({ "identity": chain.identity().to_string() }))
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


pub fn get_epoch_schedule(chain: &Chain) -> RpcResult {
    to_value(chain.bank().epoch_schedule())
}

pub fn get_transaction_count(chain: &Chain) -> RpcResult {
    Ok(json!(chain.bank().transaction_count()))
}

/// agave's `getSupply`: non-circulating lamports are those of the accounts the
/// runtime lists as such (locked-up stake and the well-known reserves).
pub fn get_supply(chain: &Chain, params: &Params) -> RpcResult {
    let config: RpcSupplyConfig = params.optional(0, "config")?;
    let bank = chain.bank();
    let non_circulating = calculate_non_circulating_supply(&bank)
        .map_err(|e| RpcError::new(super::INTERNAL_ERROR, format!("scanning accounts: {e}")))?;
    let total = bank.capitalization();
    let accounts = if config.exclude_non_circulating_accounts_list {
        Vec::new()
    } else {
        non_circulating.accounts.iter().map(ToString::to_string).collect()
    };
    let supply = RpcSupply {
        total,
        circulating: total.saturating_sub(non_circulating.lamports),
        non_circulating: non_circulating.lamports,
        non_circulating_accounts: accounts,
    };
    Ok(with_context(bank.slot(), to_value(supply)?))
}

pub fn get_inflation_governor(chain: &Chain) -> RpcResult {
    to_value(RpcInflationGovernor::from(chain.bank().inflation()))
}

pub fn get_inflation_rate(chain: &Chain) -> RpcResult {
    let bank = chain.bank();
    let (inflation, year) = (bank.inflation(), bank.slot_in_year_for_inflation());
    to_value(RpcInflationRate {
        total: inflation.total(year),
        validator: inflation.validator(year),
        foundation: inflation.foundation(year),
        epoch: bank.epoch(),
    })
}

pub fn get_slot_leader(chain: &Chain) -> RpcResult {
    Ok(json!(chain.identity().to_string()))
}

/// agave's limit on `getSlotLeaders`.
const MAX_SLOT_LEADERS: u64 = 5_000;

pub fn get_slot_leaders(chain: &Chain, params: &Params) -> RpcResult {
    let _start: u64 = params.required(0, "start slot")?;
    let limit: u64 = params.required(1, "limit")?;
    if limit > MAX_SLOT_LEADERS {
        return Err(RpcError::invalid_params(format!("Invalid limit; max {MAX_SLOT_LEADERS}")));
    }
    let leader = chain.identity().to_string();
    Ok(json!(vec![leader; limit as usize]))
}

/// One node leads every slot of the epoch: its schedule is every slot index.
pub fn get_leader_schedule(chain: &Chain) -> RpcResult {
    let slots_in_epoch = chain.bank().get_slots_in_epoch(chain.bank().epoch());
    Ok(json!({ chain.identity().to_string(): (0..slots_in_epoch).collect::<Vec<u64>>() }))
}

/// This node alone, reachable over JSON-RPC on the address it serves.
pub fn get_cluster_nodes(chain: &Chain, rpc: SocketAddr) -> RpcResult {
    to_value(vec![RpcContactInfo {
        pubkey: chain.identity().to_string(),
        gossip: None,
        tvu: None,
        tpu: None,
        tpu_quic: None,
        tpu_forwards: None,
        tpu_forwards_quic: None,
        tpu_vote: None,
        serve_repair: None,
        rpc: Some(rpc),
        pubsub: None,
        version: Some(API_VERSION.to_string()),
        feature_set: None,
        shred_version: Some(0),
    }])
}
