//! The `solana-invoke` 0.4 API (what anchor-lang 0.32 calls for every CPI),
//! delegating to `solana-cpi`: on-chain the same `sol_invoke_signed_rust`
//! syscall, off-chain the host CPI hook instead of `unimplemented!()`.
//! On-chain this costs one instruction clone more than upstream's borrowed
//! layout; the behaviour is the same.

use {
    solana_account_info::AccountInfo, solana_instruction::Instruction,
    solana_program_entrypoint::ProgramResult,
};

pub fn invoke(instruction: &Instruction, account_infos: &[AccountInfo]) -> ProgramResult {
    solana_cpi::invoke(instruction, account_infos)
}

pub fn invoke_unchecked(instruction: &Instruction, account_infos: &[AccountInfo]) -> ProgramResult {
    solana_cpi::invoke_unchecked(instruction, account_infos)
}

pub fn invoke_signed(
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> ProgramResult {
    solana_cpi::invoke_signed(instruction, account_infos, signers_seeds)
}

pub fn invoke_signed_unchecked(
    instruction: &Instruction,
    account_infos: &[AccountInfo],
    signers_seeds: &[&[&[u8]]],
) -> ProgramResult {
    solana_cpi::invoke_signed_unchecked(instruction, account_infos, signers_seeds)
}
