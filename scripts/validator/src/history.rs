//! What the chain has done: committed transactions with their status meta
//! (for `getTransaction`, `getSignaturesForAddress`, `getBlock` and the logs
//! subscriptions), the blocks, and recent compute-unit prices.

use std::{
    collections::{HashMap, VecDeque},
    ops::RangeInclusive,
};

use serde::{Deserialize, Serialize};
use solana_account_decoder::parse_token::UiTokenAmount;
use solana_clock::{Slot, UnixTimestamp};
use solana_hash::Hash;
use solana_message::v0::LoadedAddresses;
use solana_pubkey::Pubkey;
use solana_signature::Signature;
use solana_transaction::versioned::VersionedTransaction;
use solana_transaction_context::TransactionReturnData;
use solana_transaction_error::TransactionError;
use solana_transaction_status::{InnerInstructions, Reward, TransactionStatusMeta, TransactionTokenBalance};

/// Slots of history kept for `getRecentPrioritizationFees`, as a validator does.
const FEE_HISTORY_SLOTS: usize = 150;
/// ComputeBudget instruction tag of `SetComputeUnitPrice`.
const SET_COMPUTE_UNIT_PRICE: u8 = 3;

/// A committed transaction, as `getTransaction` reports it.
#[derive(Clone, Debug)]
pub struct StoredTx {
    pub slot: Slot,
    pub block_time: UnixTimestamp,
    pub tx: VersionedTransaction,
    pub meta: TransactionStatusMeta,
}

impl StoredTx {
    /// Every account the transaction names: its own keys, then the ones it
    /// loaded from lookup tables (writable, then read-only).
    pub fn account_keys(&self) -> impl Iterator<Item = &Pubkey> {
        let loaded = &self.meta.loaded_addresses;
        self.tx.message.static_account_keys().iter().chain(&loaded.writable).chain(&loaded.readonly)
    }

    /// The accounts the transaction could write.
    pub fn writable_keys(&self) -> impl Iterator<Item = &Pubkey> {
        let message = &self.tx.message;
        let keys = message.static_account_keys();
        keys.iter()
            .enumerate()
            .filter(|(index, _)| message.is_maybe_writable(*index, None))
            .map(|(_, key)| key)
            .chain(&self.meta.loaded_addresses.writable)
    }
}

/// A frozen bank: a block.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Block {
    pub slot: Slot,
    pub parent_slot: Slot,
    pub blockhash: Hash,
    pub previous_blockhash: Hash,
    pub block_height: u64,
    pub block_time: UnixTimestamp,
    /// In the order they were processed.
    pub signatures: Vec<Signature>,
    pub rewards: Vec<Reward>,
}

/// The history up to a rooted slot, as the ledger directory keeps it.
#[derive(Serialize, Deserialize)]
pub struct Saved {
    txs: Vec<SavedTx>,
    blocks: Vec<Block>,
}

#[derive(Default)]
pub struct History {
    txs: HashMap<Signature, StoredTx>,
    /// Signatures per account key (lookup-table addresses included), oldest first.
    by_address: HashMap<Pubkey, Vec<Signature>>,
    /// Per slot: (compute-unit price, write-locked keys) of each transaction.
    fees: VecDeque<(Slot, Vec<(u64, Vec<Pubkey>)>)>,
    /// Frozen banks, ascending by slot; the slots between were skipped.
    blocks: Vec<Block>,
    /// Signatures processed in the working bank so far.
    working: Vec<Signature>,
}

impl History {
    pub fn record(&mut self, stored: StoredTx) {
        let signature = stored.tx.signatures[0];
        for key in stored.account_keys() {
            self.by_address.entry(*key).or_default().push(signature);
        }
        let writable = stored.writable_keys().copied().collect();
        let price = compute_unit_price(&stored.tx);
        match self.fees.back_mut() {
            Some((slot, txs)) if *slot == stored.slot => txs.push((price, writable)),
            _ => {
                self.fees.push_back((stored.slot, vec![(price, writable)]));
                if self.fees.len() > FEE_HISTORY_SLOTS {
                    self.fees.pop_front();
                }
            }
        }
        self.working.push(signature);
        self.txs.insert(signature, stored);
    }

    /// Everything up to `root`, to save beside a snapshot of the bank at `root`.
    pub fn saved(&self, root: Slot) -> Saved {
        let blocks = self.blocks_in(0..=root).to_vec();
        let txs = blocks
            .iter()
            .flat_map(|block| &block.signatures)
            .map(|signature| SavedTx::from(&self.txs[signature]))
            .collect();
        Saved { txs, blocks }
    }

    /// The history a saved one describes.
    pub fn restored(saved: Saved) -> Self {
        let mut history = History::default();
        for tx in saved.txs {
            history.record(tx.into());
        }
        history.working.clear();
        history.blocks = saved.blocks;
        history
    }

    /// Close the working slot's block (its transactions are the ones recorded since the last).
    pub fn close_block(&mut self, mut block: Block) {
        block.signatures = std::mem::take(&mut self.working);
        self.blocks.push(block);
    }

    pub fn transaction(&self, signature: &Signature) -> Option<&StoredTx> {
        self.txs.get(signature)
    }

    pub fn blocks(&self) -> &[Block] {
        &self.blocks
    }

    pub fn block(&self, slot: Slot) -> Option<&Block> {
        self.blocks.binary_search_by_key(&slot, |block| block.slot).ok().map(|index| &self.blocks[index])
    }

    /// Blocks whose slot is in `slots`, ascending.
    pub fn blocks_in(&self, slots: RangeInclusive<Slot>) -> &[Block] {
        let from = self.blocks.partition_point(|block| block.slot < *slots.start());
        let to = self.blocks.partition_point(|block| block.slot <= *slots.end());
        &self.blocks[from..to.max(from)]
    }

