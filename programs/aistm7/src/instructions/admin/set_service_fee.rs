use anchor_lang::prelude::*;

use crate::constants::{MAX_SERVICES, SEED_CONFIG, SEED_FEES};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::ServiceFeeSet;
use crate::state::{validate_service_name, Config, FeeSchedule, ServiceFee, ServiceTerms};

/// Add the service `name` (a cost is then required; it starts active, valid
/// from now, with no end) or change the given terms of an existing one.
#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug, Default)]
pub struct SetServiceFeeArgs {
    pub name: String,
    pub cost: Option<u64>,
    pub active: Option<bool>,
    pub valid_from: Option<i64>,
    pub valid_to: Option<i64>,
}

#[derive(Accounts)]
pub struct SetServiceFee<'info> {
    #[account(constraint = admin.key() == config.authorities.admin @ Aistm7Error::Unauthorized)]
    pub admin: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Account<'info, Config>,

    #[account(mut, seeds = [SEED_FEES], bump = fee_schedule.bump)]
    pub fee_schedule: Account<'info, FeeSchedule>,
}

pub fn handler(ctx: Context<SetServiceFee>, args: SetServiceFeeArgs) -> Result<()> {
    validate_service_name(&args.name)?;
    let schedule = &mut ctx.accounts.fee_schedule;
    let (old, index) = match schedule.find(&args.name) {
        Some(index) => (Some(schedule.services[index].terms), index),
        None => {
            require!(schedule.services.len() < MAX_SERVICES, Aistm7Error::FeeScheduleFull);
            let cost = args.cost.ok_or(Aistm7Error::MissingServiceCost)?;
            schedule.services.push(ServiceFee {
                name: args.name.clone(),
                terms: ServiceTerms {
                    cost,
                    active: true,
                    valid_from: Clock::get()?.unix_timestamp,
                    valid_to: 0,
                },
                count: 0,
                total: 0,
            });
            (None, schedule.services.len() - 1)
        }
    };
    let terms = &mut schedule.services[index].terms;
    terms.cost = args.cost.unwrap_or(terms.cost);
    terms.active = args.active.unwrap_or(terms.active);
    terms.valid_from = args.valid_from.unwrap_or(terms.valid_from);
    terms.valid_to = args.valid_to.unwrap_or(terms.valid_to);
    require!(terms.cost > 0, Aistm7Error::ZeroAmount);
    require!(
        terms.valid_to == 0 || terms.valid_to > terms.valid_from,
        Aistm7Error::InvalidServiceWindow
    );

    emit_event!(ServiceFeeSet {
        name: args.name,
        old,
        new: *terms,
    });
    Ok(())
}
