//! A Bank with the buy-order treasury initialized and funded, priced at
//! $0.15 a token and 18.5 ZAR per USD, and the instructions that drive it.

use aistm7::{
    accounts,
    constants::{
        MAX_REVENUE_ENTRY_CENTS, SEED_BUYBACK, SEED_REVENUE_BATCH, SEED_BUYBACK_VAULT, SEED_ORDER, SEED_ORDER_ESCROW, SEED_PROPOSAL,
        SEED_QUOTE_VAULT,
    },
    instruction,
    state::{BatchCommitment, Buyback, BuybackParams, ProposalAction, QuoteRate},
    InitializeBuybackArgs,
};
use anchor_lang::{prelude::Pubkey, solana_program::instruction::Instruction};
use solana_keypair::Keypair;
use solana_signer::Signer;

use crate::*;

pub const USD_ZAR_FEED: [u8; 32] = [0xC3; 32];
pub const ZAR: u64 = 100; // cents
pub const TOKEN: u64 = 100_000_000;
pub const QUOTE_FUNDS: u64 = 100_000_000_000; // 100,000 USD at 6 decimals

pub struct Treasury {
    pub env: Env,
    pub keys: Vec<Keypair>,
    pub council: Vec<Keypair>,
    pub mint: Pubkey,
    pub quote_mint: Pubkey,
    pub token_feed: Keypair,
    pub fx_feed: Keypair,
    pub next_batch: u64,
}

pub fn params() -> BuybackParams {
    BuybackParams {
        quote_rate: QuoteRate::UsdViaPyth,
        token_feed_id: PRIMARY_FEED,
        usd_zar_feed_id: USD_ZAR_FEED,
        allocation_bps: 1_000,
        min_allocation_cents: 10_000,
        max_allocation_cents: 100_000_000,
        max_slippage_bps: 100,
        order_ttl_secs: 3_600,
        daily_spend_cap: u64::MAX,
        burn_on_fill: true,
        direct_withdraw_limit: 1_000_000_000,
        timelock_secs: 172_800,
        approvals_required: 2,
    }
}

pub fn order_pda(id: u64) -> Pubkey {
    pda(&[SEED_ORDER, &id.to_le_bytes()])
}

pub fn escrow_pda(id: u64) -> Pubkey {
    pda(&[SEED_ORDER_ESCROW, &id.to_le_bytes()])
}

pub async fn treasury() -> Treasury {
    treasury_with(params()).await
}

pub async fn treasury_with(params: BuybackParams) -> Treasury {
    let Initialized { mut env, keys, mint } = initialized().await;
    let admin = keys[0].insecure_clone();
    env.fund(&admin.pubkey(), 10_000_000_000).await;
    env.fund(&keys[2].pubkey(), 10_000_000_000).await;
    let quote_mint = env.create_mint(6).await;
    let council: Vec<Keypair> = (0..3).map(|_| Keypair::new()).collect();
    let init = ix(
        aistm7::ID,
        accounts::InitializeBuyback {
            admin: admin.pubkey(),
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            quote_mint,
            quote_vault: pda(&[SEED_QUOTE_VAULT]),
            token_program: anchor_spl::token::ID,
            system_program: anchor_lang::system_program::ID,
        },
        instruction::InitializeBuyback {
            args: InitializeBuybackArgs { params, council: council.iter().map(|k| k.pubkey()).collect() },
        },
    );
    env.send(&[init], &[&admin]).await.expect("initialize buyback");
    let payer = env.payer();
    let fund = spl_token::instruction::mint_to(&spl_token::ID, &quote_mint, &pda(&[SEED_QUOTE_VAULT]), &payer.pubkey(), &[], QUOTE_FUNDS).unwrap();
    env.send(&[fund], &[]).await.unwrap();
    let mut t = Treasury { env, keys, council, mint, quote_mint, token_feed: Keypair::new(), fx_feed: Keypair::new(), next_batch: 1 };
    t.set_prices(15_000_000, 1_850_000_000).await; // $0.15; 18.5 ZAR per USD
    t
}

/// The account of revenue batch `batch_seq`.
pub fn batch_pda(batch_seq: u64) -> Pubkey {
    pda(&[SEED_REVENUE_BATCH, &batch_seq.to_le_bytes()])
}

/// A batch of `events` events with these sums (the program never sees the
/// events, so any non-zero root stands for them).
pub fn commitment(course_sale: u64, subscription: u64, other: u64, events: u64) -> BatchCommitment {
    BatchCommitment { root: [0xAB; 32], course_sale, subscription, other, events }
}

