//! `aistm7-localnet`: a local Solana validator for aistm7 on machines without
//! the SBF toolchain. A real `Bank` runs the SPL programs as SBF and our
//! programs as native builtins; the Solana JSON-RPC methods our clients use
//! are served on loopback. Flags follow `solana-test-validator`.

mod account_file;
mod chain;
mod genesis;
mod history;
mod http;
mod ledger;
mod pubsub;
mod rpc;
mod status_meta;

use std::{
    io::Write,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    process::ExitCode,
    sync::Arc,
    time::Duration,
};

use clap::Parser;
use solana_signer::Signer;

#[derive(Parser, Debug)]
#[command(
    name = "aistm7-localnet",
    version,
    about = "Local Solana validator with the aistm7 and mock_pyth programs, served over JSON-RPC",
    long_about = "Starts a single-node chain (a solana-runtime Bank) with SPL Token, Token-2022, \
Associated Token and Memo loaded as SBF, and aistm7 and mock_pyth (at the Pyth receiver address) \
as native programs. Slots advance every --slot-ms; a blockhash stays valid for 150 slots. \
Prints `JSON RPC URL: http://ADDRESS:PORT` once it serves requests, WebSocket pubsub on the next \
port. The ledger directory keeps the chain: snapshots of the rooted bank every 100 slots and at \
shutdown (SIGINT, SIGTERM), so a restart with the same --ledger resumes it; --reset starts anew."
)]
struct Args {
    /// JSON-RPC port; WebSocket pubsub is served on the next one.
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,

    /// Address to bind; loopback unless you mean otherwise.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind_address: IpAddr,

    /// Ledger directory: genesis, faucet keypair, snapshots and history.
    /// An existing chain there is resumed unless --reset.
    #[arg(long, default_value = "test-ledger")]
    ledger: PathBuf,

    /// Empty the ledger directory first.
    #[arg(long)]
    reset: bool,

    /// Print only the `JSON RPC URL` line.
    #[arg(long)]
    quiet: bool,

    /// Load an account at genesis from a `solana account --output json` file.
    #[arg(long, num_args = 2, value_names = ["ADDRESS", "FILE"], action = clap::ArgAction::Append)]
    account: Vec<String>,

    /// Slot duration in milliseconds (the clock advances by this much per slot).
    #[arg(long, default_value_t = 400)]
    slot_ms: u64,

    /// Blocks between the newest confirmed block and the root (finalized),
    /// 32 as on a cluster; 0 finalizes every block as soon as it is confirmed.
    #[arg(long, default_value_t = 32)]
    finality_depth: usize,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("aistm7-localnet: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    if args.slot_ms == 0 {
        return Err("--slot-ms must be positive".into());
    }
    let accounts = args
        .account
        .chunks(2)
        .map(|pair| account_file::load(&pair[0], pair[1].as_ref()))
        .collect::<Result<Vec<_>, _>>()?;
    let address = SocketAddr::new(args.bind_address, args.rpc_port);
    let listener = std::net::TcpListener::bind(address).map_err(|e| format!("cannot serve on {address}: {e}"))?;
    let pubsub_port = args.rpc_port.checked_add(1).ok_or("--rpc-port leaves no port for pubsub")?;
    let pubsub_address = SocketAddr::new(args.bind_address, pubsub_port);
    let pubsub_listener = std::net::TcpListener::bind(pubsub_address)
        .map_err(|e| format!("cannot serve pubsub on {pubsub_address}: {e}"))?;

    let ledger = ledger::Ledger::open(&args.ledger, args.reset)?;
    let slot_duration = Duration::from_millis(args.slot_ms);
    let start = match ledger.restore()? {
        Some(restored) => {
            if !accounts.is_empty() {
                eprintln!("aistm7-localnet: the ledger holds a chain already; --account files are not loaded");
            }
            chain::Start { bank: restored.bank, genesis: restored.genesis, faucet: restored.faucet, history: restored.history }
        }
        None => {
            let (bank, genesis, faucet) = genesis::genesis_bank(accounts, slot_duration);
            ledger.write_genesis(&genesis, &faucet)?;
            chain::Start { bank, genesis, faucet, history: Default::default() }
        }
    };
    let chain = chain::Chain::new(start, args.finality_depth, ledger);
    chain.produce_slots(slot_duration);
    pubsub::spawn(pubsub_listener, Arc::clone(&chain))?;

    if !args.quiet {
        println!("Ledger location: {}", args.ledger.display());
        println!("Identity: {}", chain.identity());
        println!("Genesis Hash: {}", chain.genesis_hash());
        println!("Faucet: {}", chain.faucet().pubkey());
        println!("Version: {} (aistm7-localnet {})", rpc::API_VERSION, env!("CARGO_PKG_VERSION"));
        println!("WebSocket PubSub URL: ws://{pubsub_address}");
    }
    println!("JSON RPC URL: http://{address}");
    let _ = std::io::stdout().flush();
    http::serve(listener, Arc::clone(&chain))?;
    // SIGINT or SIGTERM: root and snapshot what was processed, then exit.
    let slot = chain.shut_down()?;
    if !args.quiet {
        println!("Stopped at slot {slot}; restart with the same --ledger (without --reset) to resume");
    }
    Ok(())
}
