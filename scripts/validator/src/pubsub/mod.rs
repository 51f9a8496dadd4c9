//! The WebSocket pubsub server on the RPC port + 1, as solana-test-validator
//! serves it: JSON-RPC 2.0 subscribe / unsubscribe requests, notifications
//! pushed as the chain's events arrive.
//!
//! Each connection follows the chain's event channel on its own and keeps its
//! subscriptions; ids are unique across connections, as agave's are.

mod subscription;

use std::{
    collections::HashMap,
    net::TcpListener,
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
    thread,
    time::Duration,
};

use futures_util::{SinkExt, StreamExt};
use serde_json::{json, Value};
use solana_commitment_config::CommitmentLevel;
use solana_rpc_client_api::response::SlotInfo;
use tokio::sync::broadcast::error::RecvError;
use tokio_tungstenite::tungstenite::Message;

use self::subscription::{Notification, Subscription};
use crate::{
    chain::{Chain, ChainEvent},
    history::StoredTx,
    rpc::{self, Params, RpcError, RpcResult, INVALID_PARAMS, METHOD_NOT_FOUND, PARSE_ERROR},
};

/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);
/// agave's limit on one request frame.
const MAX_REQUEST_BYTES: usize = 50 * 1024;

static NEXT_ID: AtomicU64 = AtomicU64::new(0);

/// Serve pubsub on `listener` from a thread of its own.
pub fn spawn(listener: TcpListener, chain: Arc<Chain>) -> Result<(), String> {
    listener.set_nonblocking(true).map_err(|e| format!("pubsub listener: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("pubsub")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the pubsub runtime: {e}"))?;
    thread::Builder::new()
        .name("pubsub-accept".into())
        .spawn(move || {
            runtime.block_on(async move {
                let listener = tokio::net::TcpListener::from_std(listener).expect("a non-blocking std listener");
                loop {
                    match listener.accept().await {
                        Ok((stream, _)) => {
                            tokio::spawn(connection(stream, Arc::clone(&chain)));
                        }
                        Err(e) => {
                            log::warn!("pubsub accept failed: {e}");
                            tokio::time::sleep(ACCEPT_RETRY).await;
                        }
                    }
                }
            })
        })
        .map_err(|e| format!("cannot start the pubsub thread: {e}"))?;
    Ok(())
}

async fn connection(stream: tokio::net::TcpStream, chain: Arc<Chain>) {
    let Ok(socket) = tokio_tungstenite::accept_async(stream).await else {
        return;
    };
    let (mut sink, mut source) = socket.split();
    let mut events = chain.events();
    let mut subscriptions: HashMap<u64, Subscription> = HashMap::new();
    loop {
        let outgoing = tokio::select! {
            message = source.next() => match message {
                Some(Ok(Message::Text(text))) => requests(&chain, &mut subscriptions, &text),
                Some(Ok(Message::Binary(_))) => vec![rpc::error_response(Value::Null, RpcError::new(PARSE_ERROR, "Parse error: binary frames are not JSON-RPC"))],
                Some(Ok(_)) => continue,
                Some(Err(_)) | None => break,
            },
            event = events.recv() => match event {
                Ok(event) => dispatch(&chain, &mut subscriptions, event),
                // Fell behind: look at every subscription afresh.
                Err(RecvError::Lagged(_)) => catch_up(&chain, &mut subscriptions),
                Err(RecvError::Closed) => break,
            },
        };
        for message in outgoing {
            if sink.send(Message::Text(message.to_string())).await.is_err() {
                return;
            }
        }
    }
}

/// Answer a text frame: one request or a batch, then any notification a new
/// subscription is owed at once.
fn requests(chain: &Chain, subscriptions: &mut HashMap<u64, Subscription>, text: &str) -> Vec<Value> {
    if text.len() > MAX_REQUEST_BYTES {
        return vec![rpc::error_response(Value::Null, RpcError::invalid_params("request too large"))];
    }
    let request: Value = match serde_json::from_str(text) {
        Ok(request) => request,
        Err(e) => return vec![rpc::error_response(Value::Null, RpcError::new(PARSE_ERROR, format!("Parse error: {e}")))],
    };
    let mut owed = Vec::new();
    let mut answer = |request| rpc::answer(request, |method, params| call(chain, subscriptions, &mut owed, method, params));
    let mut out = match request {
        Value::Array(batch) => vec![Value::Array(batch.into_iter().map(&mut answer).collect())],
        single => vec![answer(single)],
    };
    out.extend(owed);
    out
}