    /// Newest first: transactions naming `address` at or below `max_slot`,
    /// after `before` (exclusive) and down to `until` (exclusive).
    pub fn signatures_for(
        &self,
        address: &Pubkey,
        max_slot: Slot,
        limit: usize,
        before: Option<Signature>,
        until: Option<Signature>,
    ) -> Vec<&StoredTx> {
        let Some(signatures) = self.by_address.get(address) else {
            return Vec::new();
        };
        let mut started = before.is_none();
        let mut out = Vec::new();
        for signature in signatures.iter().rev() {
            if !started {
                started = Some(*signature) == before;
                continue;
            }
            if Some(*signature) == until || out.len() == limit {
                break;
            }
            let stored = &self.txs[signature];
            if stored.slot <= max_slot {
                out.push(stored);
            }
        }
        out
    }

    /// Per recent slot, the lowest compute-unit price paid by a transaction
    /// that write-locked any of `accounts` (any transaction when empty).
    pub fn prioritization_fees(&self, accounts: &[Pubkey]) -> Vec<(Slot, u64)> {
        self.fees
            .iter()
            .filter_map(|(slot, txs)| {
                txs.iter()
                    .filter(|(_, writable)| accounts.is_empty() || writable.iter().any(|key| accounts.contains(key)))
                    .map(|(price, _)| *price)
                    .min()
                    .map(|fee| (*slot, fee))
            })
            .collect()
    }
}

/// Micro-lamports per compute unit the transaction offers (0 when unset).
fn compute_unit_price(tx: &VersionedTransaction) -> u64 {
    let keys = tx.message.static_account_keys();
    tx.message
        .instructions()
        .iter()
        .filter(|ix| keys.get(ix.program_id_index as usize) == Some(&solana_compute_budget_interface::ID))
        .filter_map(|ix| match ix.data.as_slice() {
            [SET_COMPUTE_UNIT_PRICE, rest @ ..] => rest.get(..8).map(|b| u64::from_le_bytes(b.try_into().unwrap())),
            _ => None,
        })
        .last()
        .unwrap_or(0)
}

/// `StoredTx` with its meta in a form serde can write (agave's meta and token
/// balance types are not `Serialize`; every field inside them is).
#[derive(Serialize, Deserialize)]
struct SavedTx {
    slot: Slot,
    block_time: UnixTimestamp,
    tx: VersionedTransaction,
    status: Result<(), TransactionError>,
    fee: u64,
    pre_balances: Vec<u64>,
    post_balances: Vec<u64>,
    inner_instructions: Option<Vec<InnerInstructions>>,
    log_messages: Option<Vec<String>>,
    pre_token_balances: Option<Vec<SavedTokenBalance>>,
    post_token_balances: Option<Vec<SavedTokenBalance>>,
    rewards: Option<Vec<Reward>>,
    loaded_addresses: LoadedAddresses,
    return_data: Option<TransactionReturnData>,
    compute_units_consumed: Option<u64>,
    cost_units: Option<u64>,
}

/// A token balance: account index, mint, amount, owner, token program.
type SavedTokenBalance = (u8, String, UiTokenAmount, String, String);

fn save_balances(list: Option<Vec<TransactionTokenBalance>>) -> Option<Vec<SavedTokenBalance>> {
    let save = |b: TransactionTokenBalance| (b.account_index, b.mint, b.ui_token_amount, b.owner, b.program_id);
    list.map(|list| list.into_iter().map(save).collect())
}

fn restore_balances(list: Option<Vec<SavedTokenBalance>>) -> Option<Vec<TransactionTokenBalance>> {
    let restore = |(account_index, mint, ui_token_amount, owner, program_id)| TransactionTokenBalance {
        account_index,
        mint,
        ui_token_amount,
        owner,
        program_id,
    };
    list.map(|list| list.into_iter().map(restore).collect())
}

impl From<&StoredTx> for SavedTx {
    fn from(stored: &StoredTx) -> Self {
        let meta = stored.meta.clone();
        SavedTx {
            slot: stored.slot,
            block_time: stored.block_time,
            tx: stored.tx.clone(),
            status: meta.status,
            fee: meta.fee,
            pre_balances: meta.pre_balances,
            post_balances: meta.post_balances,
            inner_instructions: meta.inner_instructions,
            log_messages: meta.log_messages,
            pre_token_balances: save_balances(meta.pre_token_balances),
            post_token_balances: save_balances(meta.post_token_balances),
            rewards: meta.rewards,
            loaded_addresses: meta.loaded_addresses,
            return_data: meta.return_data,
            compute_units_consumed: meta.compute_units_consumed,
            cost_units: meta.cost_units,
        }
    }
}

impl From<SavedTx> for StoredTx {
    fn from(saved: SavedTx) -> Self {
        StoredTx {
            slot: saved.slot,
            block_time: saved.block_time,
            tx: saved.tx,
            meta: TransactionStatusMeta {
                status: saved.status,
                fee: saved.fee,
                pre_balances: saved.pre_balances,
                post_balances: saved.post_balances,
                inner_instructions: saved.inner_instructions,
                log_messages: saved.log_messages,
                pre_token_balances: restore_balances(saved.pre_token_balances),
                post_token_balances: restore_balances(saved.post_token_balances),
                rewards: saved.rewards,
                loaded_addresses: saved.loaded_addresses,
                return_data: saved.return_data,
                compute_units_consumed: saved.compute_units_consumed,
                cost_units: saved.cost_units,
            },
        }
    }
}
