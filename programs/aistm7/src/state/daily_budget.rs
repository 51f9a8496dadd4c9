use anchor_lang::prelude::*;

use crate::constants::SECONDS_PER_DAY;
use crate::errors::Aistm7Error;

/// Count `amount` against `cap` for the UTC day of `now`: `day` and `used`
/// restart on a new day; past the cap it fails with `exceeded` and changes nothing.
pub fn spend_daily(day: &mut i64, used: &mut u64, amount: u64, now: i64, cap: u64, exceeded: Aistm7Error) -> Result<()> {
    let today = now.div_euclid(SECONDS_PER_DAY);
    let used_today = if today == *day { *used } else { 0 };
    let total = used_today.checked_add(amount).ok_or(Aistm7Error::MathOverflow)?;
    if total > cap {
        return Err(error!(exceeded));
    }
    *day = today;
    *used = total;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_budget_restarts_each_utc_day_and_is_inclusive() {
        let (mut day, mut used) = (0, 0);
        let start = 20_000 * SECONDS_PER_DAY;
        let spend = |day: &mut i64, used: &mut u64, amount, now| {
            spend_daily(day, used, amount, now, 100, Aistm7Error::DailySpendCapExceeded)
        };
        spend(&mut day, &mut used, 60, start + 10).unwrap();
        spend(&mut day, &mut used, 40, start + 20).unwrap();
        assert!(spend(&mut day, &mut used, 1, start + SECONDS_PER_DAY - 1).is_err());
        assert_eq!(used, 100);
        spend(&mut day, &mut used, 100, start + SECONDS_PER_DAY).unwrap();
        assert_eq!((day, used), (20_001, 100));
    }
}
