//! The chain: a `BankForks` whose working bank advances one slot per
//! `slot_duration` (so a blockhash stays valid for 150 slots, as on a real
//! cluster), transactions processed one at a time through the runtime's batch
//! path after signature verification and preflight, and the three commitment
//! levels a cluster has: the working bank (processed), the newest frozen bank
//! (confirmed), and the root, `finality_depth` blocks behind (finalized).
//!
//! Everything that happens is announced on a broadcast channel (`events`),
//! which the pubsub server turns into notifications.

use std::{
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc, Mutex, MutexGuard, RwLock,
    },
    thread,
    time::{Duration, Instant},
};

use solana_account::AccountSharedData;
use solana_accounts_db::epoch_accounts_hash::EpochAccountsHash;
use solana_clock::{Slot, MAX_PROCESSING_AGE};
use solana_commitment_config::CommitmentLevel;
use solana_genesis_config::GenesisConfig;
use solana_hash::Hash;
use solana_keypair::Keypair;
use solana_message::v0::LoadedAddresses;
use solana_pubkey::Pubkey;
use solana_runtime::{
    bank::{Bank, TransactionSimulationResult},
    bank_forks::BankForks,
};
use solana_runtime_transaction::runtime_transaction::RuntimeTransaction;
use solana_signature::Signature;
use solana_svm::transaction_processor::ExecutionRecordingConfig;
use solana_timings::ExecuteTimings;
use solana_transaction_context::TransactionReturnData;
use solana_transaction::{sanitized::SanitizedTransaction, versioned::VersionedTransaction, TransactionVerificationMode};
use solana_transaction_error::TransactionError;
use solana_transaction_status::{map_inner_instructions, InnerInstructions};
use tokio::sync::broadcast;

use crate::{
    history::{Block, History, StoredTx},
    ledger::Ledger,
    status_meta::{reward, status_meta, Balances},
};

/// Events kept for a slow subscriber before it is told it lagged.
const EVENT_BACKLOG: usize = 4096;
/// Rooted slots between two snapshots (agave's default full-snapshot interval
/// for a test validator is of this order).
const SNAPSHOT_INTERVAL_SLOTS: Slot = 100;

/// What executing (or simulating) a transaction produced.
#[derive(Clone, Debug)]
pub struct Execution {
    pub err: Option<TransactionError>,
    pub logs: Vec<String>,
    pub units: u64,
    pub return_data: Option<TransactionReturnData>,
    pub loaded_accounts_data_size: u32,
    pub inner_instructions: Option<Vec<InnerInstructions>>,
    /// The accounts after execution (simulation only).
    pub accounts: Vec<(Pubkey, AccountSharedData)>,
    /// The transaction's own keys, and what it loaded from lookup tables.
    pub static_keys: Vec<Pubkey>,
    pub loaded: LoadedAddresses,
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

/// What the chain announces, in order.
#[derive(Clone, Copy, Debug)]
pub enum ChainEvent {
    /// A transaction was committed to the working bank.
    Processed { slot: Slot, signature: Signature },
    /// A slot ended: its bank is frozen and confirmed.
    Confirmed { slot: Slot },
    /// The root moved to `slot`: everything up to it is finalized.
    Rooted { previous: Slot, slot: Slot },
    /// A new working bank opened.
    NewSlot { slot: Slot, parent: Slot, root: Slot },
}

pub struct Chain {
    forks: Arc<RwLock<BankForks>>,
    /// Held while a transaction runs or a slot ends: one writer at a time.
    history: Mutex<History>,
    /// The newest frozen bank's slot.
    confirmed: AtomicU64,
    finality_depth: usize,
    faucet: Keypair,
    genesis_hash: Hash,
    /// Unix time of slot 0.
    genesis_time: i64,
    collector: Pubkey,
    events: broadcast::Sender<ChainEvent>,
    ledger: Ledger,
    /// Slot of the newest snapshot (or of the restored bank).
    last_snapshot: AtomicU64,
}

/// Where a chain starts.
pub struct Start {
    pub bank: Bank,
    pub genesis: GenesisConfig,
    pub faucet: Keypair,
    pub history: History,
}

impl Chain {
    /// Start from a new genesis bank, or from a rooted bank read back from
    /// the ledger (frozen: its child opens as the working bank).
    pub fn new(start: Start, finality_depth: usize, ledger: Ledger) -> Arc<Self> {
        let Start { bank, genesis, faucet, history } = start;
        let collector = *bank.collector_id();
        let restored = bank.is_frozen();
        let slot = bank.slot();
        // No accounts-hash service runs here: mark the epoch accounts hash as
        // known so freezing a bank never waits for a calculation nobody started.
        bank.rc
            .accounts
            .accounts_db
            .epoch_accounts_hash_manager
            .set_valid(EpochAccountsHash::new(Hash::new_unique()), slot);
        let chain = Arc::new(Chain {
            forks: BankForks::new_rw_arc(bank),
            history: Mutex::new(history),
            confirmed: AtomicU64::new(slot),
            finality_depth,
            faucet,
            genesis_hash: genesis.hash(),
            genesis_time: genesis.creation_time,
            collector,
            events: broadcast::channel(EVENT_BACKLOG).0,
            ledger,
            last_snapshot: AtomicU64::new(slot),
        });
        if restored {
            let parent = chain.bank();
            let child = Bank::new_from_parent(parent, &collector, slot + 1);
            chain.set_clock(&child);
            chain.forks.write().unwrap().insert(child);
        } else {
            chain.advance(1);
        }
        chain
    }

