//! Block history: which slots hold a block, the blocks themselves (agave's
//! `UiConfirmedBlock`), their times, production and performance samples.
//! Every frozen bank is a block; slots jumped over (`advanceClock`) are skipped.

use std::collections::HashMap;

use serde_json::json;
use solana_clock::Slot;
use solana_commitment_config::CommitmentLevel;
use solana_rpc_client_api::{
    config::{RpcBlockConfig, RpcBlockProductionConfig, RpcBlocksConfigWrapper, RpcEncodingConfigWrapper, RpcEpochConfig},
    custom_error::RpcCustomError,
    response::{RpcBlockCommitment, RpcBlockProduction, RpcBlockProductionRange, RpcInflationReward, RpcPerfSample},
};
use solana_transaction_status::{BlockEncodingOptions, ConfirmedBlock, Reward, RewardType, UiTransactionEncoding};

use super::{commitment, to_value, transactions::with_meta, with_context, Params, RpcError, RpcResult};
use crate::chain::Chain;

/// agave's limit on the slot range of `getBlocks` and `getBlocksWithLimit`.
const MAX_BLOCKS_RANGE: u64 = 500_000;
/// agave samples performance once a minute and keeps 720 samples.
const SAMPLE_PERIOD_SECS: i64 = 60;
const MAX_PERFORMANCE_SAMPLES: usize = 720;

/// The whole history is kept: the first block is the genesis block.
pub fn first_available_block() -> RpcResult {
    Ok(json!(0))
}

/// The highest slot a block read at the config's commitment may return.
fn highest(chain: &Chain, config: Option<&serde_json::Value>) -> Result<Slot, RpcError> {
    Ok(chain.slot_at(commitment::at_least_confirmed(config.filter(|raw| raw.is_object()))?))
}

pub fn get_blocks(chain: &Chain, params: &Params) -> RpcResult {
    let start: u64 = params.required(0, "start slot")?;
    let wrapper: Option<RpcBlocksConfigWrapper> = params.optional(1, "end slot")?;
    let (end, _) = wrapper.map(|w| w.unzip()).unwrap_or((None, None));
    let config = [params.raw(1), params.raw(2)].into_iter().flatten().find(|raw| raw.is_object());
    let highest = highest(chain, config)?;
    // As agave: no end means the widest range allowed, and never past the commitment.
    let end = end.unwrap_or_else(|| start.saturating_add(MAX_BLOCKS_RANGE)).min(highest);
    if end.saturating_sub(start) > MAX_BLOCKS_RANGE {
        return Err(RpcError::invalid_params(format!("Slot range too large; max {MAX_BLOCKS_RANGE}")));
    }
    let slots: Vec<Slot> = chain.history().blocks_in(start..=end).iter().map(|block| block.slot).collect();
    Ok(json!(slots))
}

pub fn get_blocks_with_limit(chain: &Chain, params: &Params) -> RpcResult {
    let start: u64 = params.required(0, "start slot")?;
    let limit: u64 = params.required(1, "limit")?;
    if limit > MAX_BLOCKS_RANGE {
        return Err(RpcError::invalid_params(format!("Limit too large; max {MAX_BLOCKS_RANGE}")));
    }
    let highest = highest(chain, params.raw(2))?;
    let history = chain.history();
    let slots: Vec<Slot> = history
        .blocks()
        .iter()
        .map(|block| block.slot)
        .filter(|slot| (start..=highest).contains(slot))
        .take(limit as usize)
        .collect();
    Ok(json!(slots))
}

pub fn get_block_time(chain: &Chain, params: &Params) -> RpcResult {
    let slot: u64 = params.required(0, "slot")?;
    if slot > chain.slot_at(CommitmentLevel::Confirmed) {
        return Err(RpcCustomError::BlockNotAvailable { slot }.into());
    }
    match chain.history().block(slot) {
        Some(block) => Ok(json!(block.block_time)),
        None => Err(RpcCustomError::SlotSkipped { slot }.into()),
    }
}

/// The block at a slot, with its transactions in the encoding and detail asked for.
pub fn get_block(chain: &Chain, params: &Params) -> RpcResult {
    let slot: u64 = params.required(0, "slot")?;
    let wrapper: Option<RpcEncodingConfigWrapper<RpcBlockConfig>> = params.optional(1, "config")?;
    let config = wrapper.map(|w| w.convert_to_current()).unwrap_or_default();
    if slot > highest(chain, params.raw(1))? {
        return Err(RpcCustomError::BlockNotAvailable { slot }.into());
    }
    let history = chain.history();
    let block = history.block(slot).ok_or(RpcCustomError::SlotSkipped { slot })?.clone();
    let transactions = block
        .signatures
        .iter()
        .filter_map(|signature| history.transaction(signature).cloned())
        .map(with_meta)
        .collect();
    drop(history);
    let confirmed = ConfirmedBlock {
        previous_blockhash: block.previous_blockhash.to_string(),
        blockhash: block.blockhash.to_string(),
        parent_slot: block.parent_slot,
        transactions,
        rewards: block.rewards,
        num_partitions: None,
        block_time: Some(block.block_time),
        block_height: Some(block.block_height),
    };
    let options = BlockEncodingOptions {
        transaction_details: config.transaction_details.unwrap_or_default(),
        show_rewards: config.rewards.unwrap_or(true),
        max_supported_transaction_version: config.max_supported_transaction_version,
    };
    let encoded = confirmed
        .encode_with_options(config.encoding.unwrap_or(UiTransactionEncoding::Json), options)
        .map_err(|solana_transaction_status::EncodeError::UnsupportedTransactionVersion(version)| {
            RpcError::from(RpcCustomError::UnsupportedTransactionVersion(version))
        })?;
    to_value(encoded)
}

