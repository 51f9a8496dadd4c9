//! Instruction builders shared by the test files.

use aistm7::{
    accounts,
    constants::{
        SEED_CHARGE, SEED_FEES, SEED_FEE_DELEGATE, SEED_LINK, SEED_LOCK_VAULT, SEED_MINT_AUTHORITY, SEED_REWARD_VAULT,
    },
    instruction, SetServiceFeeArgs,
};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction};

use crate::*;

pub fn set_fee_ix(admin: &Pubkey, args: SetServiceFeeArgs) -> Instruction {
    ix(
        aistm7::ID,
        accounts::SetServiceFee { admin: *admin, config: config_pda(), fee_schedule: pda(&[SEED_FEES]) },
        instruction::SetServiceFee { args },
    )
}

pub fn new_service(name: &str, cost: u64) -> SetServiceFeeArgs {
    SetServiceFeeArgs { name: name.into(), cost: Some(cost), ..Default::default() }
}

pub fn pay_ix(payer: &Pubkey, mint: &Pubkey, payer_token: &Pubkey, service: &str) -> Instruction {
    ix(
        aistm7::ID,
        accounts::PayServiceFee {
            payer: *payer,
            config: config_pda(),
            fee_schedule: pda(&[SEED_FEES]),
            mint: *mint,
            payer_token: *payer_token,
            treasury_vault: treasury_pda(mint),
            token_program: anchor_spl::token::ID,
        },
        instruction::PayServiceFee { service: service.into() },
    )
}

pub fn charge_ix(collector: &Pubkey, mint: &Pubkey, user_token: &Pubkey, service: &str, request_id: [u8; 32]) -> Instruction {
    ix(
        aistm7::ID,
        accounts::ChargeServiceFee {
            fee_collector: *collector,
            config: config_pda(),
            fee_schedule: pda(&[SEED_FEES]),
            mint: *mint,
            user_token: *user_token,
            fee_delegate: pda(&[SEED_FEE_DELEGATE]),
            receipt: pda(&[SEED_CHARGE, &request_id]),
            treasury_vault: treasury_pda(mint),
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        instruction::ChargeServiceFee { service: service.into(), request_id },
    )
}

pub fn mint_to_ix(admin: &Pubkey, mint: &Pubkey, destination: &Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::MintTo {
            admin: *admin,
            config: config_pda(),
            mint: *mint,
            mint_authority: pda(&[SEED_MINT_AUTHORITY]),
            destination: *destination,
            token_program: anchor_spl::token::ID,
        },
        instruction::MintTo { amount },
    )
}

pub fn link_ix(wallet: &Pubkey, user_ref: [u8; 32]) -> Instruction {
    ix(
        aistm7::ID,
        accounts::ConnectWallet {
            wallet: *wallet,
            config: config_pda(),
            link: pda(&[SEED_LINK, wallet.as_ref()]),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::ConnectWallet { user_ref },
    )
}

pub fn unlink_ix(wallet: &Pubkey, link: &Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::DisconnectWallet { wallet: *wallet, config: config_pda(), link: *link, access_lock: lock_pda(wallet) },
        instruction::DisconnectWallet {},
    )
}

pub fn deposit_ix(funder: &Pubkey, mint: &Pubkey, funder_token: &Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::DepositTreasury {
            funder: *funder,
            config: config_pda(),
            mint: *mint,
            funder_token: *funder_token,
            treasury_vault: treasury_pda(mint),
            token_program: anchor_spl::token::ID,
        },
        instruction::DepositTreasury { amount },
    )
}

pub fn lock_tokens_ix(wallet: &Pubkey, mint: &Pubkey, wallet_token: &Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::LockTokens {
            wallet: *wallet,
            config: config_pda(),
            mint: *mint,
            wallet_token: *wallet_token,
            access_lock: lock_pda(wallet),
            lock_vault: vault_pda(SEED_LOCK_VAULT, mint),
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        instruction::LockTokens { amount },
    )
}

pub fn request_unlock_ix(wallet: &Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::RequestUnlock { wallet: *wallet, config: config_pda(), access_lock: lock_pda(wallet) },
        instruction::RequestUnlock { amount },
    )
}

pub fn withdraw_unlocked_ix(wallet: &Pubkey, mint: &Pubkey, wallet_token: &Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::WithdrawUnlocked {
            wallet: *wallet,
            config: config_pda(),
            mint: *mint,
            access_lock: lock_pda(wallet),
            wallet_token: *wallet_token,
            lock_vault: vault_pda(SEED_LOCK_VAULT, mint),
            token_program: anchor_spl::token::ID,
        },
        instruction::WithdrawUnlocked {},
    )
}

pub fn verify_access_ix(wallet: &Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::VerifyAccess { wallet: *wallet, config: config_pda(), access_lock: lock_pda(wallet) },
        instruction::VerifyAccess {},
    )
}

/// The `refresh_requirement` instruction with these price accounts.
pub fn refresh_ix(primary: &Pubkey, backup: Option<Pubkey>) -> Instruction {
    ix(
        aistm7::ID,
        accounts::RefreshRequirement { config: config_pda(), primary_price: *primary, backup_price: backup },
        instruction::RefreshRequirement {},
    )
}

pub fn init_fee_schedule_ix(admin: &Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::InitializeFeeSchedule {
            admin: *admin,
            config: config_pda(),
            fee_schedule: pda(&[SEED_FEES]),
            system_program: anchor_lang::system_program::ID,
        },
        instruction::InitializeFeeSchedule {},
    )
}

pub fn fund_rewards_ix(admin: &Pubkey, mint: &Pubkey, source: &Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::FundRewards {
            admin: *admin,
            config: config_pda(),
            mint: *mint,
            source: *source,
            reward_vault: vault_pda(SEED_REWARD_VAULT, mint),
            token_program: anchor_spl::token::ID,
        },
        instruction::FundRewards { amount },
    )
}

pub fn reward_ix(rewarder: &Pubkey, mint: &Pubkey, recipient_token: &Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::DistributeReward {
            rewarder: *rewarder,
            config: config_pda(),
            mint: *mint,
            reward_vault: vault_pda(SEED_REWARD_VAULT, mint),
            recipient_token: *recipient_token,
            token_program: anchor_spl::token::ID,
        },
        instruction::DistributeReward { reward_type: 0, amount },
    )
}

pub fn close_charge_receipt_ix(request_id: [u8; 32], payer: &Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::CloseChargeReceipt { config: config_pda(), receipt: pda(&[SEED_CHARGE, &request_id]), payer: *payer },
        instruction::CloseChargeReceipt {},
    )
}

pub fn set_paused_ix(guardian: &Pubkey, paused: bool) -> Instruction {
    ix(aistm7::ID, accounts::SetPaused { guardian: *guardian, config: config_pda() }, instruction::SetPaused { paused })
}
