//! One subscription: what it watches, at which commitment, and the
//! notifications a chain event owes it, in agave's shapes
//! (`{"context": {"slot"}, "value"}` for account, program, signature and logs;
//! `SlotInfo` for slots; the slot number for roots).

use serde::Serialize;
use serde_json::{json, Value};
use solana_account::{AccountSharedData, ReadableAccount};
use solana_clock::Slot;
use solana_commitment_config::CommitmentLevel;
use solana_pubkey::Pubkey;
use solana_rpc_client_api::{
    config::{
        RpcAccountInfoConfig, RpcProgramAccountsConfig, RpcSignatureSubscribeConfig, RpcTransactionLogsFilter,
    },
    filter::RpcFilterType,
    response::{
        ProcessedSignatureResult, ReceivedSignatureResult, RpcKeyedAccount, RpcLogsResponse, RpcSignatureResult,
        SlotInfo,
    },
};
use solana_signature::Signature;

use crate::{
    chain::Chain,
    history::StoredTx,
    rpc::{commitment::commitment_in, encoding::encode_account, parse, Params, RpcError},
};

pub enum Kind {
    Account { pubkey: Pubkey, config: RpcAccountInfoConfig, last: Option<AccountSharedData> },
    Program { program: Pubkey, filters: Vec<RpcFilterType>, config: RpcAccountInfoConfig },
    /// `notify_received`: say so when the transaction reaches this node.
    Signature { signature: Signature, notify_received: bool },
    Logs { mentions: Option<Pubkey> },
    Slot,
    Root,
}

pub struct Subscription {
    pub kind: Kind,
    pub commitment: CommitmentLevel,
}

