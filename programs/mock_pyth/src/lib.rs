//! Localnet-only stand-in for the Pyth receiver: declared at the receiver's
//! program id, it owns and writes genuine `PriceUpdateV2` accounts, so programs
//! reading `Account<PriceUpdateV2>` accept them. Never deploy it to a cluster
//! where the real receiver lives.
#![allow(unexpected_cfgs)]

use anchor_lang::prelude::*;
use pyth_solana_receiver_sdk::price_update::{PriceFeedMessage, PriceUpdateV2, VerificationLevel};
declare_id!("rec5EKMGg6MxZYaMdyBfgwp4d5rB9T1VQH5pJv5LtFJ");


#[program]
pub mod mock_pyth {
    use super::*;

    /// Create (first call, the price account signs) or overwrite a price update.
    pub fn write_price(ctx: Context<WritePrice>, args: WritePriceArgs) -> Result<()> {
        let authority = ctx.accounts.authority.key();
        let price_update = &mut ctx.accounts.price_update;
        require!(
            price_update.write_authority == Pubkey::default()
                || price_update.write_authority == authority,
            MockPythError::WrongWriteAuthority
        );
        let verification_level = match args.partial_signatures {
            Some(num_signatures) => VerificationLevel::Partial { num_signatures },
            None => VerificationLevel::Full,
        };
        price_update.set_inner(PriceUpdateV2 {
            write_authority: authority,
            verification_level,
            price_message: PriceFeedMessage {
                feed_id: args.feed_id,
                price: args.price,
                conf: args.conf,
                exponent: args.exponent,
                publish_time: args.publish_time,
                prev_publish_time: args.prev_publish_time,
                ema_price: args.ema_price,
                ema_conf: args.ema_conf,
            },
            posted_slot: args.posted_slot.unwrap_or(Clock::get()?.slot),
        });
        Ok(())
    }
}

#[derive(AnchorSerialize, AnchorDeserialize, Clone, Debug)]
pub struct WritePriceArgs {
    pub feed_id: [u8; 32],
    pub price: i64,
    pub conf: u64,
    pub exponent: i32,
    pub publish_time: i64,
    pub prev_publish_time: i64,
    pub ema_price: i64,
    pub ema_conf: u64,
    /// `None` writes a fully verified update; `Some(n)` a partial one with n signatures.
    pub partial_signatures: Option<u8>,
    /// Defaults to the current slot.
    pub posted_slot: Option<u64>,
}

#[derive(Accounts)]
pub struct WritePrice<'info> {
    #[account(mut)]
    pub authority: Signer<'info>,

    #[account(init_if_needed, payer = authority, space = PriceUpdateV2::LEN)]
    pub price_update: Account<'info, PriceUpdateV2>,

    pub system_program: Program<'info, System>,
}

#[error_code]
pub enum MockPythError {
    #[msg("Only the price account's write authority may overwrite it")]
    WrongWriteAuthority,
}

#[cfg(test)]
mod tests {
    #[test]
    fn declared_at_the_receiver_id() {
        assert_eq!(super::ID, pyth_solana_receiver_sdk::ID);
    }
}
