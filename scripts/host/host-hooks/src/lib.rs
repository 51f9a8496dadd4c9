//! Makes Anchor programs behave off-chain as they do on SBF when they run as
//! native builtins inside a `solana-program-test` / `solana-runtime` `Bank`:
//! `msg!` reaches the transaction logs, CPIs run through the runtime, return
//! data is set and read, and events logged by `emit_event!` are reported as
//! `Program data: ...` lines like `sol_log_data` produces on-chain.

use solana_sysvar::program_stubs;
#[doc(hidden)]
pub use {
    solana_account_info::AccountInfo, solana_program_error::ProgramResult, solana_pubkey::Pubkey,
};

/// Install the hooks. Call once the `Bank`'s syscall stubs are in place
/// (`ProgramTest::start*` or `Validator::new` installs them); calling again is harmless.
pub fn install() {
    solana_msg::host::set_log_hook(program_stubs::sol_log);
    solana_cpi::host::install(solana_cpi::host::Hooks {
        invoke_signed: program_stubs::sol_invoke_signed,
        set_return_data: program_stubs::sol_set_return_data,
        get_return_data: program_stubs::sol_get_return_data,
    });
}

/// The prefix of an event a native program logged through `msg!`.
const NATIVE_EVENT_PREFIX: &str = "Program log: Program data: ";

/// Turn the log line of an event a native program logged into the line
/// `sol_log_data` writes on-chain, so that event parsers read both alike.
pub fn normalize_log(line: &str) -> String {
    match line.strip_prefix(NATIVE_EVENT_PREFIX) {
        Some(data) => format!("Program data: {data}"),
        None => line.to_owned(),
    }
}

/// Define `fn $name` with the signature `solana_program_test::processor!`
/// expects, calling an Anchor program's `entry` (anchor issue #2738: the
/// generated entry ties the slice and account lifetimes together).
#[macro_export]
macro_rules! native_entry {
    ($name:ident, $program:path) => {
        pub fn $name<'a, 'b, 'c, 'info>(
            program_id: &'a $crate::Pubkey,
            accounts: &'b [$crate::AccountInfo<'info>],
            data: &'c [u8],
        ) -> $crate::ProgramResult {
            // SAFETY: the runtime keeps `accounts` alive for the whole call.
            let accounts: &'info [$crate::AccountInfo<'info>] =
                unsafe { ::core::mem::transmute(accounts) };
            $program(program_id, accounts, data)
        }
    };
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_lines_are_rewritten_and_others_kept() {
        assert_eq!(normalize_log("Program log: Program data: AAEC"), "Program data: AAEC");
        assert_eq!(normalize_log("Program log: hello"), "Program log: hello");
        assert_eq!(normalize_log("Program data: AAEC"), "Program data: AAEC");
    }
}