/// A notification to send: its method and `result`.
pub type Notification = (&'static str, Value);

/// What a subscribe method opens, or `None` for a method that is not one.
pub fn open(chain: &Chain, method: &str, params: &Params) -> Option<Result<Subscription, RpcError>> {
    let opened = match method {
        "accountSubscribe" => account(chain, params),
        "programSubscribe" => program(params),
        "signatureSubscribe" => signature(params),
        "logsSubscribe" => logs(params),
        "slotSubscribe" => Ok(Subscription { kind: Kind::Slot, commitment: CommitmentLevel::Processed }),
        "rootSubscribe" => Ok(Subscription { kind: Kind::Root, commitment: CommitmentLevel::Finalized }),
        _ => return None,
    };
    Some(opened)
}

fn account(chain: &Chain, params: &Params) -> Result<Subscription, RpcError> {
    let pubkey: Pubkey = parse(&params.required::<String>(0, "pubkey")?, "pubkey")?;
    let config: RpcAccountInfoConfig = params.optional(1, "config")?;
    let commitment = commitment_in(params.raw(1))?;
    let last = chain.bank_at(commitment).get_account(&pubkey);
    Ok(Subscription { kind: Kind::Account { pubkey, config, last }, commitment })
}

fn program(params: &Params) -> Result<Subscription, RpcError> {
    let program: Pubkey = parse(&params.required::<String>(0, "programId")?, "pubkey")?;
    let config: RpcProgramAccountsConfig = params.optional(1, "config")?;
    let commitment = commitment_in(params.raw(1))?;
    let filters = config.filters.unwrap_or_default();
    for filter in &filters {
        filter.verify().map_err(|e| RpcError::invalid_params(format!("Invalid param: {e:?}")))?;
    }
    Ok(Subscription { kind: Kind::Program { program, filters, config: config.account_config }, commitment })
}

fn signature(params: &Params) -> Result<Subscription, RpcError> {
    let signature: Signature = parse(&params.required::<String>(0, "signature")?, "signature")?;
    let config: RpcSignatureSubscribeConfig = params.optional(1, "config")?;
    let notify_received = config.enable_received_notification.unwrap_or(false);
    Ok(Subscription { kind: Kind::Signature { signature, notify_received }, commitment: commitment_in(params.raw(1))? })
}

fn logs(params: &Params) -> Result<Subscription, RpcError> {
    let filter: RpcTransactionLogsFilter = params.required(0, "filter")?;
    let mentions = match filter {
        RpcTransactionLogsFilter::All | RpcTransactionLogsFilter::AllWithVotes => None,
        RpcTransactionLogsFilter::Mentions(keys) => match keys.as_slice() {
            [key] => Some(parse(key, "pubkey")?),
            _ => return Err(RpcError::invalid_params("Invalid Request: Only 1 address supported")),
        },
    };
    Ok(Subscription { kind: Kind::Logs { mentions }, commitment: commitment_in(params.raw(1))? })
}

fn in_context(slot: Slot, value: impl Serialize) -> Value {
    json!({ "context": { "slot": slot }, "value": value })
}

impl Subscription {
    /// The name its methods start with (`accountSubscribe`, `accountUnsubscribe`).
    pub fn method_prefix(&self) -> &'static str {
        match self.kind {
            Kind::Account { .. } => "account",
            Kind::Program { .. } => "program",
            Kind::Signature { .. } => "signature",
            Kind::Logs { .. } => "logs",
            Kind::Slot => "slot",
            Kind::Root => "root",
        }
    }

    /// Whether the subscription is over once it has notified (signatures).
    pub fn is_one_shot(&self) -> bool {
        matches!(self.kind, Kind::Signature { .. })
    }

    /// `signatureSubscribe` with `enableReceivedNotification`: the
    /// transaction reached this node (it was processed at `slot`).
    pub fn on_received(&mut self, slot: Slot, landed: &Signature) -> Option<Notification> {
        let Kind::Signature { signature, notify_received } = &mut self.kind else {
            return None;
        };
        if !*notify_received || signature != landed {
            return None;
        }
        *notify_received = false;
        let value = RpcSignatureResult::ReceivedSignature(ReceivedSignatureResult::ReceivedSignature);
        Some(("signatureNotification", in_context(slot, value)))
    }

    /// Notifications owed for transactions that reached this subscription's
    /// commitment in the bank at `slot`.
    pub fn on_transactions(&mut self, chain: &Chain, slot: Slot, txs: &[StoredTx]) -> Vec<Notification> {
        match &mut self.kind {
            Kind::Signature { signature, .. } => txs
                .iter()
                .find(|tx| tx.tx.signatures[0] == *signature)
                .map(|tx| signature_notification(slot, tx))
                .into_iter()
                .collect(),
            Kind::Logs { mentions } => txs
                .iter()
                .filter(|tx| mentions.is_none_or(|key| tx.account_keys().any(|k| *k == key)))
                .map(|tx| {
                    let value = RpcLogsResponse {
                        signature: tx.tx.signatures[0].to_string(),
                        err: tx.meta.status.clone().err(),
                        logs: tx.meta.log_messages.clone().unwrap_or_default(),
                    };
                    ("logsNotification", in_context(slot, value))
                })
                .collect(),
            Kind::Program { program, filters, config } => {
                let bank = chain.bank_at(self.commitment);
                let mut written: Vec<Pubkey> = txs.iter().flat_map(|tx| tx.writable_keys().copied()).collect();
                written.sort_unstable();
                written.dedup();
                written
                    .into_iter()
                    .filter_map(|key| {
                        let account = bank.get_account(&key)?;
                        #[allow(deprecated)] // agave's filter_allows, see rpc::accounts::scan
                        let passes = account.owner() == program && filters.iter().all(|f| f.allows(&account));
                        let encoded = encode_account(&bank, &key, &account, config).ok().filter(|_| passes)?;
                        let value = RpcKeyedAccount { pubkey: key.to_string(), account: encoded };
                        Some(("programNotification", in_context(bank.slot(), value)))
                    })
                    .collect()
            }
            Kind::Account { .. } | Kind::Slot | Kind::Root => Vec::new(),
        }
    }

    /// An account subscription's notification when its account changed in
    /// the bank at its commitment.
    pub fn on_bank(&mut self, chain: &Chain) -> Option<Notification> {
        let Kind::Account { pubkey, config, last } = &mut self.kind else {
            return None;
        };
        let bank = chain.bank_at(self.commitment);
        let now = bank.get_account(pubkey);
        if now == *last {
            return None;
        }
        *last = now.clone();
        let account = now.unwrap_or_default();
        let encoded = encode_account(&bank, pubkey, &account, config).ok()?;
        Some(("accountNotification", in_context(bank.slot(), encoded)))
    }

    pub fn on_slot(&self, info: SlotInfo) -> Option<Notification> {
        matches!(self.kind, Kind::Slot).then(|| ("slotNotification", json!(info)))
    }

    pub fn on_root(&self, root: Slot) -> Option<Notification> {
        matches!(self.kind, Kind::Root).then(|| ("rootNotification", json!(root)))
    }

    /// A signature that already reached this commitment before the
    /// subscription opened is notified at once.
    pub fn already_landed(&self, chain: &Chain) -> Option<Notification> {
        let Kind::Signature { signature, .. } = &self.kind else {
            return None;
        };
        let stored = chain.transaction(signature)?;
        (stored.slot <= chain.slot_at(self.commitment)).then(|| signature_notification(stored.slot, &stored))
    }
}

fn signature_notification(slot: Slot, tx: &StoredTx) -> Notification {
    let result = RpcSignatureResult::ProcessedSignature(ProcessedSignatureResult { err: tx.meta.status.clone().err() });
    ("signatureNotification", in_context(slot, result))
}