    /// End a slot every `slot_duration`, in a background thread. Slots end on
    /// a fixed schedule (the time a slot end takes does not stretch the next
    /// slot); after a stall the schedule restarts from now rather than
    /// producing a burst of slots.
    pub fn produce_slots(self: &Arc<Self>, slot_duration: Duration) {
        let chain = Arc::clone(self);
        thread::Builder::new()
            .name("slot-producer".into())
            .spawn(move || {
                let mut deadline = Instant::now() + slot_duration;
                loop {
                    thread::sleep(deadline.saturating_duration_since(Instant::now()));
                    chain.advance(1);
                    chain.snapshot_when_due();
                    deadline = (deadline + slot_duration).max(Instant::now());
                }
            })
            .expect("spawn slot producer");
    }

    pub fn events(&self) -> broadcast::Receiver<ChainEvent> {
        self.events.subscribe()
    }

    fn announce(&self, event: ChainEvent) {
        // No subscriber is not an error.
        let _ = self.events.send(event);
    }

    /// The working bank, where transactions run (commitment "processed").
    pub fn bank(&self) -> Arc<Bank> {
        self.forks.read().unwrap().working_bank()
    }

    /// The bank a reader at `commitment` sees.
    pub fn bank_at(&self, commitment: CommitmentLevel) -> Arc<Bank> {
        let forks = self.forks.read().unwrap();
        match commitment {
            CommitmentLevel::Processed => forks.working_bank(),
            CommitmentLevel::Confirmed => {
                forks.get(self.confirmed.load(Ordering::Acquire)).unwrap_or_else(|| forks.root_bank())
            }
            CommitmentLevel::Finalized => forks.root_bank(),
        }
    }

