//! `--account ADDRESS FILE`: the JSON files `solana account --output json`
//! writes and `solana-test-validator --account` reads.

use std::{fs, path::Path, str::FromStr};

use serde::Deserialize;
use solana_account::AccountSharedData;
use solana_account_decoder::UiAccount;
use solana_pubkey::Pubkey;

/// The file: `{"pubkey": ..., "account": UiAccount}`, read with agave's `UiAccount`.
#[derive(Deserialize)]
struct AccountFile {
    account: UiAccount,
}

/// Load one account file; `address` wins over any `pubkey` inside the file.
pub fn load(address: &str, path: &Path) -> Result<(Pubkey, AccountSharedData), String> {
    let where_ = path.display();
    let address = Pubkey::from_str(address).map_err(|e| format!("--account address {address}: {e}"))?;
    let text = fs::read_to_string(path).map_err(|e| format!("{where_}: {e}"))?;
    let file: AccountFile = serde_json::from_str(&text).map_err(|e| format!("{where_}: {e}"))?;
    let account = file
        .account
        .decode()
        .ok_or_else(|| format!("{where_}: account data or owner cannot be decoded (base58, base64, base64+zstd)"))?;
    Ok((address, account))
}

#[cfg(test)]
mod tests {
    use super::*;
    use solana_account::ReadableAccount;

    fn temp_json(name: &str, text: &str) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!("aistm7-{}-{name}.json", std::process::id()));
        std::fs::write(&path, text).unwrap();
        path
    }

    #[test]
    fn loads_the_solana_account_json_format() {
        let owner = "TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA";
        let file = temp_json("good", &format!(
            r#"{{"pubkey":"11111111111111111111111111111112","account":{{"lamports":42,"data":["AQID","base64"],"owner":"{owner}","executable":false,"rentEpoch":7,"space":3}}}}"#
        ));
        let address = "SysvarC1ock11111111111111111111111111111111";

        let (key, account) = load(address, &file).unwrap();

        assert_eq!(key.to_string(), address, "the flag's address wins over the file's");
        assert_eq!(account.lamports(), 42);
        assert_eq!(account.data(), &[1, 2, 3]);
        assert_eq!(account.owner().to_string(), owner);
        assert_eq!(account.rent_epoch(), 7);
    }

    #[test]
    fn rejects_unknown_encodings_and_bad_keys() {
        let file = temp_json("hex", r#"{"account":{"lamports":1,"data":["AQID","hex"],"owner":"11111111111111111111111111111111","executable":false}}"#);
        let err = load("11111111111111111111111111111111", &file).unwrap_err();
        assert!(err.contains("hex.json") && err.contains("UiAccountData"), "{err}");
        assert!(load("not-a-key", &file).unwrap_err().contains("--account address"));
    }
}
