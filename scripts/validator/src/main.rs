//! `aistm7-localnet`: a local Solana validator for aistm7 on machines without
//! the SBF toolchain. A real `Bank` runs the SPL programs as SBF and our
//! programs as native builtins; the Solana JSON-RPC methods our clients use
//! are served on loopback. Flags follow `solana-test-validator`.

mod account_file;
mod chain;
mod genesis;
mod http;
mod rpc;

use std::{
    fs,
    io::Write,
    net::{IpAddr, Ipv4Addr, SocketAddr},
    path::PathBuf,
    process::ExitCode,
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
Prints `JSON RPC URL: http://ADDRESS:PORT` once it serves requests. State lives in memory: \
a restart begins a new chain."
)]
struct Args {
    /// JSON-RPC port.
    #[arg(long, default_value_t = 8899)]
    rpc_port: u16,

    /// Address to bind; loopback unless you mean otherwise.
    #[arg(long, default_value_t = IpAddr::V4(Ipv4Addr::LOCALHOST))]
    bind_address: IpAddr,

    /// Directory for the faucet keypair and the genesis summary.
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

    let slot_duration = Duration::from_millis(args.slot_ms);
    let chain = chain::Chain::new(accounts, slot_duration);
    write_ledger(&args, &chain)?;
    chain.produce_slots(slot_duration);

    if !args.quiet {
        println!("Ledger location: {}", args.ledger.display());
        println!("Identity: {}", chain.identity());
        println!("Genesis Hash: {}", chain.genesis_hash());
        println!("Version: {} (aistm7-localnet {})", rpc::API_VERSION, env!("CARGO_PKG_VERSION"));
    }
    println!("JSON RPC URL: http://{address}");
    let _ = std::io::stdout().flush();
    http::serve(listener, chain)
}

/// The faucet keypair (the `solana-keygen` JSON array) and a genesis summary.
fn write_ledger(args: &Args, chain: &chain::Chain) -> Result<(), String> {
    let dir = &args.ledger;
    let fail = |e: std::io::Error| format!("ledger {}: {e}", dir.display());
    if args.reset && dir.exists() {
        fs::remove_dir_all(dir).map_err(fail)?;
    }
    fs::create_dir_all(dir).map_err(fail)?;
    let faucet = serde_json::to_string(&chain.faucet().to_bytes().to_vec()).expect("bytes serialize");
    fs::write(dir.join("faucet-keypair.json"), faucet).map_err(fail)?;
    let genesis = serde_json::json!({
        "genesisHash": chain.genesis_hash().to_string(),
        "faucet": chain.faucet().pubkey().to_string(),
        "programs": { "aistm7": aistm7::ID.to_string(), "mock_pyth": mock_pyth::ID.to_string() },
    });
    fs::write(dir.join("genesis.json"), genesis.to_string()).map_err(fail)?;
    Ok(())
}
