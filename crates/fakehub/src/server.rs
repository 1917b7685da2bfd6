//! Listeners and the per-connection loop: a dedicated thread runs a tokio
//! runtime that accepts on the API and blob listeners, reads requests,
//! consults the fault list, dispatches to the API or blob handler, logs the
//! exchange and writes the response (keep-alive unless a fault breaks it).

use crate::faults::{self, Decision, Replacement};
use crate::http::{Conn, ReadError, Request, Response, WireMode};
use crate::origin::Origin;
use crate::shared::Shared;
use crate::state::{LoggedRequest, State};
use crate::tls::Stream;
use crate::{Options, api, blob};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::Duration;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;

/// Which socket a connection arrived on.
#[derive(Debug, Clone, Copy)]
enum Listener {
    Api,
    Blob,
}

/// The running server thread.
pub(crate) struct Running {
    pub shared: Arc<Shared>,
    shutdown: Option<oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Drop for Running {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        if let Some(f) = &self.shared.ca_file {
            let _ = std::fs::remove_file(f);
        }
    }
}

fn bind() -> std::io::Result<(std::net::TcpListener, u16)> {
    let l = std::net::TcpListener::bind("127.0.0.1:0")?;
    l.set_nonblocking(true)?;
    let port = l.local_addr()?.port();
    Ok((l, port))
}

/// Binds both listeners and starts the runtime thread; returns once accepting.
pub(crate) fn start(opts: Options) -> std::io::Result<Running> {
    let (api, api_port) = bind()?;
    let (blob, blob_port) = bind()?;
    let (scheme, tls, ca_pem, ca_file) = if opts.tls {
        let t = crate::tls::setup()?;
        let file =
            std::env::temp_dir().join(format!("fakehub-ca-{}-{api_port}.pem", std::process::id()));
        std::fs::write(&file, &t.ca_pem)?;
        ("https", Some(t.acceptor), Some(t.ca_pem), Some(file))
    } else {
        ("http", None, None, None)
    };
    let server_url = format!("{scheme}://127.0.0.1:{api_port}");
    let api_url = if opts.ghes {
        format!("{server_url}/api/v3")
    } else {
        server_url.clone()
    };
    let now = crate::util::now_unix();
    let seed = format!("{now}-{api_port}-{blob_port}-{}", std::process::id());
    let mut state = State::new();
    state.ensure_repo(&opts.repo);
    let shared = Arc::new(Shared {
        api_url,
        blob_origin: format!("{scheme}://127.0.0.1:{blob_port}"),
        server_url,
        secret: crate::util::sha256_hex(seed.as_bytes()),
        pipelines_token: format!(
            "Ohg{}",
            &crate::util::sha256_hex(format!("p{seed}").as_bytes())[..40]
        ),
        started_at: now,
        state: Mutex::new(state),
        tls,
        ca_pem,
        ca_file,
        endless_to_the_cap: Default::default(),
        opts,
    });
    let (tx, rx) = oneshot::channel();
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let sh = shared.clone();
    let thread = std::thread::Builder::new()
        .name("fakehub".into())
        .spawn(move || run_thread(sh, api, blob, rx, ready_tx))?;
    match ready_rx.recv() {
        Ok(Ok(())) => {}
        Ok(Err(e)) => return Err(e),
        Err(_) => return Err(std::io::Error::other("fakehub thread died during startup")),
    }
    Ok(Running {
        shared,
        shutdown: Some(tx),
        thread: Some(thread),
    })
}

fn run_thread(
    sh: Arc<Shared>,
    api: std::net::TcpListener,
    blob: std::net::TcpListener,
    stop: oneshot::Receiver<()>,
    ready: std::sync::mpsc::Sender<std::io::Result<()>>,
) {
    let rt = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            let _ = ready.send(Err(e));
            return;
        }
    };
    rt.block_on(async move {
        let listeners =
            TcpListener::from_std(api).and_then(|a| Ok((a, TcpListener::from_std(blob)?)));
        let (api, blob) = match listeners {
            Ok(l) => l,
            Err(e) => {
                let _ = ready.send(Err(e));
                return;
            }
        };
        tokio::spawn(accept_loop(sh.clone(), api, Listener::Api));
        tokio::spawn(accept_loop(sh, blob, Listener::Blob));
        let _ = ready.send(Ok(()));
        let _ = stop.await;
    });
    rt.shutdown_timeout(Duration::from_secs(1));
}

async fn accept_loop(sh: Arc<Shared>, listener: TcpListener, kind: Listener) {
    loop {
        match listener.accept().await {
            Ok((stream, _)) => {
                tokio::spawn(serve_connection(sh.clone(), stream, kind));
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(10)).await,
        }
    }
}

