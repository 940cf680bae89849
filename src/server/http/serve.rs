//! The HTTP server loop, with the limits `axum::serve` leaves out: a client must send its
//! request headers within [`ServeLimits::header_read_timeout`] (a slow client cannot hold a
//! connection by dribbling them), at most [`ServeLimits::max_connections`] connections are served
//! at once (more wait in the kernel's backlog), and a shutdown drains in-flight requests for at
//! most [`ServeLimits::shutdown_grace`].

use std::{future::Future, net::SocketAddr, sync::Arc, time::Duration};

use axum::{body::Body, extract::connect_info::IntoMakeServiceWithConnectInfo, Router};
use hyper::{body::Incoming, Request};
use hyper_util::{
    rt::{TokioExecutor, TokioIo, TokioTimer},
    server::{conn::auto, graceful::GracefulShutdown},
    service::TowerToHyperService,
};
use tokio::net::TcpListener;
use tower::{Service, ServiceExt};

#[derive(Debug, Clone, Copy)]
pub struct ServeLimits {
    pub header_read_timeout: Duration,
    pub max_connections: usize,
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read_timeout: Duration::from_secs(10),
            max_connections: 1024,
            shutdown_grace: Duration::from_secs(20),
        }
    }
}

/// Serves `router` on `listener` until `shutdown` resolves, then drains.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()> {
    let mut make_service: IntoMakeServiceWithConnectInfo<Router, SocketAddr> =
        router.into_make_service_with_connect_info::<SocketAddr>();
    let graceful = GracefulShutdown::new();
    let slots = Arc::new(tokio::sync::Semaphore::new(limits.max_connections));
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(limits.header_read_timeout);
    tokio::pin!(shutdown);
    loop {
        let slot = tokio::select! {
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
            () = &mut shutdown => break,
        };
        let (stream, remote) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors and the like: wait instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let tower_service = make_service
            .call(remote)
            .await
            .unwrap_or_else(|never| match never {})
            .map_request(|req: Request<Incoming>| req.map(Body::new));
        let connection =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(tower_service)).into_owned();
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(error = %error, "connection ended with an error");
            }
            drop(slot);
        });
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "requests still running after the shutdown grace; stopping anyway");
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    use super::*;

    /// Serves a router answering `ok` with `limits` until the returned sender is dropped.
    async fn server(limits: ServeLimits) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let router = Router::new().route("/", axum::routing::get(|| async { "ok" }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        tokio::spawn(serve(listener, router, limits, async {
            let _ = stopped.await;
        }));
        (addr, stop)
    }

    /// What the server sends on `stream` until it closes it, or `None` if it is still open
    /// after `wait`.
    async fn read_until_closed(stream: &mut tokio::net::TcpStream, wait: Duration) -> Option<String> {
        let mut received = Vec::new();
        match tokio::time::timeout(wait, stream.read_to_end(&mut received)).await {
            Ok(_) => Some(String::from_utf8_lossy(&received).into_owned()),
            Err(_) => None,
        }
    }

    #[tokio::test]
    async fn a_client_dribbling_its_headers_is_cut_off_at_the_header_read_timeout() {
        let limits = ServeLimits { header_read_timeout: Duration::from_millis(300), ..ServeLimits::default() };
        let (addr, _stop) = server(limits).await;
        let mut slow = tokio::net::TcpStream::connect(addr).await.unwrap();
        slow.write_all(b"GET / HTTP/1.1\r\nHost: tollgate\r\n").await.unwrap();
        let started = std::time::Instant::now();
        let answer = read_until_closed(&mut slow, Duration::from_secs(5)).await;
        assert!(answer.is_some(), "the connection stayed open with its headers unfinished");
        assert!(started.elapsed() < Duration::from_secs(3), "closed after {:?}", started.elapsed());
        // A client that sends its headers in time is served.
        let mut prompt = tokio::net::TcpStream::connect(addr).await.unwrap();
        prompt.write_all(b"GET / HTTP/1.1\r\nHost: tollgate\r\nConnection: close\r\n\r\n").await.unwrap();
        let answer = read_until_closed(&mut prompt, Duration::from_secs(5)).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200") && answer.ends_with("ok"), "{answer}");
    }

    #[tokio::test]
    async fn connections_above_the_cap_wait_until_one_is_free() {
        let limits = ServeLimits { max_connections: 1, ..ServeLimits::default() };
        let (addr, _stop) = server(limits).await;
        // The one slot, held by an idle keep-alive connection.
        let mut held = tokio::net::TcpStream::connect(addr).await.unwrap();
        held.write_all(b"GET / HTTP/1.1\r\nHost: tollgate\r\n\r\n").await.unwrap();
        let mut first = [0u8; 64];
        let _ = held.read(&mut first).await.unwrap();
        let mut waiting = tokio::net::TcpStream::connect(addr).await.unwrap();
        waiting.write_all(b"GET / HTTP/1.1\r\nHost: tollgate\r\nConnection: close\r\n\r\n").await.unwrap();
        assert!(read_until_closed(&mut waiting, Duration::from_millis(500)).await.is_none(), "served above the cap");
        drop(held);
        let answer = read_until_closed(&mut waiting, Duration::from_secs(5)).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "served once the slot was free: {answer}");
    }
}
