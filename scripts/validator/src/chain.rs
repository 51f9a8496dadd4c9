//! The chain: a `BankForks` whose working bank advances one slot per
//! `slot_duration` (so a blockhash stays valid for 150 slots, as on a real
//! cluster), transactions processed one at a time after signature
//! verification and preflight, and the history `getTransaction` /
//! `getSignaturesForAddress` serve.

use std::{
    collections::{HashMap, VecDeque},
    sync::{Arc, Mutex, MutexGuard, RwLock},
    thread,
    time::Duration,
};

use solana_account::AccountSharedData;
use solana_accounts_db::epoch_accounts_hash::EpochAccountsHash;
use solana_clock::Slot;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_pubkey::Pubkey;
use solana_runtime::{
    bank::{Bank, TransactionSimulationResult},
    bank_forks::BankForks,
};
use solana_signature::Signature;
use solana_runtime_transaction::runtime_transaction::RuntimeTransaction;
use solana_transaction::{
    sanitized::SanitizedTransaction, versioned::VersionedTransaction, TransactionVerificationMode,
};
use solana_transaction_error::TransactionError;

use crate::genesis::genesis_bank;

/// Slots of history kept for `getRecentPrioritizationFees`, as a validator does.
const FEE_HISTORY_SLOTS: usize = 150;
/// ComputeBudget instruction tag of `SetComputeUnitPrice`.
const SET_COMPUTE_UNIT_PRICE: u8 = 3;

/// What executing (or simulating) a transaction produced.
#[derive(Clone, Debug)]
pub struct Execution {
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units: u64,
    pub return_data: Option<(Pubkey, Vec<u8>)>,
    pub loaded_accounts_data_size: u32,
}

/// A committed transaction, as `getTransaction` reports it.
#[derive(Clone, Debug)]
pub struct StoredTx {
    pub slot: Slot,
    pub block_time: i64,
    pub tx: VersionedTransaction,
    pub fee: u64,
    pub pre_balances: Vec<u64>,
    pub post_balances: Vec<u64>,
    pub execution: Execution,
}

/// Why `send` refused a transaction.
pub enum SendError {
    /// Malformed, over-sized or unsanitizable.
    Invalid(TransactionError),
    /// A signature does not verify.
    Signature,
    /// Preflight simulation failed.
    Preflight(Execution),
}

#[derive(Default)]
struct History {
    txs: HashMap<Signature, StoredTx>,
    /// Signatures per account key, oldest first.
    by_address: HashMap<Pubkey, Vec<Signature>>,
    /// Per slot: (compute-unit price, write-locked keys) of each transaction.
    fees: VecDeque<(Slot, Vec<(u64, Vec<Pubkey>)>)>,
    /// Slots that hold a block (frozen banks), ascending; the others were skipped.
    blocks: Vec<Slot>,
}

pub struct Chain {
    forks: Arc<RwLock<BankForks>>,
    /// Held while a transaction runs or a slot ends: one writer at a time.
    history: Mutex<History>,
    faucet: Keypair,
    genesis_hash: Hash,
    /// Unix time of slot 0.
    genesis_time: i64,
    collector: Pubkey,
}

impl Chain {
    pub fn new(accounts: Vec<(Pubkey, AccountSharedData)>, slot_duration: Duration) -> Arc<Self> {
        let (bank, faucet, genesis_time) = genesis_bank(accounts, slot_duration);
        let genesis_hash = bank.last_blockhash();
        let collector = *bank.collector_id();
        // No snapshot service runs here: mark the epoch accounts hash as known so
        // freezing a bank never waits for a calculation nobody started.
        bank.rc
            .accounts
            .accounts_db
            .epoch_accounts_hash_manager
            .set_valid(EpochAccountsHash::new(Hash::new_unique()), bank.slot());
        let chain = Arc::new(Chain {
            forks: BankForks::new_rw_arc(bank),
            history: Mutex::new(History::default()),
            faucet,
            genesis_hash,
            genesis_time,
            collector,
        });
        chain.advance(1);
        chain
    }

    /// End a slot every `slot_duration`, in a background thread.
    pub fn produce_slots(self: &Arc<Self>, slot_duration: Duration) {
        let chain = Arc::clone(self);
        thread::Builder::new()
            .name("slot-producer".into())
            .spawn(move || loop {
                thread::sleep(slot_duration);
                chain.advance(1);
            })
            .expect("spawn slot producer");
    }

    /// The bank transactions run in (commitment "processed").
    pub fn bank(&self) -> Arc<Bank> {
        self.forks.read().unwrap().working_bank()
    }

