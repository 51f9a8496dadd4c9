//! `--account ADDRESS FILE`: the JSON files `solana account --output json`
//! writes and `solana-test-validator --account` reads.

use std::{fs, path::Path, str::FromStr};

use base64::Engine as _;
use serde::Deserialize;
use solana_account::{Account, AccountSharedData};
use solana_pubkey::Pubkey;

#[derive(Deserialize)]
struct AccountFile {
    account: UiAccount,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct UiAccount {
    lamports: u64,
    data: (String, String),
    owner: String,
    executable: bool,
    #[serde(default)]
    rent_epoch: u64,
}

/// Load one account file; `address` wins over any `pubkey` inside the file.
pub fn load(address: &str, path: &Path) -> Result<(Pubkey, AccountSharedData), String> {
    let where_ = path.display();
    let address = Pubkey::from_str(address).map_err(|e| format!("--account address {address}: {e}"))?;
    let text = fs::read_to_string(path).map_err(|e| format!("{where_}: {e}"))?;
    let file: AccountFile = serde_json::from_str(&text).map_err(|e| format!("{where_}: {e}"))?;
    let ui = file.account;
    let (encoded, encoding) = &ui.data;
    let data = match encoding.as_str() {
        "base64" => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .map_err(|e| format!("{where_}: account data: {e}"))?,
        "base64+zstd" => {
            let compressed = base64::engine::general_purpose::STANDARD
                .decode(encoded)
                .map_err(|e| format!("{where_}: account data: {e}"))?;
            zstd::decode_all(compressed.as_slice()).map_err(|e| format!("{where_}: account data: {e}"))?
        }
        other => return Err(format!("{where_}: unsupported data encoding {other:?}")),
    };
    let owner = Pubkey::from_str(&ui.owner).map_err(|e| format!("{where_}: owner: {e}"))?;
    let account = Account {
        lamports: ui.lamports,
        data,
        owner,
        executable: ui.executable,
        rent_epoch: ui.rent_epoch,
    };
    Ok((address, AccountSharedData::from(account)))
}
