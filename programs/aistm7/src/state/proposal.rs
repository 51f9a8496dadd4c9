use anchor_lang::prelude::*;

use crate::constants::{MAX_COUNCIL, PROPOSAL_EXECUTION_WINDOW_SECS, RECORD_RETENTION_SECS};
use crate::errors::Aistm7Error;

/// What a council proposal does once approved and its time-lock has passed.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub enum ProposalAction {
    /// Move `amount` out of a program vault (quote vault, token treasury or
    /// buy-back vault) to `destination`, a token account of the vault's mint.
    Withdraw { vault: Pubkey, destination: Pubkey, amount: u64 },
    /// Replace the council and its threshold. Pending proposals become stale.
    SetCouncil {
        #[max_len(MAX_COUNCIL)]
        members: Vec<Pubkey>,
        approvals_required: u8,
    },
    /// Raise the token's maximum supply (the admin can only lower it).
    SetMaxSupply { max_supply: u64 },
    /// Replace a lost or compromised guardian.
    SetGuardian { guardian: Pubkey },
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub enum ProposalStatus {
    Pending,
    Executed,
    Cancelled,
}

/// PDA `[SEED_PROPOSAL, id]`: an action the council approves M-of-N; the
/// time-lock runs from the approval that reached the quorum.
#[account]
#[derive(InitSpace)]
pub struct Proposal {
    pub id: u64,
    pub action: ProposalAction,
    /// Made the proposal and paid its rent.
    pub proposer: Pubkey,
    #[max_len(MAX_COUNCIL)]
    pub approvals: Vec<Pubkey>,
    pub created_at: i64,
    /// When the approvals first reached the threshold; 0 before.
    pub quorum_at: i64,
    /// `quorum_at` plus the time-lock; 0 before the quorum.
    pub executable_at: i64,
    pub status: ProposalStatus,
    /// When it was executed or cancelled; 0 while pending.
    pub closed_at: i64,
    pub bump: u8,
}

impl Proposal {
    pub fn require_pending(&self) -> Result<()> {
        require!(self.status == ProposalStatus::Pending, Aistm7Error::ProposalNotPending);
        Ok(())
    }

    /// Approved by `approvals_required`, past its time-lock, within its
    /// execution window, at `now`.
    pub fn require_executable(&self, approvals_required: u8, now: i64) -> Result<()> {
        require!(
            self.executable_at != 0 && self.approvals.len() >= usize::from(approvals_required),
            Aistm7Error::NotEnoughApprovals
        );
        require!(now >= self.executable_at, Aistm7Error::TimelockNotElapsed);
        require!(
            now <= self.executable_at.saturating_add(PROPOSAL_EXECUTION_WINDOW_SECS),
            Aistm7Error::ProposalExpired
        );
        Ok(())
    }

    /// Mark the proposal executed or cancelled at `now`.
    pub fn settle(&mut self, status: ProposalStatus, now: i64) {
        self.status = status;
        self.closed_at = now;
    }

    /// Whether the proposal can be closed at `now`: executed or cancelled
    /// past the retention period, pending but `stale` (it can never pass),
    /// or pending with its execution window over for the retention period.
    pub fn require_closable(&self, now: i64, stale: bool) -> Result<()> {
        let settled_at = match self.status {
            ProposalStatus::Executed | ProposalStatus::Cancelled => self.closed_at,
            ProposalStatus::Pending if stale => self.created_at,
            ProposalStatus::Pending if self.executable_at != 0 => {
                self.executable_at.saturating_add(PROPOSAL_EXECUTION_WINDOW_SECS)
            }
            ProposalStatus::Pending => return err!(Aistm7Error::RecordNotSettled),
        };
        require!(retention_over(settled_at, now), Aistm7Error::RetentionNotElapsed);
        Ok(())
    }
}

/// Whether a record settled at `settled_at` may be closed at `now`.
pub fn retention_over(settled_at: i64, now: i64) -> bool {
    now >= settled_at.saturating_add(RECORD_RETENTION_SECS)
}
