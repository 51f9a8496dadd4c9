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
    #[msg("The program is paused")]
    Paused,
    #[msg("A requirement or oracle parameter is out of range")]
    InvalidParameter,
    #[msg("Price account is not owned by the Pyth receiver program")]
    WrongPriceOwner,
    #[msg("Price account is not a PriceUpdateV2")]
    MalformedPriceAccount,
    #[msg("Price account is for a different feed")]
    WrongFeedId,
    #[msg("Price update is only partially verified")]
    PartialVerification,
    #[msg("Price is older than the maximum age")]
    StalePrice,
    #[msg("Price was published or posted in the future")]
    FuturePrice,
    #[msg("Price is zero or negative")]
    NonPositivePrice,
    #[msg("Price confidence interval is too wide")]
    ConfidenceTooWide,
    #[msg("Spot price diverges from the EMA price beyond the limit")]
    EmaDivergence,
    #[msg("The price circuit breaker is tripped; the guardian must reset it")]
    CircuitBreakerTripped,
    #[msg("The circuit breaker is not tripped")]
    CircuitBreakerNotTripped,
    #[msg("Price moved less than the update threshold since the last applied price")]
    BelowUpdateThreshold,
    #[msg("The minimum interval since the last applied update has not passed")]
    UpdateTooSoon,
    #[msg("No requirement has been priced yet")]
    RequirementNotPriced,
    #[msg("The override must be positive and expire in the future")]
    InvalidOverride,
    #[msg("At least one token account of the wallet is required")]
    NoTokenAccounts,
    #[msg("The same token account was passed twice")]
    DuplicateTokenAccount,
    #[msg("Locked tokens are below the access requirement")]
    InsufficientBalance,
    #[msg("The mint has a freeze authority, which could freeze the program's vaults")]
    MintHasFreezeAuthority,
    #[msg("The program's PDA is not the mint authority")]
    MintAuthorityNotProgram,
    #[msg("Minting would exceed the maximum supply")]
    MaxSupplyExceeded,
    #[msg("Service name is empty or longer than 32 bytes")]
    InvalidServiceName,
    #[msg("The fee schedule has no room for another service")]
    FeeScheduleFull,
    #[msg("A new service needs a cost")]
    MissingServiceCost,
    #[msg("The service's validity window ends before it starts")]
    InvalidServiceWindow,
    #[msg("No service of that name in the fee schedule")]
    UnknownService,
    #[msg("The service is not active")]
    ServiceInactive,
    #[msg("The service is not valid yet")]
    ServiceNotYetValid,
    #[msg("The service is no longer valid")]
    ServiceExpired,
    #[msg("Token balance is below the fee")]
    InsufficientFeeBalance,
    #[msg("The allowance granted to the fee delegate is below the fee")]
    AllowanceTooSmall,
    #[msg("This request id has already been charged")]
    DuplicateRequest,
    #[msg("The reward would exceed today's reward cap")]
    RewardCapExceeded,
    #[msg("The reward vault holds less than the reward")]
    RewardVaultInsufficient,
    #[msg("This wallet is already linked to a user")]
    WalletAlreadyLinked,
    #[msg("This revenue batch is already recorded")]
    BatchAlreadyRecorded,
    #[msg("Revenue batch sequence skips a number")]
    BatchSequenceGap,
    #[msg("A revenue batch needs a root, at least one event and at least a cent per event")]
    InvalidRevenueBatch,
    #[msg("The allocation is below the minimum buy-order size")]
    AllocationBelowMinimum,
    #[msg("The quote vault holds less than the buy-order budget")]
    InsufficientTreasuryQuote,
    #[msg("The buy-order would exceed today's spend cap")]
    DailySpendCapExceeded,
    #[msg("The buy-order is not pending")]
    OrderNotPending,
    #[msg("The buy-order has expired")]
    OrderExpired,
    #[msg("The buy-order has not expired yet")]
    OrderNotExpired,
    #[msg("The oracle price is above the order's limit price")]
    PriceAboveLimit,
    #[msg("The fill costs more than the order's remaining budget")]
    FillExceedsBudget,
    #[msg("The fill is too small to pay anything")]
    FillTooSmall,
    #[msg("Withdrawals above the direct limit need council approval")]
    WithdrawalNeedsApproval,
    #[msg("Signer is not a council member")]
    NotCouncilMember,
    #[msg("This council member already approved")]
    AlreadyApproved,
    #[msg("Not enough council approvals")]
    NotEnoughApprovals,
    #[msg("The withdrawal time-lock has not elapsed")]
    TimelockNotElapsed,
    #[msg("The proposal is not pending")]
    ProposalNotPending,
    #[msg("The direct withdrawal would exceed today's direct withdrawal limit")]
    DirectWithdrawLimitExceeded,
    #[msg("A backup feed is configured: its price account is required")]
    MissingBackupPrice,
    #[msg("The same price account was passed for two feeds")]
    DuplicatePriceAccount,
    #[msg("The price update is older than one the treasury already used")]
    PriceOlderThanLastUsed,
    #[msg("A vault or escrow of this program cannot receive a payout")]
    ProgramOwnedDestination,
    #[msg("The guardian must be a different key than the admin")]
    AdminCannotBeGuardian,
    #[msg("Raising the maximum supply needs a council proposal")]
    MaxSupplyRaiseNeedsCouncil,
    #[msg("Signer may not create proposals")]
    NotProposer,
    #[msg("The vault is not one the council can withdraw from")]
    InvalidWithdrawalVault,
    #[msg("This proposal's action needs accounts that were not passed")]
    MissingProposalAccount,
    #[msg("The council changed after this proposal was made; it can no longer pass")]
    ProposalStale,
    #[msg("The record is still within its retention period")]
    RetentionNotElapsed,
    #[msg("The record is still open")]
    RecordNotSettled,
    #[msg("The account to refund is not the one that paid the rent")]
    WrongRentRecipient,
    #[msg("More tokens requested than are locked")]
    InsufficientLocked,
    #[msg("Nothing is waiting to be unlocked")]
    NothingToUnlock,
    #[msg("The unlock cooldown has not elapsed")]
    UnlockCooldownActive,
    #[msg("The proposal's execution window has passed")]
    ProposalExpired,
    #[msg("The two feeds' publish times are too far apart to compare")]
    FeedsOutOfSync,
    #[msg("A single feed may not move the requirement beyond the feed divergence limit")]
    LoneFeedDiverges,
    #[msg("The wallet has locked tokens, or unlocking ones still in their cooldown")]
    WalletHasLockedTokens,
    #[msg("A revenue batch totals more than its events at the per-entry maximum (10,000,000 ZAR) each")]
    RevenueEntryTooLarge,
}