impl Treasury {
    pub async fn set_prices(&mut self, token: i64, usd_zar: i64) {
        let now = self.env.clock().await.unix_timestamp;
        let (token_feed, fx_feed) = (self.token_feed.insecure_clone(), self.fx_feed.insecure_clone());
        self.env.write_price(&token_feed, price_args(PRIMARY_FEED, token, now)).await;
        self.env.write_price(&fx_feed, price_args(USD_ZAR_FEED, usd_zar, now)).await;
    }

    pub fn report_ix(&self, signer: &Pubkey, batch_seq: u64, batch: BatchCommitment) -> Instruction {
        ix(
            aistm7::ID,
            accounts::ReportRevenue {
                keeper: *signer,
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                revenue_batch: batch_pda(batch_seq),
                system_program: anchor_lang::system_program::ID,
            },
            instruction::ReportRevenue { batch_seq, batch },
        )
    }

    /// Report `cents` of course sales in one batch, as events of at most the program's maximum.
    pub async fn report(&mut self, cents: u64) {
        let keeper = self.keys[2].insecure_clone();
        let batch = commitment(cents, 0, 0, cents.div_ceil(MAX_REVENUE_ENTRY_CENTS));
        let ix = self.report_ix(&keeper.pubkey(), self.next_batch, batch);
        self.env.send(&[ix], &[&keeper]).await.expect("report");
        self.next_batch += 1;
    }

    pub async fn buyback(&mut self) -> Buyback {
        self.env.account(&pda(&[SEED_BUYBACK])).await.unwrap()
    }

    /// `execute_buy_order` for the next order id.
    pub async fn execute_ix(&mut self) -> Instruction {
        let keeper = self.keys[2].pubkey();
        let id = self.buyback().await.next_order_id;
        ix(
            aistm7::ID,
            accounts::ExecuteBuyOrder {
                keeper,
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                token_price: self.token_feed.pubkey(),
                usd_zar_price: self.fx_feed.pubkey(),
                quote_mint: self.quote_mint,
                quote_vault: pda(&[SEED_QUOTE_VAULT]),
                order: order_pda(id),
                escrow: escrow_pda(id),
                token_program: anchor_spl::token::ID,
                system_program: anchor_lang::system_program::ID,
            },
            instruction::ExecuteBuyOrder {},
        )
    }

    pub async fn execute(&mut self) -> Result<Vec<String>, solana_transaction_error::TransactionError> {
        let keeper = self.keys[2].insecure_clone();
        let ix = self.execute_ix().await;
        self.env.send(&[ix], &[&keeper]).await
    }

    pub fn fill_ix(&self, seller: &Pubkey, id: u64, seller_token: &Pubkey, seller_quote: &Pubkey, amount: u64) -> Instruction {
        ix(
            aistm7::ID,
            accounts::FillBuyOrder {
                seller: *seller,
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                order: order_pda(id),
                escrow: escrow_pda(id),
                mint: self.mint,
                quote_mint: self.quote_mint,
                seller_token: *seller_token,
                seller_quote: *seller_quote,
                buyback_vault: vault_pda(SEED_BUYBACK_VAULT, &self.mint),
                token_price: self.token_feed.pubkey(),
                usd_zar_price: self.fx_feed.pubkey(),
                token_program: anchor_spl::token::ID,
            },
            instruction::FillBuyOrder { amount },
        )
    }

    pub fn close_ix(&self, id: u64) -> Instruction {
        ix(
            aistm7::ID,
            accounts::CloseExpiredBuyOrder {
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                order: order_pda(id),
                escrow: escrow_pda(id),
                quote_vault: pda(&[SEED_QUOTE_VAULT]),
                quote_mint: self.quote_mint,
                token_program: anchor_spl::token::ID,
            },
            instruction::CloseExpiredBuyOrder {},
        )
    }
}

pub fn proposal_pda(id: u64) -> Pubkey {
    pda(&[SEED_PROPOSAL, &id.to_le_bytes()])
}

pub fn create_proposal_ix(proposer: &Pubkey, id: u64, action: ProposalAction, destination: Option<Pubkey>) -> Instruction {
    ix(
        aistm7::ID,
        accounts::CreateProposal {
            proposer: *proposer,
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            proposal: proposal_pda(id),
            destination,
            system_program: anchor_lang::system_program::ID,
        },
        instruction::CreateProposal { action },
    )
}

