//! HTTP/1.1 front: POST / with a JSON-RPC body, GET /health, on loopback.

use std::{io::Read, sync::Arc, thread};

use tiny_http::{Header, Method, Request, Response, Server, StatusCode};

use crate::{chain::Chain, rpc};

/// agave's limit on a JSON-RPC request body.
const MAX_REQUEST_BODY: usize = 50 * 1024;
/// Requests served at once.
const WORKERS: usize = 8;

pub fn serve(server: Server, chain: Arc<Chain>) {
    let server = Arc::new(server);
    let workers: Vec<_> = (0..WORKERS)
        .map(|n| {
            let server = Arc::clone(&server);
            let chain = Arc::clone(&chain);
            thread::Builder::new()
                .name(format!("rpc-{n}"))
                .spawn(move || {
                    for request in server.incoming_requests() {
                        respond(&chain, request);
                    }
                })
                .expect("spawn rpc worker")
        })
        .collect();
    for worker in workers {
        let _ = worker.join();
    }
}

fn json_header() -> Header {
    Header::from_bytes("Content-Type", "application/json").expect("static header")
}

fn respond(chain: &Chain, mut request: Request) {
    let response = match (request.method(), request.url()) {
        (Method::Get, "/health") => Response::from_string("ok"),
        (Method::Post, _) => {
            let mut body = Vec::new();
            let read = request
                .as_reader()
                .take(MAX_REQUEST_BODY as u64 + 1)
                .read_to_end(&mut body);
            match read {
                Err(e) => Response::from_string(format!("could not read body: {e}")).with_status_code(400),
                Ok(_) if body.len() > MAX_REQUEST_BODY => {
                    Response::from_string("request body too large").with_status_code(413)
                }
                Ok(_) => Response::from_string(rpc::handle_body(chain, &body).to_string())
                    .with_header(json_header()),
            }
        }
        _ => Response::from_string("Used HTTP Method is not allowed. POST or OPTIONS is required")
            .with_status_code(StatusCode(405)),
    };
    // The client may have gone away; nothing to do about it.
    let _ = request.respond(response);
}
