//! Events for every state change. On SBF they go through `emit!`
//! (`sol_log_data`); when the program runs as a native builtin they are logged
//! as `Program data: <base64>` through `msg!`, which the local validator
//! reports exactly as `sol_log_data` output.

use anchor_lang::prelude::*;

use crate::state::Authorities;

/// Emit an Anchor event, on SBF and natively alike.
#[macro_export]
macro_rules! emit_event {
    ($event:expr) => {{
        #[cfg(target_os = "solana")]
        ::anchor_lang::prelude::emit!($event);
        #[cfg(not(target_os = "solana"))]
        $crate::events::log_event_data(&::anchor_lang::Event::data(&$event));
    }};
}

#[cfg(not(target_os = "solana"))]
pub fn log_event_data(data: &[u8]) {
    use base64::Engine as _;
    msg!(
        "Program data: {}",
        base64::engine::general_purpose::STANDARD.encode(data)
    );
}

#[event]
pub struct ConfigInitialized {
    pub config: Pubkey,
    pub mint: Pubkey,
    pub treasury_vault: Pubkey,
    pub authorities: Authorities,
}

#[event]
pub struct AuthoritiesUpdated {
    pub old: Authorities,
    pub new: Authorities,
}

#[event]
pub struct TreasuryDeposited {
    pub funder: Pubkey,
    pub amount: u64,
    pub balance: u64,
}