pub fn approve_proposal_ix(member: &Pubkey, id: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::ApproveProposal { member: *member, buyback: pda(&[SEED_BUYBACK]), proposal: proposal_pda(id) },
        instruction::ApproveProposal {},
    )
}

/// `execute_proposal` for a withdrawal from `vault` (of `vault_mint`) to `destination`.
pub fn execute_withdraw_ix(id: u64, vault: Pubkey, vault_mint: Pubkey, destination: Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::ExecuteProposal {
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            proposal: proposal_pda(id),
            vault: Some(vault),
            vault_mint: Some(vault_mint),
            destination: Some(destination),
            token_program: Some(anchor_spl::token::ID),
        },
        instruction::ExecuteProposal {},
    )
}

/// `execute_proposal` for an action that moves no tokens.
pub fn execute_proposal_ix(id: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::ExecuteProposal {
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            proposal: proposal_pda(id),
            vault: None,
            vault_mint: None,
            destination: None,
            token_program: None,
        },
        instruction::ExecuteProposal {},
    )
}

pub fn cancel_proposal_ix(guardian: &Pubkey, id: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::CancelProposal { guardian: *guardian, config: config_pda(), proposal: proposal_pda(id) },
        instruction::CancelProposal {},
    )
}

pub fn withdraw_quote_ix(admin: &Pubkey, quote_mint: Pubkey, destination: Pubkey, amount: u64) -> Instruction {
    ix(
        aistm7::ID,
        accounts::WithdrawQuote {
            admin: *admin,
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            quote_vault: pda(&[SEED_QUOTE_VAULT]),
            quote_mint,
            destination,
            token_program: anchor_spl::token::ID,
        },
        instruction::WithdrawQuote { amount },
    )
}

impl Treasury {
    /// Propose `action` as the admin and have the first `approvals` council
    /// members approve it; returns the proposal id.
    pub async fn propose_and_approve(&mut self, action: ProposalAction, destination: Option<Pubkey>, approvals: usize) -> u64 {
        let admin = self.keys[0].insecure_clone();
        let id = self.buyback().await.next_proposal_id;
        self.env.send(&[create_proposal_ix(&admin.pubkey(), id, action, destination)], &[&admin]).await.expect("propose");
        for member in self.council[..approvals].iter().map(|k| k.insecure_clone()).collect::<Vec<_>>() {
            self.env.send(&[approve_proposal_ix(&member.pubkey(), id)], &[&member]).await.expect("approve");
        }
        id
    }

    /// A seller holding `tokens`, with an empty quote account: (key, token account, quote account).
    pub async fn seller(&mut self, tokens: u64) -> (Keypair, Pubkey, Pubkey) {
        let seller = Keypair::new();
        let (mint, quote_mint) = (self.mint, self.quote_mint);
        let token = self.env.create_token_account(&mint, &seller.pubkey(), tokens).await;
        let quote = self.env.create_token_account(&quote_mint, &seller.pubkey(), 0).await;
        (seller, token, quote)
    }

    /// `cancel_buy_order` of order `id`, signed by `admin`.
    pub fn cancel_order_ix(&self, admin: &Pubkey, id: u64) -> Instruction {
        ix(
            aistm7::ID,
            accounts::CancelBuyOrder {
                admin: *admin,
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                order: order_pda(id),
                escrow: escrow_pda(id),
                quote_vault: pda(&[SEED_QUOTE_VAULT]),
                quote_mint: self.quote_mint,
                token_program: anchor_spl::token::ID,
            },
            instruction::CancelBuyOrder {},
        )
    }

    /// `close_buy_order` of order `id`, its rent to `payer`.
    pub fn close_order_ix(&self, id: u64, payer: &Pubkey) -> Instruction {
        ix(
            aistm7::ID,
            accounts::CloseBuyOrder {
                config: config_pda(),
                buyback: pda(&[SEED_BUYBACK]),
                order: order_pda(id),
                escrow: escrow_pda(id),
                quote_vault: pda(&[SEED_QUOTE_VAULT]),
                quote_mint: self.quote_mint,
                payer: *payer,
                token_program: anchor_spl::token::ID,
            },
            instruction::CloseBuyOrder {},
        )
    }
}

pub fn close_proposal_ix(id: u64, proposer: &Pubkey) -> Instruction {
    ix(
        aistm7::ID,
        accounts::CloseProposal {
            config: config_pda(),
            buyback: pda(&[SEED_BUYBACK]),
            proposal: proposal_pda(id),
            proposer: *proposer,
        },
        instruction::CloseProposal {},
    )
}
