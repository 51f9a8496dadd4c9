//! HTTP/1.1 front: POST / with a JSON-RPC body, GET /health, on loopback.
//!
//! hyper on a tokio runtime: every accepted connection gets its own task, so a
//! burst of keep-alive connections is served at once. The Bank API is
//! synchronous, so each request's work runs on tokio's blocking pool.

use std::{
    convert::Infallible,
    net::{SocketAddr, TcpListener},
    sync::Arc,
    time::Duration,
};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::{
    body::Incoming, header, server::conn::http1, service::service_fn, Method, Request, Response, StatusCode,
};
use hyper_util::rt::TokioIo;
use tokio::signal::unix::{signal, SignalKind};

use crate::{chain::Chain, rpc};

/// agave's limit on a JSON-RPC request body.
const MAX_REQUEST_BODY: usize = 50 * 1024;
/// Pause after a failed accept (out of file descriptors, say) before the next.
const ACCEPT_RETRY: Duration = Duration::from_millis(50);

/// Serve until SIGINT or SIGTERM.
pub fn serve(listener: TcpListener, chain: Arc<Chain>) -> Result<(), String> {
    let rpc_address = listener.local_addr().map_err(|e| format!("listener: {e}"))?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .thread_name("rpc")
        .enable_io()
        .enable_time()
        .build()
        .map_err(|e| format!("cannot start the RPC runtime: {e}"))?;
    runtime.block_on(async move {
        listener.set_nonblocking(true).map_err(|e| format!("listener: {e}"))?;
        let listener = tokio::net::TcpListener::from_std(listener).map_err(|e| format!("listener: {e}"))?;
        let mut terminate = signal(SignalKind::terminate()).map_err(|e| format!("SIGTERM handler: {e}"))?;
        loop {
            let accepted = tokio::select! {
                accepted = listener.accept() => accepted,
                _ = tokio::signal::ctrl_c() => return Ok(()),
                _ = terminate.recv() => return Ok(()),
            };
            let stream = match accepted {
                Ok((stream, _)) => stream,
                Err(e) => {
                    log::warn!("accept failed: {e}");
                    tokio::time::sleep(ACCEPT_RETRY).await;
                    continue;
                }
            };
            let chain = Arc::clone(&chain);
            tokio::spawn(async move {
                let service = service_fn(move |request| respond(Arc::clone(&chain), rpc_address, request));
                // The client may go away mid-request; nothing to do about it.
                let _ = http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    })
}

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(body.into()));
    *response.status_mut() = status;
    response
}

/// How long a browser may cache a preflight answer (solana-test-validator's).
const CORS_MAX_AGE_SECS: &str = "86400";

/// CORS as solana-test-validator answers it (any origin): a preflight gets
/// the methods and the headers the browser asked for; every answer allows
/// any origin, so browser dApps and explorers can call the node.
fn preflight(request: &Request<Incoming>) -> Response<Full<Bytes>> {
    let mut response = text(StatusCode::OK, "");
    let headers = response.headers_mut();
    headers.insert(header::ACCESS_CONTROL_ALLOW_METHODS, header::HeaderValue::from_static("OPTIONS, POST"));
    let requested = request.headers().get(header::ACCESS_CONTROL_REQUEST_HEADERS).cloned();
    headers.insert(
        header::ACCESS_CONTROL_ALLOW_HEADERS,
        requested.unwrap_or_else(|| header::HeaderValue::from_static("content-type")),
    );
    headers.insert(header::ACCESS_CONTROL_MAX_AGE, header::HeaderValue::from_static(CORS_MAX_AGE_SECS));
    response
}

async fn respond(
    chain: Arc<Chain>,
    rpc_address: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let mut response = answer(chain, rpc_address, request).await;
    response
        .headers_mut()
        .insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, header::HeaderValue::from_static("*"));
    Ok(response)
}

async fn answer(chain: Arc<Chain>, rpc_address: SocketAddr, request: Request<Incoming>) -> Response<Full<Bytes>> {
    match (request.method(), request.uri().path()) {
        (&Method::OPTIONS, _) => preflight(&request),
        (&Method::GET, "/health") => text(StatusCode::OK, "ok"),
        (&Method::POST, _) => match Limited::new(request.into_body(), MAX_REQUEST_BODY).collect().await {
            Err(e) if e.is::<LengthLimitError>() => text(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
            Err(e) => text(StatusCode::BAD_REQUEST, format!("could not read body: {e}")),
            Ok(body) => {
                let body = body.to_bytes();
                match tokio::task::spawn_blocking(move || rpc::handle_body(&chain, rpc_address, &body).to_string()).await {
                    Ok(reply) => {
                        let mut response = text(StatusCode::OK, reply);
                        response
                            .headers_mut()
                            .insert(header::CONTENT_TYPE, header::HeaderValue::from_static("application/json"));
                        response
                    }
                    Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, format!("request handler failed: {e}")),
                }
            }
        },
        _ => text(
            StatusCode::METHOD_NOT_ALLOWED,
            "Used HTTP Method is not allowed. POST or OPTIONS is required",
        ),
    }
}
