//! `aistm7-idl [--check]`: build the Anchor IDL of every program with the
//! `idl-build` feature on the installed (stable) toolchain, as `anchor idl
//! build` does, and write it to `keeper/idl/<program>.json`, where the keeper
//! loads it. With `--check`, write nothing and fail when a committed IDL
//! differs from the fresh build.

use std::{
    env, fs,
    path::{Path, PathBuf},
    process::{Command, ExitCode},
};

use anchor_lang_idl::build::IdlBuilder;

const PROGRAMS: [&str; 2] = ["aistm7", "mock_pyth"];

fn main() -> ExitCode {
    let check = match env::args().nth(1).as_deref() {
        None => false,
        Some("--check") => true,
        Some(_) => {
            eprintln!("usage: aistm7-idl [--check]");
            return ExitCode::from(2);
        }
    };
    match run(check) {
        Ok(true) => ExitCode::SUCCESS,
        Ok(false) => ExitCode::FAILURE,
        Err(message) => {
            eprintln!("aistm7-idl: {message}");
            ExitCode::FAILURE
        }
    }
}

/// The checkout this runs in: the nearest directory up from here holding
/// Anchor.toml (found at run time, so a binary linked in another checkout
/// sharing the target directory still works on this one).
fn workspace_root() -> Result<PathBuf, String> {
    let here = env::current_dir().map_err(|e| e.to_string())?;
    here.ancestors()
        .find(|dir| dir.join("Anchor.toml").is_file())
        .map(Path::to_path_buf)
        .ok_or_else(|| format!("no Anchor.toml in {} or above", here.display()))
}

/// The toolchain rustup runs here, so the builder never asks for nightly.
fn pin_toolchain() -> Result<(), String> {
    if env::var_os("RUSTUP_TOOLCHAIN").is_some() {
        return Ok(());
    }
    let output = Command::new("rustup")
        .args(["show", "active-toolchain"])
        .output()
        .map_err(|e| format!("rustup: {e}"))?;
    let text = String::from_utf8_lossy(&output.stdout);
    let name = text.split_whitespace().next().ok_or("rustup reports no active toolchain")?;
    env::set_var("RUSTUP_TOOLCHAIN", name);
    Ok(())
}

fn run(check: bool) -> Result<bool, String> {
    pin_toolchain()?;
    // The builder sets RUSTFLAGS="--cfg procmacro2_semver_exempt", which on a
    // stable compiler hides the proc_macro span API anchor-syn calls (Rust
    // 1.88+ has it stable). Cargo prefers CARGO_ENCODED_RUSTFLAGS when set.
    env::set_var("CARGO_ENCODED_RUSTFLAGS", "-Awarnings");
    let root = workspace_root()?;
    // Its own target directory: the IDL build enables features that would
    // otherwise invalidate the regular build's artifacts.
    let target = env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("target"))
        .join("idl");
    let mut all_current = true;
    for program in PROGRAMS {
        let idl = IdlBuilder::new()
            .program_path(root.join("programs").join(program))
            .cargo_args(vec!["--lib".into(), "--target-dir".into(), target.display().to_string()])
            .build()
            .map_err(|e| format!("{program}: {e}"))?;
        let json = serde_json::to_string_pretty(&idl).map_err(|e| e.to_string())? + "\n";
        let path = root.join("keeper/idl").join(format!("{program}.json"));
        if check {
            let committed = fs::read_to_string(&path).unwrap_or_default();
            if committed != json {
                eprintln!("{} is stale: run `cargo run -p aistm7-idl` and commit it", path.display());
                all_current = false;
            }
        } else {
            fs::create_dir_all(path.parent().expect("idl dir")).map_err(|e| e.to_string())?;
            fs::write(&path, json).map_err(|e| format!("{}: {e}", path.display()))?;
            eprintln!("wrote {}", path.display());
        }
    }
    Ok(all_current)
}
