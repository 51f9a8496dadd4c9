//! Cluster-level methods: health, version, slots, blockhashes, rent, time.

use std::net::SocketAddr;

use serde_json::json;
use solana_commitment_config::CommitmentLevel;
use solana_hash::Hash;
use solana_rpc_client_api::{
    config::{RpcGetVoteAccountsConfig, RpcLeaderScheduleConfig, RpcLeaderScheduleConfigWrapper, RpcSupplyConfig},
    custom_error::RpcCustomError,
    response::{RpcBlockhash, RpcContactInfo, RpcSnapshotSlotInfo, RpcInflationGovernor, RpcInflationRate, RpcSupply, RpcVoteAccountInfo, RpcVoteAccountStatus},
};
use solana_runtime::non_circulating_supply::calculate_non_circulating_supply;

use super::{commitment, parse, to_value, with_context, Params, RpcError, RpcResult, API_VERSION};
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

pub fn get_slot(chain: &Chain, params: &Params) -> RpcResult {
    Ok(json!(commitment::bank(chain, params.raw(0))?.slot()))
}

pub fn get_block_height(chain: &Chain, params: &Params) -> RpcResult {
    Ok(json!(commitment::bank(chain, params.raw(0))?.block_height()))
}

pub fn get_epoch_info(chain: &Chain, params: &Params) -> RpcResult {
    to_value(commitment::bank(chain, params.raw(0))?.get_epoch_info())
}

pub fn get_genesis_hash(chain: &Chain) -> RpcResult {
    Ok(json!(chain.genesis_hash().to_string()))
}

pub fn get_latest_blockhash(chain: &Chain, params: &Params) -> RpcResult {
    let bank = commitment::bank(chain, params.raw(0))?;
    let blockhash = bank.last_blockhash();
    let last_valid_block_height = bank
        .get_blockhash_last_valid_block_height(&blockhash)
        .expect("the latest blockhash is in the queue");
    with_context(bank.slot(), RpcBlockhash { blockhash: blockhash.to_string(), last_valid_block_height })
}

pub fn is_blockhash_valid(chain: &Chain, params: &Params) -> RpcResult {
    let blockhash: Hash = parse(&params.required::<String>(0, "blockhash")?, "blockhash")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    with_context(bank.slot(), bank.is_blockhash_valid(&blockhash))
}

pub fn get_minimum_balance_for_rent_exemption(chain: &Chain, params: &Params) -> RpcResult {
    let size: usize = params.required(0, "dataLength")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    Ok(json!(bank.get_minimum_balance_for_rent_exemption(size)))
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

pub fn get_transaction_count(chain: &Chain, params: &Params) -> RpcResult {
    Ok(json!(commitment::bank(chain, params.raw(0))?.transaction_count()))
}

/// agave's `getSupply`: non-circulating lamports are those of the accounts the
/// runtime lists as such (locked-up stake and the well-known reserves).
pub fn get_supply(chain: &Chain, params: &Params) -> RpcResult {
    let config: RpcSupplyConfig = params.optional(0, "config")?;
    let bank = commitment::bank(chain, params.raw(0))?;
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
    with_context(bank.slot(), supply)
}

pub fn get_inflation_governor(chain: &Chain, params: &Params) -> RpcResult {
    to_value(RpcInflationGovernor::from(commitment::bank(chain, params.raw(0))?.inflation()))
}

/// Of the finalized bank: agave's method takes no commitment.
pub fn get_inflation_rate(chain: &Chain) -> RpcResult {
    let bank = chain.bank_at(CommitmentLevel::Finalized);
    let (inflation, year) = (bank.inflation(), bank.slot_in_year_for_inflation());
    to_value(RpcInflationRate {
        total: inflation.total(year),
        validator: inflation.validator(year),
        foundation: inflation.foundation(year),
        epoch: bank.epoch(),
    })
}

pub fn get_slot_leader(chain: &Chain, params: &Params) -> RpcResult {
    commitment::bank(chain, params.raw(0))?;
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

/// One node leads every slot of the epoch: its schedule is every slot
/// index, for the epoch of the slot asked (the bank's own by default).
pub fn get_leader_schedule(chain: &Chain, params: &Params) -> RpcResult {
    let wrapper: Option<RpcLeaderScheduleConfigWrapper> = params.optional(0, "slot or config")?;
    let (slot, config) = wrapper.map(|w| w.unzip()).unwrap_or((None, None));
    let raw_config = [params.raw(0), params.raw(1)].into_iter().flatten().find(|raw| raw.is_object());
    let config = match config {
        Some(config) => Some(config),
        None => params.optional::<Option<RpcLeaderScheduleConfig>>(1, "config")?,
    };
    let bank = commitment::bank(chain, raw_config)?;
    let epoch = bank.epoch_schedule().get_epoch(slot.unwrap_or(bank.slot()));
    let identity = chain.identity().to_string();
    if config.and_then(|c| c.identity).is_some_and(|wanted| wanted != identity) {
        return Ok(json!({}));
    }
    let slots_in_epoch = bank.get_slots_in_epoch(epoch);
    Ok(json!({ identity: (0..slots_in_epoch).collect::<Vec<u64>>() }))
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
        pubsub: Some(SocketAddr::new(rpc.ip(), rpc.port().wrapping_add(1))),
        version: Some(API_VERSION.to_string()),
        feature_set: None,
        shred_version: Some(0),
    }])
}

