use anchor_lang::prelude::*;
use anchor_lang::system_program::{self, Allocate, Assign, CreateAccount, Transfer};

use crate::constants::{SEED_BUYBACK, SEED_CONFIG, SEED_REVENUE_BATCH};
use crate::emit_event;
use crate::errors::Aistm7Error;
use crate::events::RevenueReported;
use crate::state::{BatchCommitment, Buyback, Config, RevenueBatch};

/// The keeper reports a batch of fiat revenue as the root of its Merkle-sum
/// tree and the sums it carries (`BatchCommitment`). `batch_seq` must be
/// exactly the last one + 1: a batch already recorded fails with
/// `BatchAlreadyRecorded` (a retry the keeper can recognise), a skipped
/// number with `BatchSequenceGap`. The batch's account is created here,
/// after those checks (so a retry gets its named error, not "account in
/// use"), and lamports sent to its address beforehand do not block it.
#[derive(Accounts)]
#[instruction(batch_seq: u64)]
pub struct ReportRevenue<'info> {
    /// Signs and pays the rent of the batch's account.
    #[account(mut, constraint = keeper.key() == config.authorities.keeper @ Aistm7Error::Unauthorized)]
    pub keeper: Signer<'info>,

    #[account(seeds = [SEED_CONFIG], bump = config.bump)]
    pub config: Box<Account<'info, Config>>,

    #[account(mut, seeds = [SEED_BUYBACK], bump = buyback.bump)]
    pub buyback: Box<Account<'info, Buyback>>,

    /// CHECK: the address is the PDA of `batch_seq`; created by the handler.
    #[account(mut, seeds = [SEED_REVENUE_BATCH, &batch_seq.to_le_bytes()], bump)]
    pub revenue_batch: UncheckedAccount<'info>,

    pub system_program: Program<'info, System>,
}

pub fn handler(ctx: Context<ReportRevenue>, batch_seq: u64, batch: BatchCommitment) -> Result<()> {
    ctx.accounts.config.require_not_paused()?;
    let last = ctx.accounts.buyback.last_batch_seq;
    require!(batch_seq > last, Aistm7Error::BatchAlreadyRecorded);
    require!(batch_seq == last + 1, Aistm7Error::BatchSequenceGap);
    let totals = batch.totals()?;
    ctx.accounts.buyback.revenue.add(&totals)?;
    ctx.accounts.buyback.last_batch_seq = batch_seq;

    let bump = ctx.bumps.revenue_batch;
    create_batch_account(&ctx, batch_seq, bump)?;
    let clock = Clock::get()?;
    let record = RevenueBatch {
        batch_seq,
        root: batch.root,
        totals,
        events: batch.events,
        reported_at: clock.unix_timestamp,
        slot: clock.slot,
        bump,
    };
    let info = ctx.accounts.revenue_batch.to_account_info();
    record.try_serialize(&mut &mut info.try_borrow_mut_data()?[..])?;

    emit_event!(RevenueReported {
        batch_seq,
        account: info.key(),
        root: batch.root,
        events: batch.events,
        batch: totals,
        totals: ctx.accounts.buyback.revenue,
    });
    Ok(())
}

/// Create the batch's account owned by this program, topping up and taking
/// over an address someone already sent lamports to.
fn create_batch_account(ctx: &Context<ReportRevenue>, batch_seq: u64, bump: u8) -> Result<()> {
    let space = 8 + RevenueBatch::INIT_SPACE;
    let rent = Rent::get()?.minimum_balance(space);
    let seq = batch_seq.to_le_bytes();
    let seeds: &[&[u8]] = &[SEED_REVENUE_BATCH, &seq, &[bump]];
    let signer = &[seeds];
    let target = ctx.accounts.revenue_batch.to_account_info();
    let system = ctx.accounts.system_program.to_account_info();
    let payer = ctx.accounts.keeper.to_account_info();
    let held = target.lamports();
    if held == 0 {
        let accounts = CreateAccount { from: payer, to: target };
        return system_program::create_account(
            CpiContext::new_with_signer(system, accounts, signer),
            rent,
            space as u64,
            ctx.program_id,
        );
    }
    if held < rent {
        let accounts = Transfer { from: payer, to: target.clone() };
        system_program::transfer(CpiContext::new(system.clone(), accounts), rent - held)?;
    }
    system_program::allocate(
        CpiContext::new_with_signer(system.clone(), Allocate { account_to_allocate: target.clone() }, signer),
        space as u64,
    )?;
    system_program::assign(
        CpiContext::new_with_signer(system, Assign { account_to_assign: target }, signer),
        ctx.program_id,
    )
}
