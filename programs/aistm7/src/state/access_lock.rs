use anchor_lang::prelude::*;

use crate::errors::Aistm7Error;

/// PDA `[SEED_LOCK, wallet]`: the tokens a wallet locked for access. The
/// tokens sit in the shared lock vault; `locked` counts toward access,
/// `unlocking` waits out the cooldown and no longer counts.
#[account]
#[derive(InitSpace)]
pub struct AccessLock {
    pub wallet: Pubkey,
    /// Token base units that back the wallet's access now.
    pub locked: u64,
    /// Token base units on their way out, withdrawable from `unlock_at`.
    pub unlocking: u64,
    pub unlock_at: i64,
    pub bump: u8,
}

impl AccessLock {
    /// Move `amount` from `locked` to `unlocking`; the whole unlocking amount
    /// then waits until `now + cooldown`.
    pub fn request_unlock(&mut self, amount: u64, now: i64, cooldown_secs: u32) -> Result<()> {
        require!(amount > 0, Aistm7Error::ZeroAmount);
        require!(amount <= self.locked, Aistm7Error::InsufficientLocked);
        self.locked -= amount;
        self.unlocking = self.unlocking.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
        self.unlock_at = now.checked_add(i64::from(cooldown_secs)).ok_or(Aistm7Error::MathOverflow)?;
        Ok(())
    }

    /// Take everything whose cooldown has passed.
    pub fn take_unlocked(&mut self, now: i64) -> Result<u64> {
        require!(self.unlocking > 0, Aistm7Error::NothingToUnlock);
        require!(now >= self.unlock_at, Aistm7Error::UnlockCooldownActive);
        let amount = self.unlocking;
        self.unlocking = 0;
        Ok(amount)
    }

    pub fn is_empty(&self) -> bool {
        self.locked == 0 && self.unlocking == 0
    }

    /// Whether no access result it backed can still be valid at `now`:
    /// nothing locked, and any unlock's cooldown (at least the pass
    /// validity) over.
    pub fn backs_nothing(&self, now: i64) -> bool {
        self.locked == 0 && now >= self.unlock_at
    }
}

/// The lock stored at a wallet's lock PDA, or `None` when the wallet never
/// locked or its lock closed.
pub fn read_lock(account: &AccountInfo) -> Result<Option<AccessLock>> {
    if account.owner != &crate::ID {
        return Ok(None);
    }
    let data = account.try_borrow_data()?;
    Ok(Some(AccessLock::try_deserialize(&mut &data[..])?))
}

/// What `verify_access` returns (return data) to a calling program. The
/// `locked` units stay in the lock at least until `valid_until`.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq)]
pub struct AccessResult {
    pub wallet: Pubkey,
    pub locked: u64,
    pub required: u64,
    pub valid_until: i64,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lock(locked: u64) -> AccessLock {
        AccessLock { wallet: Pubkey::default(), locked, unlocking: 0, unlock_at: 0, bump: 0 }
    }

    #[test]
    fn unlocking_waits_out_the_cooldown_from_the_last_request() {
        let mut l = lock(100);
        l.request_unlock(30, 1_000, 60).unwrap();
        assert_eq!((l.locked, l.unlocking, l.unlock_at), (70, 30, 1_060));
        l.request_unlock(20, 1_050, 60).unwrap();
        assert_eq!((l.locked, l.unlocking, l.unlock_at), (50, 50, 1_110));
        assert!(l.take_unlocked(1_109).is_err());
        assert_eq!(l.take_unlocked(1_110).unwrap(), 50);
        assert!(l.take_unlocked(2_000).is_err());
        assert!(l.request_unlock(51, 2_000, 60).is_err());
        assert!(l.request_unlock(0, 2_000, 60).is_err());
    }
}