    pub fn root(&self) -> Slot {
        self.forks.read().unwrap().root()
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn faucet(&self) -> &Keypair {
        &self.faucet
    }

    fn lock(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Close the working slot and open the one `slots` later (skipping the
    /// rest): the closed slot's blockhash becomes the latest, and it is rooted.
    /// Long jumps go one epoch at a time, so every epoch boundary is processed
    /// (stakes, rewards, leader schedule) as on a cluster.
    ///
    /// As agave's replay stage does, the child bank is made without the
    /// BankForks lock, which is taken for writing only to insert it and move
    /// the root: `Bank::new_from_parent` waits for the program cache, which a
    /// simulation may hold while it waits to read BankForks.
    pub fn advance(&self, slots: u64) -> Slot {
        let mut history = self.lock();
        let target = self.bank().slot() + slots;
        loop {
            let parent = self.bank();
            let next_epoch = parent.epoch_schedule().get_first_slot_in_epoch(parent.epoch() + 1);
            let slot = target.min(next_epoch);
            parent.fill_bank_with_ticks_for_tests();
            parent.freeze();
            history.blocks.push(parent.slot());
            let child = Bank::new_from_parent(parent.clone(), &self.collector, slot);
            self.set_clock(&child);
            let mut forks = self.forks.write().unwrap();
            forks.insert(child);
            forks
                .set_root(parent.slot(), None, None)
                .expect("rooting the frozen parent of the working bank");
            drop(forks);
            if slot == target {
                return slot;
            }
        }
    }

    /// Wall-clock time follows the slot: genesis time plus one slot duration
    /// per slot. (The runtime's own estimate drifts without votes.)
    fn set_clock(&self, bank: &Bank) {
        let mut clock = bank.clock();
        clock.unix_timestamp = self.time_of(bank.slot(), bank.ns_per_slot);
        if bank.slot() == bank.epoch_schedule().get_first_slot_in_epoch(bank.epoch()) {
            clock.epoch_start_timestamp = clock.unix_timestamp;
        }
        bank.set_sysvar_for_tests(&clock);
    }

    fn time_of(&self, slot: Slot, ns_per_slot: u128) -> i64 {
        self.genesis_time + (slot as u128 * ns_per_slot / 1_000_000_000) as i64
    }

    /// The unix time of the block at `slot`, or `None` when `slot` was skipped.
    pub fn block_time(&self, slot: Slot) -> Option<i64> {
        let is_block = self.lock().blocks.binary_search(&slot).is_ok();
        is_block.then(|| self.time_of(slot, self.bank().ns_per_slot))
    }

    /// Block slots from `start` to `end` (inclusive), at most `limit`.
    pub fn blocks(&self, start: Slot, end: Slot, limit: usize) -> Vec<Slot> {
        let history = self.lock();
        let from = history.blocks.partition_point(|slot| *slot < start);
        history.blocks[from..].iter().copied().take_while(|slot| *slot <= end).take(limit).collect()
    }

    /// The node's identity, which leads every slot.
    pub fn identity(&self) -> Pubkey {
        self.collector
    }

    /// Move the clock forward by at least `seconds` (whole slots).
    pub fn advance_clock(&self, seconds: u64) -> (Slot, i64) {
        let ns_per_slot = self.bank().ns_per_slot;
        let slots = ((seconds as u128 * 1_000_000_000).div_ceil(ns_per_slot)).max(1) as u64;
        self.advance(slots);
        let bank = self.bank();
        (bank.slot(), bank.clock().unix_timestamp)
    }

    /// Simulate against the working bank without committing anything.
    pub fn simulate(&self, tx: VersionedTransaction, verify_signatures: bool) -> Result<Execution, SendError> {
        let bank = self.bank();
        let sanitized = verify(&bank, tx, verify_signatures)?;
        Ok(execution_of(bank.simulate_transaction_unchecked(&sanitized, false)))
    }

    /// Verify, preflight (unless skipped) and process one transaction.
    pub fn send(&self, tx: VersionedTransaction, skip_preflight: bool) -> Result<Signature, SendError> {
        let mut history = self.lock();
        let bank = self.bank();
        let sanitized = verify(&bank, tx.clone(), true)?;
        let signature = tx.signatures[0];
        if !skip_preflight {
            let simulation = execution_of(bank.simulate_transaction_unchecked(&sanitized, false));
            if simulation.err.is_some() {
                return Err(SendError::Preflight(simulation));
            }
        }
        let keys: Vec<Pubkey> = tx.message.static_account_keys().to_vec();
        let pre_balances = keys.iter().map(|key| bank.get_balance(key)).collect();
        // A transaction that fails before execution (expired blockhash, no fee
        // funds, already processed) is dropped, as a validator drops it.
        let Ok(committed) = bank.process_transaction_with_metadata(tx.clone()) else {
            return Ok(signature);
        };
        let post_balances = keys.iter().map(|key| bank.get_balance(key)).collect();
        let execution = Execution {
            err: committed.status.err(),
            logs: normalize(committed.log_messages.unwrap_or_default()),
            units: committed.executed_units,
            return_data: committed.return_data.map(|r| (r.program_id, r.data)),
            loaded_accounts_data_size: committed.loaded_account_stats.loaded_accounts_data_size,
        };
        let stored = StoredTx {
            slot: bank.slot(),
            block_time: bank.clock().unix_timestamp,
            fee: committed.fee_details.total_fee(),
            pre_balances,
            post_balances,
            execution,
            tx,
        };
        history.record(signature, stored);
        Ok(signature)
    }

    /// Transfer lamports from the faucet.
    /// The same request under the same blockhash is the same transaction, so
    /// a repeat is answered with the signature that already landed, as a
    /// faucet answers it.
    pub fn airdrop(&self, to: &Pubkey, lamports: u64) -> Result<Signature, SendError> {
        let blockhash = self.bank().last_blockhash();
        let tx = solana_system_transaction::transfer(&self.faucet, to, lamports, blockhash);
        if self.status(&tx.signatures[0]).is_some() {
            return Ok(tx.signatures[0]);
        }
        self.send(tx.into(), false)
    }

    pub fn transaction(&self, signature: &Signature) -> Option<StoredTx> {
        self.lock().txs.get(signature).cloned()
    }

    /// Slot and result of a processed transaction.
    pub fn status(&self, signature: &Signature) -> Option<(Slot, Option<TransactionError>)> {
        if let Some(stored) = self.lock().txs.get(signature) {
            return Some((stored.slot, stored.execution.err.clone()));
        }
        self.bank()
            .get_signature_status_slot(signature)
            .map(|(slot, result)| (slot, result.err()))
    }

    /// Newest first: transactions naming `address`, after `before` (exclusive)
    /// and down to `until` (exclusive).
    pub fn signatures_for(
        &self,
        address: &Pubkey,
        limit: usize,
        before: Option<Signature>,
        until: Option<Signature>,
    ) -> Vec<StoredTx> {
        let history = self.lock();
        let Some(signatures) = history.by_address.get(address) else {
            return Vec::new();
        };
        let newest_first = signatures.iter().rev();
        let mut started = before.is_none();
        let mut out = Vec::new();
        for signature in newest_first {
            if !started {
                started = Some(*signature) == before;
                continue;
            }
            if Some(*signature) == until || out.len() == limit {
                break;
            }
            out.push(history.txs[signature].clone());
        }
        out
    }

    /// Per recent slot, the lowest compute-unit price paid by a transaction
    /// that write-locked any of `accounts` (any transaction when empty).
    pub fn prioritization_fees(&self, accounts: &[Pubkey]) -> Vec<(Slot, u64)> {
        let history = self.lock();
        let mut out: Vec<(Slot, u64)> = history
            .fees
            .iter()
            .filter_map(|(slot, txs)| {
                txs.iter()
                    .filter(|(_, writable)| {
                        accounts.is_empty() || writable.iter().any(|key| accounts.contains(key))
                    })
                    .map(|(price, _)| *price)
                    .min()
                    .map(|fee| (*slot, fee))
            })
            .collect();
        if out.is_empty() {
            out.push((self.bank().slot(), 0));
        }
        out
    }
}

impl History {
    fn record(&mut self, signature: Signature, stored: StoredTx) {
        let message = &stored.tx.message;
        let keys = message.static_account_keys();
        for key in keys {
            self.by_address.entry(*key).or_default().push(signature);
        }
        let writable = keys
            .iter()
            .enumerate()
            .filter(|(index, _)| message.is_maybe_writable(*index, None))
            .map(|(_, key)| *key)
            .collect();
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
        self.txs.insert(signature, stored);
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

/// Check size, signatures (when asked) and sanitize. Precompiles are
/// verified by the runtime during execution.
fn verify(
    bank: &Bank,
    tx: VersionedTransaction,
    verify_signatures: bool,
) -> Result<RuntimeTransaction<SanitizedTransaction>, SendError> {
    let mode = if verify_signatures {
        TransactionVerificationMode::FullVerification
    } else {
        TransactionVerificationMode::HashOnly
    };
    bank.verify_transaction(tx, mode).map_err(|err| match err {
        TransactionError::SignatureFailure => SendError::Signature,
        other => SendError::Invalid(other),
    })
}

fn execution_of(simulation: TransactionSimulationResult) -> Execution {
    Execution {
        err: simulation.result.err(),
        logs: normalize(simulation.logs),
        units: simulation.units_consumed,
        return_data: simulation.return_data.map(|r| (r.program_id, r.data)),
        loaded_accounts_data_size: simulation.loaded_accounts_data_size,
    }
}

fn normalize(logs: Vec<String>) -> Vec<String> {
    host_hooks::normalize_logs(&logs)
}