fn origin_of(sh: &Shared, kind: Listener, req: &Request) -> Origin {
    match kind {
        Listener::Blob => Origin::Blob,
        Listener::Api if sh.opts.ghes && req.path.starts_with(blob::PIPELINES_PREFIX) => {
            Origin::Blob
        }
        Listener::Api => Origin::Api,
    }
}

fn bad_request(kind: Listener, msg: &str) -> Response {
    match kind {
        Listener::Api => api::error(400, &format!("Problems parsing request: {msg}")),
        Listener::Blob => Response::new(400)
            .header("Content-Type", "text/plain; charset=utf-8")
            .body(msg.as_bytes().to_vec()),
    }
}

async fn serve_connection(sh: Arc<Shared>, stream: TcpStream, kind: Listener) {
    let stream = match &sh.tls {
        None => Stream::Plain(stream),
        Some(acceptor) => {
            let handshake = acceptor.accept(stream);
            match tokio::time::timeout(Duration::from_secs(10), handshake).await {
                Ok(Ok(s)) => Stream::Tls(Box::new(s)),
                Ok(Err(_)) | Err(_) => return, // e.g. a client that does not trust the CA
            }
        }
    };
    let mut conn = Conn::new(stream);
    loop {
        let req = match conn.read_request().await {
            Ok(Some(r)) => r,
            Ok(None) | Err(ReadError::Io) => return,
            Err(ReadError::Bad(msg)) => {
                let resp = bad_request(kind, msg);
                let _ = conn
                    .write_response(&resp, false, false, WireMode::default())
                    .await;
                return;
            }
        };
        let origin = origin_of(&sh, kind, &req);
        let target = format!("{}?{}", req.path, req.query);
        // The lock ends with this statement: the waits below must not hold it.
        let decision = {
            let mut st = sh.lock();
            let st = &mut *st;
            faults::decide(
                &mut st.faults,
                &mut st.barrier_arrivals,
                origin,
                &req.method,
                &target,
                req.header("range"),
            )
        };
        if !decision.delay.is_zero() {
            tokio::time::sleep(decision.delay).await;
        }
        if let Some((key, parties)) = &decision.barrier {
            wait_at_barrier(&sh, key, *parties).await;
        }
        let Some((resp, wire)) = respond(&sh, origin, &req, decision) else {
            return; // Disconnect fault: drop the socket without a word.
        };
        let head_only = req.method == "HEAD";
        let endless = matches!(resp.body, crate::http::Body::Endless { .. }) && !head_only;
        match conn
            .write_response(&resp, req.keep_alive, head_only, wire)
            .await
        {
            Ok(true) => {}
            Ok(false) => {
                if endless {
                    sh.endless_to_the_cap
                        .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                }
                return;
            }
            Err(_) => return,
        }
    }
}

/// Computes (and logs) the response; `None` means "hang up".
fn respond(
    sh: &Shared,
    origin: Origin,
    req: &Request,
    decision: Decision,
) -> Option<(Response, WireMode)> {
    let mut st = sh.lock();
    let resp = match decision.replace {
        Some(Replacement::Disconnect) => None,
        Some(Replacement::Respond(r)) if origin == Origin::Api => {
            Some(api::add_common_headers(sh, &mut st, r))
        }
        Some(Replacement::Respond(r)) => Some(r),
        None if origin == Origin::Api => Some(api::handle(sh, &mut st, req)),
        None => Some(blob::handle(sh, &st, req)),
    };
    st.log.push(LoggedRequest {
        origin,
        method: req.method.clone(),
        path: req.path.clone(),
        query: req.query.clone(),
        headers: req.headers.clone(),
        status: resp.as_ref().map_or(0, |r| r.status),
        at: std::time::Instant::now(),
    });
    let mut wire = decision.wire;
    if origin == Origin::Blob && wire.throttle.is_none() {
        wire.throttle = sh.opts.throttle_bytes_per_sec;
    }
    resp.map(|r| (r, wire))
}

/// Holds a request until `parties` requests reached the barrier `key`, or a minute passed
/// (counted as missed).
async fn wait_at_barrier(sh: &Shared, key: &str, parties: usize) {
    let give_up = std::time::Instant::now() + std::time::Duration::from_secs(60);
    loop {
        if sh.lock().barrier_arrivals.get(key).copied().unwrap_or(0) >= parties {
            return;
        }
        if std::time::Instant::now() > give_up {
            sh.lock().barriers_missed += 1;
            return;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
}