/// The bootstrap validator's vote account. This node does not vote: it
/// confirms and roots blocks itself, so its vote account is reported as
/// voting on the confirmed slot with the root as its root, and never delinquent.
pub fn get_vote_accounts(chain: &Chain, params: &Params) -> RpcResult {
    let config: RpcGetVoteAccountsConfig = params.optional(0, "config")?;
    let bank = commitment::bank(chain, params.raw(0))?;
    let wanted: Option<solana_pubkey::Pubkey> = config.vote_pubkey.as_deref().map(|text| parse(text, "vote pubkey")).transpose()?;
    let last_vote = chain.slot_at(CommitmentLevel::Confirmed);
    let root = chain.root();
    let current: Vec<RpcVoteAccountInfo> = bank
        .vote_accounts()
        .iter()
        .filter(|(key, _)| wanted.is_none_or(|wanted| wanted == **key))
        .map(|(key, (stake, account))| {
            let state = account.vote_state_view();
            RpcVoteAccountInfo {
                vote_pubkey: key.to_string(),
                node_pubkey: account.node_pubkey().to_string(),
                activated_stake: *stake,
                commission: state.commission(),
                epoch_vote_account: true,
                epoch_credits: state.epoch_credits_iter().map(|item| (item.epoch(), item.credits(), item.prev_credits())).collect(),
                last_vote,
                root_slot: root,
            }
        })
        .collect();
    to_value(RpcVoteAccountStatus { current, delinquent: Vec::new() })
}

/// agave's rule: 1 lamport, or 1 SOL once the feature that raises it is active.
pub fn get_stake_minimum_delegation(chain: &Chain, params: &Params) -> RpcResult {
    let bank = commitment::bank(chain, params.raw(0))?;
    let raised = bank.feature_set.is_active(&agave_feature_set::stake_raise_minimum_delegation_to_1_sol::id());
    with_context(bank.slot(), solana_stake_program::get_minimum_delegation(raised))
}

/// The newest snapshot archive in the ledger (full only: no incremental ones are taken).
pub fn get_highest_snapshot_slot(chain: &Chain) -> RpcResult {
    match chain.highest_snapshot() {
        Some(full) => to_value(RpcSnapshotSlotInfo { full, incremental: None }),
        None => Err(RpcCustomError::NoSnapshot.into()),
    }
}

/// The newest slot this node has seen: its working slot (it makes every shred itself).
pub fn get_max_slot(chain: &Chain) -> RpcResult {
    Ok(json!(chain.bank().slot()))
}
