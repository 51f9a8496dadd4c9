use anchor_lang::prelude::*;

/// PDA `[SEED_LINK, wallet]`: the off-chain user a wallet belongs to.
#[account]
#[derive(InitSpace)]
pub struct WalletLink {
    pub wallet: Pubkey,
    /// A 32-byte hash of the off-chain user reference; all zeroes = not linked.
    pub user_ref: [u8; 32],
    pub linked_at: i64,
    pub bump: u8,
}

/// PDA `[SEED_CHARGE, request_id]`: proof that a request was charged once.
#[account]
#[derive(InitSpace)]
pub struct ChargeReceipt {
    pub request_id: [u8; 32],
    pub user: Pubkey,
    pub amount: u64,
    /// 0 until the charge happened.
    pub charged_at: i64,
    /// Paid the receipt's rent (the fee collector), and gets it back on close.
    pub payer: Pubkey,
    pub bump: u8,
}
