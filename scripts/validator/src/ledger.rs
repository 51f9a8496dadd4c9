//! The ledger directory (`--ledger`): what restarts the same chain.
//!
//! - `genesis.bin` (agave's format) and `faucet-keypair.json`;
//! - `snapshots/`: solana-runtime's full snapshot archives of the rooted bank,
//!   taken every `SNAPSHOT_INTERVAL_SLOTS` rooted slots and at shutdown;
//! - `history-SLOT.bin`: the transactions and blocks up to each snapshot's slot;
//! - `ledger.lock`: held while a validator uses the directory.

use std::{
    fs::{self, File},
    num::NonZeroUsize,
    path::{Path, PathBuf},
    sync::{atomic::AtomicBool, Arc},
    time::Instant,
};

use solana_genesis_config::GenesisConfig;
use solana_keypair::Keypair;
use solana_runtime::{
    bank::Bank,
    runtime_config::RuntimeConfig,
    snapshot_archive_info::SnapshotArchiveInfoGetter,
    snapshot_bank_utils::{bank_from_snapshot_archives, bank_to_full_snapshot_archive},
    snapshot_utils::{self, ArchiveFormat, ZstdConfig},
};

use crate::{
    genesis,
    history::{History, Saved},
};

/// Snapshot archives kept; older ones are removed.
const ARCHIVES_KEPT: usize = 2;

pub struct Ledger {
    dir: PathBuf,
    /// Held for the life of the process: a second validator is refused.
    _lock: File,
}

/// A chain read back from the directory.
pub struct Restored {
    pub bank: Bank,
    pub genesis: GenesisConfig,
    pub faucet: Keypair,
    pub history: History,
}

fn io(what: &Path) -> impl Fn(std::io::Error) -> String + '_ {
    move |e| format!("ledger {}: {e}", what.display())
}

impl Ledger {
    /// Open (emptied first with `reset`) and lock `dir`.
    pub fn open(dir: &Path, reset: bool) -> Result<Ledger, String> {
        fs::create_dir_all(dir).map_err(io(dir))?;
        let lock_path = dir.join("ledger.lock");
        let lock = File::create(&lock_path).map_err(io(&lock_path))?;
        lock.try_lock().map_err(|_| {
            format!("ledger {} is in use by another aistm7-localnet (it holds {})", dir.display(), lock_path.display())
        })?;
        if reset {
            for entry in fs::read_dir(dir).map_err(io(dir))? {
                let path = entry.map_err(io(dir))?.path();
                if path == lock_path {
                    continue;
                }
                if path.is_dir() { fs::remove_dir_all(&path) } else { fs::remove_file(&path) }.map_err(io(&path))?;
            }
        }
        Ok(Ledger { dir: dir.to_path_buf(), _lock: lock })
    }

    fn archives(&self) -> PathBuf {
        self.dir.join("snapshots")
    }

    fn history_file(&self, slot: u64) -> PathBuf {
        self.dir.join(format!("history-{slot}.bin"))
    }

    /// Slot of the newest snapshot archive.
    pub fn highest_snapshot(&self) -> Option<u64> {
        snapshot_utils::get_highest_full_snapshot_archive_info(self.archives()).map(|archive| archive.slot())
    }

    /// Record a new chain's genesis and faucet.
    pub fn write_genesis(&self, genesis: &GenesisConfig, faucet: &Keypair) -> Result<(), String> {
        genesis.write(&self.dir).map_err(io(&self.dir))?;
        let path = self.dir.join("faucet-keypair.json");
        let bytes = serde_json::to_string(&faucet.to_bytes().to_vec()).expect("bytes serialize");
        fs::write(&path, bytes).map_err(io(&path))
    }

    /// The chain of the newest snapshot, when the directory holds one.
    pub fn restore(&self) -> Result<Option<Restored>, String> {
        let Some(archive) = snapshot_utils::get_highest_full_snapshot_archive_info(self.archives()) else {
            return Ok(None);
        };
        let genesis = GenesisConfig::load(&self.dir).map_err(io(&self.dir))?;
        let faucet_path = self.dir.join("faucet-keypair.json");
        let faucet_bytes: Vec<u8> = serde_json::from_slice(&fs::read(&faucet_path).map_err(io(&faucet_path))?)
            .map_err(|e| format!("{}: {e}", faucet_path.display()))?;
        let faucet = Keypair::try_from(faucet_bytes.as_slice()).map_err(|e| format!("{}: {e}", faucet_path.display()))?;
        let history_path = self.history_file(archive.slot());
        let saved: Saved = bincode::deserialize(&fs::read(&history_path).map_err(io(&history_path))?)
            .map_err(|e| format!("{}: {e}", history_path.display()))?;

        let accounts = self.dir.join("accounts");
        let work = self.dir.join("snapshot-work");
        for dir in [&accounts, &work] {
            if dir.exists() {
                fs::remove_dir_all(dir).map_err(io(dir))?;
            }
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        genesis::install_syscall_stubs();
        let builtins = genesis::natives();
        let (bank, _) = bank_from_snapshot_archives(
            &[accounts],
            &work,
            &archive,
            None,
            &genesis,
            &RuntimeConfig::default(),
            None,
            Some(&builtins),
            None,
            false,
            false,
            false,
            false,
            None,
            None,
            Arc::new(AtomicBool::new(false)),
        )
        .map_err(|e| format!("restoring {}: {e}", archive.path().display()))?;
        Ok(Some(Restored { bank, genesis, faucet, history: History::restored(saved) }))
    }

    /// Archive the rooted, frozen `bank` and the history up to it; keep the
    /// newest archives only. Returns how long it took.
    pub fn snapshot(&self, bank: &Bank, history: &History) -> Result<std::time::Duration, String> {
        let started = Instant::now();
        let archives = self.archives();
        let work = self.dir.join("snapshot-work");
        for dir in [&archives, &work] {
            fs::create_dir_all(dir).map_err(io(dir))?;
        }
        let history_path = self.history_file(bank.slot());
        let partial = history_path.with_extension("bin.partial");
        let bytes = bincode::serialize(&history.saved(bank.slot())).map_err(|e| format!("saving history: {e}"))?;
        fs::write(&partial, bytes).map_err(io(&partial))?;
        fs::rename(&partial, &history_path).map_err(io(&history_path))?;
        bank_to_full_snapshot_archive(
            &work,
            bank,
            None,
            &archives,
            &archives,
            ArchiveFormat::TarZstd { config: ZstdConfig::default() },
        )
        .map_err(|e| format!("snapshot of slot {}: {e}", bank.slot()))?;
        let kept = NonZeroUsize::new(ARCHIVES_KEPT).expect("nonzero");
        snapshot_utils::purge_old_snapshot_archives(&archives, &archives, kept, kept);
        self.remove_histories_without_archive()?;
        Ok(started.elapsed())
    }

    fn remove_histories_without_archive(&self) -> Result<(), String> {
        let slots: Vec<u64> =
            snapshot_utils::get_full_snapshot_archives(self.archives()).iter().map(|archive| archive.slot()).collect();
        for entry in fs::read_dir(&self.dir).map_err(io(&self.dir))? {
            let path = entry.map_err(io(&self.dir))?.path();
            let name = path.file_name().and_then(|name| name.to_str()).unwrap_or_default();
            let slot = name.strip_prefix("history-").and_then(|rest| rest.strip_suffix(".bin"));
            if slot.and_then(|slot| slot.parse().ok()).is_some_and(|slot: u64| !slots.contains(&slot)) {
                fs::remove_file(&path).map_err(io(&path))?;
            }
        }
        Ok(())
    }
}
