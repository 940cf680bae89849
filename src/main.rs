#[cfg(feature = "ssr")]
#[tokio::main]
async fn main() -> std::process::ExitCode {
    tollgate::server::cli::run().await
}

#[cfg(not(feature = "ssr"))]
pub fn main() {
    // The browser entry point is `tollgate::hydrate`; this binary needs the `ssr` feature.
}
