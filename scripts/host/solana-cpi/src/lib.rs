//! Cross-program invocation and return data, as in upstream `solana-cpi` 2.2.
//!
//! On-chain these are the `sol_invoke_signed_rust`, `sol_set_return_data` and
//! `sol_get_return_data` syscalls. Off-chain upstream turns every CPI into a
//! silent `Ok(())` and drops return data; here the host installs [`host::Hooks`]
//! that run them inside the `Bank` executing the program. Without hooks a CPI
//! panics rather than pretend it happened.

use {
    solana_account_info::AccountInfo, solana_instruction::Instruction,
    solana_program_error::ProgramResult, solana_pubkey::Pubkey,
};

/// Maximum size that can be set using [`set_return_data`].
pub const MAX_RETURN_DATA: usize = 1024;

#[cfg(target_os = "solana")]
pub mod syscalls {
    //! Syscall definitions used by `solana_cpi`.
    pub use solana_define_syscall::definitions::{
        sol_get_return_data, sol_invoke_signed_c, sol_invoke_signed_rust, sol_set_return_data,
    };
}

/// Invoke another program; the accounts' `RefCell`s are checked first.
pub fn invoke(instruction: &Instruction, account_infos: &[AccountInfo]) -> ProgramResult {
    invoke_signed(instruction, account_infos, &[])
}

/// Invoke another program without checking the accounts' `RefCell`s.
pub fn invoke_unchecked(instruction: &Instruction, account_infos: &[AccountInfo]) -> ProgramResult {
    invoke_signed_unchecked(instruction, account_infos, &[])
}

/// Invoke another program with PDA signatures; the accounts' `RefCell`s are
/// checked first, so a borrow held by the caller fails here and not in the callee.
pub fn invoke_signed(
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> ProgramResult {
    check_borrows(instruction, account_infos)?;
    invoke_signed_unchecked(instruction, account_infos, signers_seeds)
}

/// Fails when an account the instruction writes (or reads) is already
/// borrowed mutably (or at all) by the caller.
pub fn check_borrows(instruction: &Instruction, account_infos: &[AccountInfo]) -> ProgramResult {
    for meta in &instruction.accounts {
        let Some(info) = account_infos.iter().find(|info| *info.key == meta.pubkey) else {
            continue;
        };
        if meta.is_writable {
            info.try_borrow_mut_lamports()?;
            info.try_borrow_mut_data()?;
        } else {
            info.try_borrow_lamports()?;
            info.try_borrow_data()?;
        }
    }
    Ok(())
}

/// Invoke another program with PDA signatures, without checking borrows.
pub fn invoke_signed_unchecked(
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> ProgramResult {
    #[cfg(target_os = "solana")]
    {
        let instruction =
            solana_stable_layout::stable_instruction::StableInstruction::from(instruction.clone());
        let result = unsafe {
            syscalls::sol_invoke_signed_rust(
                &instruction as *const _ as *const u8,
                account_infos as *const _ as *const u8,
                account_infos.len() as u64,
                signers_seeds as *const _ as *const u8,
                signers_seeds.len() as u64,
            )
        };
        match result {
            0 => Ok(()),
            code => Err(code.into()),
        }
    }

    #[cfg(not(target_os = "solana"))]
    (host::hooks().invoke_signed)(instruction, account_infos, signers_seeds)
}

/// Set the running program's return data (at most [`MAX_RETURN_DATA`] bytes).
pub fn set_return_data(data: &[u8]) {
    #[cfg(target_os = "solana")]
    unsafe {
        syscalls::sol_set_return_data(data.as_ptr(), data.len() as u64)
    };

    #[cfg(not(target_os = "solana"))]
    (host::hooks().set_return_data)(data);
}

/// The return data of the program that set it last in this transaction, or
/// `None` when it is empty.
pub fn get_return_data() -> Option<(Pubkey, Vec<u8>)> {
    #[cfg(target_os = "solana")]
    {
        let mut buf = [0u8; MAX_RETURN_DATA];
        let mut program_id = Pubkey::default();
        let size = unsafe {
            syscalls::sol_get_return_data(buf.as_mut_ptr(), buf.len() as u64, &mut program_id)
        };
        if size == 0 {
            None
        } else {
            let size = core::cmp::min(size as usize, MAX_RETURN_DATA);
            Some((program_id, buf[..size].to_vec()))
        }
    }

    #[cfg(not(target_os = "solana"))]
    (host::hooks().get_return_data)().filter(|(_, data)| !data.is_empty())
}

#[cfg(not(target_os = "solana"))]
pub mod host {
    //! What CPI and return data do when the program is not running on SBF.
    use super::*;
    use std::sync::OnceLock;

    /// The runtime entry points a native program's CPI and return data use.
    #[derive(Clone, Copy)]
    pub struct Hooks {
        pub invoke_signed: fn(&Instruction, &[AccountInfo], &[&[&[u8]]]) -> ProgramResult,
        pub set_return_data: fn(&[u8]),
        pub get_return_data: fn() -> Option<(Pubkey, Vec<u8>)>,
    }

    static HOOKS: OnceLock<Hooks> = OnceLock::new();

    /// Install the hooks for the rest of the process. The first set installed
    /// wins; returns whether this one was installed.
    pub fn install(hooks: Hooks) -> bool {
        HOOKS.set(hooks).is_ok()
    }

    pub(crate) fn hooks() -> &'static Hooks {
        HOOKS.get().expect(
            "solana-cpi: no host hooks installed; call host_hooks::install() before running a native program",
        )
    }
}
