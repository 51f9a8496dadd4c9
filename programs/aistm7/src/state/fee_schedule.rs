use anchor_lang::prelude::*;

use crate::constants::{MAX_SERVICES, MAX_SERVICE_NAME_LEN};
use crate::errors::Aistm7Error;

/// What a service costs and when it can be bought.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Copy, Debug, PartialEq, Eq, InitSpace)]
pub struct ServiceTerms {
    /// Token base units.
    pub cost: u64,
    pub active: bool,
    /// Unix time from which it can be paid (inclusive).
    pub valid_from: i64,
    /// Unix time from which it can no longer be paid; 0 = no end.
    pub valid_to: i64,
}

impl ServiceTerms {
    /// Whether the service can be paid at `now`, with the named reason when not.
    pub fn check_payable(&self, now: i64) -> Result<()> {
        require!(self.active, Aistm7Error::ServiceInactive);
        require!(now >= self.valid_from, Aistm7Error::ServiceNotYetValid);
        require!(self.valid_to == 0 || now < self.valid_to, Aistm7Error::ServiceExpired);
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, PartialEq, Eq, InitSpace)]
pub struct ServiceFee {
    #[max_len(MAX_SERVICE_NAME_LEN)]
    pub name: String,
    pub terms: ServiceTerms,
    /// Payments and charges so far, and their sum in base units.
    pub count: u64,
    pub total: u64,
}

/// PDA `[SEED_FEES]`: every service and its counters.
#[account]
#[derive(InitSpace)]
pub struct FeeSchedule {
    pub bump: u8,
    #[max_len(MAX_SERVICES)]
    pub services: Vec<ServiceFee>,
}

impl FeeSchedule {
    pub fn find(&self, name: &str) -> Option<usize> {
        self.services.iter().position(|service| service.name == name)
    }

    /// Count a payment of `name` at `now` and return its cost, or the named
    /// reason it cannot be paid.
    pub fn record_payment(&mut self, name: &str, now: i64) -> Result<u64> {
        let index = self.find(name).ok_or(Aistm7Error::UnknownService)?;
        let service = &mut self.services[index];
        service.terms.check_payable(now)?;
        let cost = service.terms.cost;
        service.count = service.count.checked_add(1).ok_or(Aistm7Error::MathOverflow)?;
        service.total = service.total.checked_add(cost).ok_or(Aistm7Error::MathOverflow)?;
        Ok(cost)
    }
}

pub fn validate_service_name(name: &str) -> Result<()> {
    require!(
        !name.is_empty() && name.len() <= MAX_SERVICE_NAME_LEN,
        Aistm7Error::InvalidServiceName
    );
    Ok(())
}
