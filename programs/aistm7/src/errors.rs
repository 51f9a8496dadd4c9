use anchor_lang::prelude::*;

#[error_code]
pub enum Aistm7Error {
    #[msg("Signer is not the authority this instruction requires")]
    Unauthorized,
    #[msg("An authority may not be the default (all-zero) public key")]
    InvalidAuthority,
    #[msg("Only the program's upgrade authority may initialize the config")]
    InitializerNotUpgradeAuthority,
    #[msg("The program data account of this program is required")]
    MissingProgramData,
    #[msg("The program is owned by a loader that has no upgrade authority to check")]
    UnsupportedLoader,
    #[msg("Amount must be greater than zero")]
    ZeroAmount,
    #[msg("Token account holds a different mint than the configured one")]
    WrongMint,
    #[msg("Token account is not owned by the expected wallet")]
    WrongTokenOwner,
    #[msg("Arithmetic overflow")]
    MathOverflow,
}