/// No votes are cast here, so no commitment is tracked per block.
pub fn get_block_commitment(chain: &Chain, params: &Params) -> RpcResult {
    let _slot: u64 = params.required(0, "slot")?;
    to_value(RpcBlockCommitment::<[u64; 32]> { commitment: None, total_stake: chain.bank().total_epoch_stake() })
}

/// This node leads every slot: its leader slots are the range's slots, its
/// blocks the ones that were not skipped.
pub fn get_block_production(chain: &Chain, params: &Params) -> RpcResult {
    let config: RpcBlockProductionConfig = params.optional(0, "config")?;
    let bank = commitment::bank(chain, params.raw(0))?;
    let epoch_start = bank.epoch_schedule().get_first_slot_in_epoch(bank.epoch());
    let (first_slot, last_slot) = match config.range {
        Some(range) => (range.first_slot, range.last_slot.unwrap_or(bank.slot())),
        None => (epoch_start, bank.slot()),
    };
    if last_slot < first_slot {
        return Err(RpcError::invalid_params(format!(
            "lastSlot, {last_slot}, cannot be less than firstSlot, {first_slot}"
        )));
    }
    let identity = chain.identity().to_string();
    let mut by_identity = HashMap::new();
    if config.identity.as_ref().is_none_or(|wanted| *wanted == identity) {
        let leader_slots = (last_slot.min(bank.slot()) + 1).saturating_sub(first_slot) as usize;
        let produced = chain.history().blocks_in(first_slot..=last_slot).len();
        by_identity.insert(identity, (leader_slots, produced));
    }
    with_context(bank.slot(), RpcBlockProduction { by_identity, range: RpcBlockProductionRange { first_slot, last_slot } })
}

/// Per minute of block time, newest first: transactions and slots.
pub fn get_recent_performance_samples(chain: &Chain, params: &Params) -> RpcResult {
    let limit: Option<usize> = params.optional(0, "limit")?;
    let limit = limit.unwrap_or(MAX_PERFORMANCE_SAMPLES);
    if limit > MAX_PERFORMANCE_SAMPLES {
        return Err(RpcError::invalid_params(format!("Invalid limit; max {MAX_PERFORMANCE_SAMPLES}")));
    }
    let history = chain.history();
    let blocks = history.blocks();
    let Some(first) = blocks.first() else {
        return to_value(Vec::<RpcPerfSample>::new());
    };
    let period = |time: i64| (time - first.block_time) / SAMPLE_PERIOD_SECS;
    let mut samples: Vec<RpcPerfSample> = Vec::new();
    let mut previous_slot = first.slot;
    for chunk in blocks.chunk_by(|a, b| period(a.block_time) == period(b.block_time)) {
        let last = chunk.last().expect("chunks are not empty");
        let transactions = chunk.iter().map(|block| block.signatures.len() as u64).sum();
        samples.push(RpcPerfSample {
            slot: last.slot,
            num_transactions: transactions,
            num_non_vote_transactions: Some(transactions),
            num_slots: last.slot - previous_slot,
            sample_period_secs: SAMPLE_PERIOD_SECS as u16,
        });
        previous_slot = last.slot;
    }
    samples.reverse();
    samples.truncate(limit);
    to_value(samples)
}

/// agave's cap on `getInflationReward` addresses.
const MAX_INFLATION_REWARD_ADDRESSES: usize = 1_000;

/// The epoch's staking and voting rewards of each address, paid in the
/// blocks at the start of the next epoch; null for an address paid nothing.
pub fn get_inflation_reward(chain: &Chain, params: &Params) -> RpcResult {
    let addresses: Vec<String> = params.required(0, "addresses")?;
    if addresses.len() > MAX_INFLATION_REWARD_ADDRESSES {
        return Err(RpcError::invalid_params(format!(
            "Too many inputs provided; max {MAX_INFLATION_REWARD_ADDRESSES}"
        )));
    }
    let addresses = addresses.iter().map(|text| super::parse(text, "pubkey")).collect::<Result<Vec<solana_pubkey::Pubkey>, _>>()?;
    let config: RpcEpochConfig = params.optional(1, "config")?;
    let bank = commitment::bank(chain, params.raw(1))?;
    let epoch = match config.epoch {
        Some(epoch) => epoch,
        None => bank.epoch().checked_sub(1).ok_or_else(|| RpcError::invalid_params("Rewards not available during first epoch"))?,
    };
    let schedule = bank.epoch_schedule();
    let paid_from = schedule.get_first_slot_in_epoch(epoch + 1);
    if paid_from > bank.slot() {
        return Err(RpcCustomError::BlockNotAvailable { slot: paid_from }.into());
    }
    let paid_to = schedule.get_last_slot_in_epoch(epoch + 1).min(bank.slot());
    let history = chain.history();
    let paid: Vec<(Slot, &Reward)> = history
        .blocks_in(paid_from..=paid_to)
        .iter()
        .flat_map(|block| block.rewards.iter().map(move |reward| (block.slot, reward)))
        .filter(|(_, reward)| matches!(reward.reward_type, Some(RewardType::Staking | RewardType::Voting)))
        .collect();
    let rewards: Vec<Option<RpcInflationReward>> = addresses
        .iter()
        .map(|address| {
            let address = address.to_string();
            paid.iter().find(|(_, reward)| reward.pubkey == address).map(|(slot, reward)| RpcInflationReward {
                epoch,
                effective_slot: *slot,
                amount: reward.lamports.unsigned_abs(),
                post_balance: reward.post_balance,
                commission: reward.commission,
            })
        })
        .collect();
    to_value(rewards)
}
