//! Block history: which slots hold a block, their times and commitment.
//! Every frozen bank is a block; slots jumped over (`advanceClock`) are skipped.

use serde_json::json;
use solana_rpc_client_api::{custom_error::RpcCustomError, response::RpcBlockCommitment};

use super::{to_value, Params, RpcError, RpcResult};
use crate::chain::Chain;

/// agave's limit on the slot range of `getBlocks` and `getBlocksWithLimit`.
const MAX_BLOCKS_RANGE: u64 = 500_000;

/// The whole history is kept: the first block is the genesis block.
pub fn first_available_block() -> RpcResult {
    Ok(json!(0))
}

pub fn get_blocks(chain: &Chain, params: &Params) -> RpcResult {
    let start: u64 = params.required(0, "start slot")?;
    let end: Option<u64> = params.optional(1, "end slot")?;
    // As agave: no end means the widest range allowed, and never past the root.
    let end = end.unwrap_or_else(|| start.saturating_add(MAX_BLOCKS_RANGE)).min(chain.root());
    if end.saturating_sub(start) > MAX_BLOCKS_RANGE {
        return Err(RpcError::invalid_params(format!("Slot range too large; max {MAX_BLOCKS_RANGE}")));
    }
    Ok(json!(chain.blocks(start, end, usize::MAX)))
}

pub fn get_blocks_with_limit(chain: &Chain, params: &Params) -> RpcResult {
    let start: u64 = params.required(0, "start slot")?;
    let limit: u64 = params.required(1, "limit")?;
    if limit > MAX_BLOCKS_RANGE {
        return Err(RpcError::invalid_params(format!("Limit too large; max {MAX_BLOCKS_RANGE}")));
    }
    Ok(json!(chain.blocks(start, chain.root(), limit as usize)))
}

pub fn get_block_time(chain: &Chain, params: &Params) -> RpcResult {
    let slot: u64 = params.required(0, "slot")?;
    if slot > chain.root() {
        return Err(RpcCustomError::BlockNotAvailable { slot }.into());
    }
    match chain.block_time(slot) {
        Some(time) => Ok(json!(time)),
        None => Err(RpcCustomError::SlotSkipped { slot }.into()),
    }
}

/// No votes are cast here, so no commitment is tracked per block.
pub fn get_block_commitment(chain: &Chain, params: &Params) -> RpcResult {
    let _slot: u64 = params.required(0, "slot")?;
    to_value(RpcBlockCommitment::<[u64; 32]> { commitment: None, total_stake: chain.bank().total_epoch_stake() })
}
