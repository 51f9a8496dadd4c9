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
fn normalize_event(line: &str) -> String {
    match line.strip_prefix(NATIVE_EVENT_PREFIX) {
        Some(data) => format!("Program data: {data}"),
        None => line.to_owned(),
    }
}

/// The program of a `Program <id> invoke [<depth>]` line.
fn invoked_program(line: &str) -> Option<&str> {
    let rest = line.strip_prefix("Program ")?;
    let (program, depth) = rest.split_once(" invoke [")?;
    depth.ends_with(']').then_some(program)
}

fn is_outcome(line: &str) -> bool {
    line.starts_with("Program ") && (line.ends_with(" success") || line.contains(" failed: "))
}

/// A transaction's logs as an SBF run writes them. Native builtins add their
/// own copy of the invoke and outcome lines the runtime writes (the CPI stub's
/// invoke line with the caller's depth): the runtime's line is kept, the copy
/// dropped. Event lines become `Program data:` lines.
pub fn normalize_logs(lines: &[String]) -> Vec<String> {
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    for line in lines {
        let line = normalize_event(line);
        if let Some(previous) = out.last_mut() {
            let same_invoke = matches!(
                (invoked_program(previous), invoked_program(&line)),
                (Some(a), Some(b)) if a == b
            );
            if same_invoke {
                *previous = line;
                continue;
            }
            if is_outcome(&line) && *previous == line {
                continue;
            }
        }
        out.push(line);
    }
    out
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

    fn lines(text: &[&str]) -> Vec<String> {
        text.iter().map(|line| line.to_string()).collect()
    }

    #[test]
    fn event_lines_are_rewritten_and_others_kept() {
        let logs = lines(&["Program log: Program data: AAEC", "Program log: hello", "Program data: AAEC"]);
        assert_eq!(normalize_logs(&logs), lines(&["Program data: AAEC", "Program log: hello", "Program data: AAEC"]));
    }

    #[test]
    fn native_copies_of_invoke_and_outcome_lines_are_dropped() {
        let native = lines(&[
            "Program P invoke [1]",
            "Program P invoke [1]",
            "Program log: Instruction: Go",
            "Program T invoke [1]",
            "Program T invoke [2]",
            "Program log: Instruction: Transfer",
            "Program T success",
            "Program T success",
            "Program P failed: custom program error: 0x1",
            "Program P failed: custom program error: 0x1",
        ]);
        assert_eq!(
            normalize_logs(&native),
            lines(&[
                "Program P invoke [1]",
                "Program log: Instruction: Go",
                "Program T invoke [2]",
                "Program log: Instruction: Transfer",
                "Program T success",
                "Program P failed: custom program error: 0x1",
            ])
        );
    }
}