fn call(
    chain: &Chain,
    subscriptions: &mut HashMap<u64, Subscription>,
    owed: &mut Vec<Value>,
    method: &str,
    params: &Params,
) -> RpcResult {
    if let Some(kind) = method.strip_suffix("Unsubscribe") {
        let id: u64 = params.required(0, "subscription id")?;
        let known = subscriptions.get(&id).is_some_and(|s| s.method_prefix() == kind);
        if !known {
            return Err(RpcError::new(INVALID_PARAMS, "Invalid subscription id."));
        }
        subscriptions.remove(&id);
        return Ok(json!(true));
    }
    let subscription = subscription::open(chain, method, params)
        .ok_or_else(|| RpcError::new(METHOD_NOT_FOUND, "Method not found"))??;
    let id = NEXT_ID.fetch_add(1, Ordering::Relaxed);
    match subscription.already_landed(chain) {
        Some(notification) => owed.push(message(id, notification)),
        None => {
            subscriptions.insert(id, subscription);
        }
    }
    Ok(json!(id))
}

fn message(id: u64, (method, result): Notification) -> Value {
    json!({ "jsonrpc": "2.0", "method": method, "params": { "result": result, "subscription": id } })
}

/// The committed transactions with these signatures, in order.
fn stored(chain: &Chain, signatures: &[solana_signature::Signature]) -> Vec<StoredTx> {
    let history = chain.history();
    signatures.iter().filter_map(|signature| history.transaction(signature).cloned()).collect()
}

/// Blocks that just reached a commitment, with their transactions.
fn blocks(chain: &Chain, first: u64, last: u64) -> Vec<(u64, Vec<StoredTx>)> {
    let signatures: Vec<_> =
        chain.history().blocks_in(first..=last).iter().map(|block| (block.slot, block.signatures.clone())).collect();
    signatures.into_iter().map(|(slot, signatures)| (slot, stored(chain, &signatures))).collect()
}

fn dispatch(chain: &Chain, subscriptions: &mut HashMap<u64, Subscription>, event: ChainEvent) -> Vec<Value> {
    let mut out = Vec::new();
    let (level, reached) = match event {
        ChainEvent::Processed { slot, signature } => {
            for (id, subscription) in subscriptions.iter_mut() {
                out.extend(subscription.on_received(slot, &signature).map(|n| message(*id, n)));
            }
            (CommitmentLevel::Processed, vec![(slot, stored(chain, &[signature]))])
        }
        ChainEvent::Confirmed { slot } => (CommitmentLevel::Confirmed, blocks(chain, slot, slot)),
        ChainEvent::Rooted { previous, slot } => {
            for (id, subscription) in subscriptions.iter() {
                out.extend(subscription.on_root(slot).map(|n| message(*id, n)));
            }
            (CommitmentLevel::Finalized, blocks(chain, previous + 1, slot))
        }
        ChainEvent::NewSlot { slot, parent, root } => {
            for (id, subscription) in subscriptions.iter() {
                out.extend(subscription.on_slot(SlotInfo { slot, parent, root }).map(|n| message(*id, n)));
            }
            return out;
        }
    };
    let mut done = Vec::new();
    for (id, subscription) in subscriptions.iter_mut().filter(|(_, s)| s.commitment == level) {
        let mut notifications: Vec<Notification> = reached
            .iter()
            .flat_map(|(slot, txs)| subscription.on_transactions(chain, *slot, txs))
            .collect();
        notifications.extend(subscription.on_bank(chain));
        if subscription.is_one_shot() && !notifications.is_empty() {
            done.push(*id);
        }
        out.extend(notifications.into_iter().map(|n| message(*id, n)));
    }
    for id in done {
        subscriptions.remove(&id);
    }
    out
}

/// After missing events: accounts are compared with their banks and
/// signatures looked up, so nothing owed is lost (logs and program
/// notifications of the missed transactions are).
fn catch_up(chain: &Chain, subscriptions: &mut HashMap<u64, Subscription>) -> Vec<Value> {
    let mut out = Vec::new();
    let mut done = Vec::new();
    for (id, subscription) in subscriptions.iter_mut() {
        if let Some(notification) = subscription.already_landed(chain) {
            done.push(*id);
            out.push(message(*id, notification));
        }
        out.extend(subscription.on_bank(chain).map(|n| message(*id, n)));
    }
    for id in done {
        subscriptions.remove(&id);
    }
    out
}
