//! Where the targets run. In-process servers get a runtime of their own, with as many worker
//! threads as a `tollgate serve` process has, so no target shares the load generator's threads;
//! the peer and the Postgres instances are child processes.

use std::future::Future;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use anyhow::Context;
use axum::{http::StatusCode, routing::get, routing::post, Router};
use tollgate::server::config::Config;
use tollgate::server::startup::Application;

use crate::load;

/// A server on its own runtime; dropping it stops the runtime and every task the server spawned
/// (an app's worker and inbox writer too, so nothing of one run goes on into the next).
pub struct InProcess {
    runtime: Option<tokio::runtime::Runtime>,
    pub addr: SocketAddr,
}

impl InProcess {
    /// Runs `start` on a new runtime; it binds, reports its address, then serves.
    async fn start<F, S>(start: F) -> anyhow::Result<Self>
    where
        F: FnOnce(tokio::sync::oneshot::Sender<SocketAddr>) -> S + Send + 'static,
        S: Future<Output = anyhow::Result<()>> + Send + 'static,
    {
        let runtime =
            tokio::runtime::Builder::new_multi_thread().thread_name("in-process-server").enable_all().build()?;
        let (bound, addr) = tokio::sync::oneshot::channel();
        let serving = runtime.spawn(start(bound));
        match addr.await {
            Ok(addr) => Ok(Self { runtime: Some(runtime), addr }),
            Err(_) => {
                let error = match serving.await {
                    Ok(Err(error)) => error,
                    Ok(Ok(())) => anyhow::anyhow!("it stopped before it bound a port"),
                    Err(join) => join.into(),
                };
                runtime.shutdown_background();
                Err(error.context("starting an in-process server"))
            }
        }
    }

    /// tollgate itself: `Application::build` on port 0, as its own tests start it.
    pub async fn app(config: Config) -> anyhow::Result<Self> {
        Self::start(|bound| async move {
            let app = Application::build(config).await?;
            let _ = bound.send(app.address());
            app.run_until_stopped().await
        })
        .await
    }

    /// The floor: an Axum handler answering 200 to the same requests, doing nothing else.
    pub async fn bare() -> anyhow::Result<Self> {
        Self::start(|bound| async move {
            let ok = || async { (StatusCode::OK, "ok") };
            let router =
                Router::new().route("/webhooks/stripe", post(ok)).route("/pricing", get(ok)).route("/account", get(ok));
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
            let _ = bound.send(listener.local_addr()?);
            Ok(axum::serve(listener, router).await?)
        })
        .await
    }
}

impl Drop for InProcess {
    fn drop(&mut self) {
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

/// A child process serving HTTP on `addr`; killed when dropped.
pub struct Child {
    process: std::process::Child,
    pub addr: SocketAddr,
    name: String,
}

impl Child {
    /// Starts `command` (which must listen on `addr`) and waits until it answers `GET health`
    /// (any status: it is up).
    pub async fn start(mut command: std::process::Command, addr: SocketAddr, name: &str) -> anyhow::Result<Self> {
        let process = command.spawn().with_context(|| format!("starting {name}"))?;
        let mut child = Self { process, addr, name: name.to_owned() };
        let started = Instant::now();
        loop {
            if let Some(status) = child.process.try_wait()? {
                anyhow::bail!("{name} exited at start ({status})");
            }
            if load::once(addr, &load::request("GET", "/healthz", &[], b"")).await.is_ok() {
                return Ok(child);
            }
            anyhow::ensure!(started.elapsed() < Duration::from_secs(60), "{name} did not answer on {addr} in 60 s");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for Child {
    fn drop(&mut self) {
        if self.process.kill().is_err() {
            eprintln!("could not stop {}", self.name);
        }
        let _ = self.process.wait();
    }
}

/// A port on 127.0.0.1 that is free now (a child process binds it next).
pub fn free_addr() -> anyhow::Result<SocketAddr> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?)
}
