//! The status meta of a committed transaction, built as agave's transaction
//! status service builds it: balances and token balances from the runtime's
//! balance collector, inner instructions from CPI recording, rent as rewards.

use solana_account_decoder::{
    parse_account_data::SplTokenAdditionalDataV2, parse_token::token_amount_to_ui_amount_v3,
};
use solana_message::v0::LoadedAddresses;
use solana_reward_info::RewardInfo;
use solana_pubkey::Pubkey;
use solana_svm::{transaction_balances::SvmTokenInfo, transaction_commit_result::CommittedTransaction};
use solana_transaction_status::{map_inner_instructions, Reward, TransactionStatusMeta, TransactionTokenBalance};

/// One transaction's share of the balance collector.
pub struct Balances {
    pub native_pre: Vec<u64>,
    pub native_post: Vec<u64>,
    pub token_pre: Vec<SvmTokenInfo>,
    pub token_post: Vec<SvmTokenInfo>,
}

pub fn status_meta(
    committed: CommittedTransaction,
    balances: Balances,
    loaded_addresses: LoadedAddresses,
    normalize_logs: impl Fn(Vec<String>) -> Vec<String>,
) -> TransactionStatusMeta {
    let rewards = committed.rent_debits.into_unordered_rewards_iter().map(|(key, info)| reward(&key, info)).collect();
    TransactionStatusMeta {
        status: committed.status,
        fee: committed.fee_details.total_fee(),
        pre_balances: balances.native_pre,
        post_balances: balances.native_post,
        inner_instructions: committed.inner_instructions.map(|list| map_inner_instructions(list).collect()),
        log_messages: committed.log_messages.map(normalize_logs),
        pre_token_balances: Some(balances.token_pre.into_iter().map(token_balance).collect()),
        post_token_balances: Some(balances.token_post.into_iter().map(token_balance).collect()),
        rewards: Some(rewards),
        loaded_addresses,
        return_data: committed.return_data,
        compute_units_consumed: Some(committed.executed_units),
        cost_units: None,
    }
}

pub fn reward(key: &Pubkey, info: RewardInfo) -> Reward {
    Reward {
        pubkey: key.to_string(),
        lamports: info.lamports,
        post_balance: info.post_balance,
        reward_type: Some(info.reward_type),
        commission: info.commission,
    }
}

fn token_balance(info: SvmTokenInfo) -> TransactionTokenBalance {
    TransactionTokenBalance {
        account_index: info.account_index,
        mint: info.mint.to_string(),
        ui_token_amount: token_amount_to_ui_amount_v3(info.amount, &SplTokenAdditionalDataV2::with_decimals(info.decimals)),
        owner: info.owner.to_string(),
        program_id: info.program_id.to_string(),
    }
}