    /// The highest slot a reader at `commitment` sees a transaction in.
    pub fn slot_at(&self, commitment: CommitmentLevel) -> Slot {
        match commitment {
            CommitmentLevel::Processed => self.bank().slot(),
            CommitmentLevel::Confirmed => self.confirmed.load(Ordering::Acquire),
            CommitmentLevel::Finalized => self.root(),
        }
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

    /// The history, read-only.
    pub fn history(&self) -> MutexGuard<'_, History> {
        self.history.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Close the working slot and open the one `slots` later (skipping the
    /// rest): the closed slot's blockhash becomes the latest and its bank is
    /// confirmed; the block `finality_depth` blocks back becomes the root.
    /// Long jumps go one epoch at a time, so every epoch boundary is processed
    /// (stakes, rewards, leader schedule) as on a cluster.
    ///
    /// As agave's replay stage does, the child bank is made without the
    /// BankForks lock, which is taken for writing only to insert it and move
    /// the root: `Bank::new_from_parent` waits for the program cache, which a
    /// simulation may hold while it waits to read BankForks.
    pub fn advance(&self, slots: u64) -> Slot {
        let mut history = self.history();
        let target = self.bank().slot() + slots;
        loop {
            let parent = self.close_working_slot(&mut history);
            let next_epoch = parent.epoch_schedule().get_first_slot_in_epoch(parent.epoch() + 1);
            let slot = target.min(next_epoch);
            let child = Bank::new_from_parent(parent.clone(), &self.collector, slot);
            self.set_clock(&child);
            let blocks = history.blocks();
            let new_root = blocks.len().checked_sub(self.finality_depth + 1).map(|index| blocks[index].slot);
            let mut forks = self.forks.write().unwrap();
            forks.insert(child);
            let previous_root = forks.root();
            if let Some(root) = new_root.filter(|root| *root > previous_root) {
                forks.set_root(root, None, None).expect("rooting a frozen ancestor of the working bank");
            }
            let root = forks.root();
            drop(forks);
            if root > previous_root {
                self.announce(ChainEvent::Rooted { previous: previous_root, slot: root });
            }
            self.announce(ChainEvent::NewSlot { slot, parent: parent.slot(), root });
            if slot == target {
                return slot;
            }
        }
    }

    /// Freeze the working bank into a block: it is confirmed now.
    fn close_working_slot(&self, history: &mut History) -> Arc<Bank> {
        let bank = self.bank();
        let previous_blockhash = bank.last_blockhash();
        bank.fill_bank_with_ticks_for_tests();
        bank.freeze();
        let rewards = bank.rewards.read().unwrap().iter().map(|(key, info)| reward(key, *info)).collect();
        history.close_block(Block {
            slot: bank.slot(),
            parent_slot: bank.parent_slot(),
            blockhash: bank.last_blockhash(),
            previous_blockhash,
            block_height: bank.block_height(),
            block_time: self.time_of(bank.slot(), bank.ns_per_slot),
            signatures: Vec::new(),
            rewards,
        });
        self.confirmed.store(bank.slot(), Ordering::Release);
        self.announce(ChainEvent::Confirmed { slot: bank.slot() });
        bank
    }

    /// Snapshot the root every `SNAPSHOT_INTERVAL_SLOTS` rooted slots.
    fn snapshot_when_due(&self) {
        let root = self.root();
        if root < self.last_snapshot.load(Ordering::Acquire) + SNAPSHOT_INTERVAL_SLOTS {
            return;
        }
        let history = self.history();
        let bank = self.bank_at(CommitmentLevel::Finalized);
        match self.ledger.snapshot(&bank, &history) {
            Ok(took) => log::info!("snapshot of slot {} in {} ms", bank.slot(), took.as_millis()),
            Err(e) => log::warn!("snapshot failed, the chain goes on: {e}"),
        }
        self.last_snapshot.store(bank.slot(), Ordering::Release);
    }

    /// Slot of the newest snapshot archive, if one was taken.
    pub fn highest_snapshot(&self) -> Option<Slot> {
        self.ledger.highest_snapshot()
    }

    /// Stop: close the working slot, root it, snapshot it. Nothing processed
    /// is lost across a restart; the history stays locked, so nothing more
    /// is processed before the process exits.
    pub fn shut_down(&self) -> Result<Slot, String> {
        let mut history = self.history();
        let bank = self.close_working_slot(&mut history);
        self.forks.write().unwrap().set_root(bank.slot(), None, None).map_err(|e| format!("rooting: {e:?}"))?;
        self.ledger.snapshot(&bank, &history)?;
        std::mem::forget(history);
        Ok(bank.slot())
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

    /// The node's identity, which leads every slot.
    pub fn identity(&self) -> Pubkey {
        self.collector
    }

    /// Move the clock forward by at least `seconds` (whole slots), and end
    /// the slot it lands in, so readers at "confirmed" see the new time.
    /// Returns that confirmed slot and its time.
    pub fn advance_clock(&self, seconds: u64) -> (Slot, i64) {
        let ns_per_slot = self.bank().ns_per_slot;
        let slots = ((seconds as u128 * 1_000_000_000).div_ceil(ns_per_slot)).max(1) as u64;
        self.advance(slots);
        self.advance(1);
        let bank = self.bank_at(CommitmentLevel::Confirmed);
        (bank.slot(), bank.clock().unix_timestamp)
    }

    /// Simulate against `bank` without committing anything.
    pub fn simulate(
        &self,
        bank: &Bank,
        tx: VersionedTransaction,
        verify_signatures: bool,
        inner_instructions: bool,
    ) -> Result<Execution, SendError> {
        let sanitized = verify(bank, tx, verify_signatures)?;
        Ok(execution_of(&sanitized, bank.simulate_transaction_unchecked(&sanitized, inner_instructions)))
    }

    /// Verify, preflight against the bank at `preflight` (none: skip) and
    /// process one transaction in the working bank.
    pub fn send(&self, tx: VersionedTransaction, preflight: Option<CommitmentLevel>) -> Result<Signature, SendError> {
        let mut history = self.history();
        let bank = self.bank();
        let sanitized = verify(&bank, tx.clone(), true)?;
        let signature = tx.signatures[0];
        if let Some(commitment) = preflight {
            let simulation = self.simulate(&self.bank_at(commitment), tx.clone(), false, false)?;
            if simulation.err.is_some() {
                return Err(SendError::Preflight(simulation));
            }
        }
        let transactions = [sanitized];
        let batch = bank.prepare_sanitized_batch(&transactions);
        let (mut results, collector) = bank.load_execute_and_commit_transactions(
            &batch,
            MAX_PROCESSING_AGE,
            ExecutionRecordingConfig::new_single_setting(true),
            &mut ExecuteTimings::default(),
            None,
        );
        drop(batch);
        // A transaction that fails before execution (expired blockhash, no fee
        // funds, already processed) is dropped, as a validator drops it.
        let Ok(committed) = results.remove(0) else {
            return Ok(signature);
        };
        let (mut native_pre, mut native_post, mut token_pre, mut token_post) =
            collector.expect("balance recording is on").into_vecs();
        let balances = Balances {
            native_pre: native_pre.remove(0),
            native_post: native_post.remove(0),
            token_pre: token_pre.remove(0),
            token_post: token_post.remove(0),
        };
        let [sanitized] = transactions;
        let meta = status_meta(committed, balances, sanitized.get_loaded_addresses(), normalize);
        history.record(StoredTx { slot: bank.slot(), block_time: bank.clock().unix_timestamp, tx, meta });
        self.announce(ChainEvent::Processed { slot: bank.slot(), signature });
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
        self.send(tx.into(), Some(CommitmentLevel::Processed))
    }

    pub fn transaction(&self, signature: &Signature) -> Option<StoredTx> {
        self.history().transaction(signature).cloned()
    }

    /// Slot and result of a processed transaction.
    pub fn status(&self, signature: &Signature) -> Option<(Slot, Option<TransactionError>)> {
        if let Some(stored) = self.history().transaction(signature) {
            return Some((stored.slot, stored.meta.status.clone().err()));
        }
        self.bank()
            .get_signature_status_slot(signature)
            .map(|(slot, result)| (slot, result.err()))
    }
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

fn execution_of(sanitized: &SanitizedTransaction, simulation: TransactionSimulationResult) -> Execution {
    Execution {
        err: simulation.result.err(),
        logs: normalize(simulation.logs),
        units: simulation.units_consumed,
        return_data: simulation.return_data,
        loaded_accounts_data_size: simulation.loaded_accounts_data_size,
        inner_instructions: simulation.inner_instructions.map(|list| map_inner_instructions(list).collect()),
        accounts: simulation.post_simulation_accounts,
        static_keys: sanitized.message().static_account_keys().to_vec(),
        loaded: sanitized.get_loaded_addresses(),
    }
}

fn normalize(logs: Vec<String>) -> Vec<String> {
    host_hooks::normalize_logs(&logs)
}
