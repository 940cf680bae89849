//! The one load generator every target gets: `concurrency` keep-alive HTTP/1.1 connections
//! (spread round-robin over the target's addresses) sending prepared requests until none are
//! left. Every answer must be 2xx, or the run fails: a target that refuses fast is not fast.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use anyhow::Context;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Requests made up front (method line, headers and body as bytes): the client's work of
/// building and signing them is not in the server's figure.
pub type Requests = Arc<Vec<Vec<u8>>>;

/// Sends every request once, from `concurrency` connections; returns requests per second.
pub async fn run(addrs: &[SocketAddr], requests: &Requests, concurrency: usize) -> anyhow::Result<f64> {
    anyhow::ensure!(!addrs.is_empty(), "no address to send to");
    let next = Arc::new(AtomicUsize::new(0));
    let started = Instant::now();
    let mut tasks = Vec::with_capacity(concurrency);
    for connection in 0..concurrency {
        let (addr, requests, next) = (addrs[connection % addrs.len()], requests.clone(), next.clone());
        tasks.push(tokio::spawn(async move { send_all(addr, &requests, &next).await }));
    }
    for task in tasks {
        task.await??;
    }
    Ok(requests.len() as f64 / started.elapsed().as_secs_f64())
}

/// One request and its answer on a new connection: (status, head, body). For set-up steps
/// (log-in, health checks, the peer's self-check), not for measuring.
pub async fn once(addr: SocketAddr, request: &[u8]) -> anyhow::Result<(u16, String, Vec<u8>)> {
    let mut stream = TcpStream::connect(addr).await?;
    stream.write_all(request).await?;
    let mut buf = Vec::new();
    let answer = read_response(&mut stream, &mut buf).await?;
    Ok((answer.status, answer.head, buf[answer.body].to_vec()))
}

/// A request's bytes: `Host` is fixed (every target ignores it), the body sent with its length.
pub fn request(method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> Vec<u8> {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    if !body.is_empty() || method == "POST" {
        head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    head.push_str("\r\n");
    let mut bytes = head.into_bytes();
    bytes.extend_from_slice(body);
    bytes
}

async fn send_all(addr: SocketAddr, requests: &[Vec<u8>], next: &AtomicUsize) -> anyhow::Result<()> {
    let mut stream = TcpStream::connect(addr).await.with_context(|| format!("connecting to {addr}"))?;
    stream.set_nodelay(true)?;
    let mut buf = Vec::with_capacity(16 * 1024);
    loop {
        let i = next.fetch_add(1, Ordering::Relaxed);
        let Some(request) = requests.get(i) else { return Ok(()) };
        stream.write_all(request).await?;
        let answer = read_response(&mut stream, &mut buf).await.with_context(|| format!("request {i} to {addr}"))?;
        anyhow::ensure!((200..300).contains(&answer.status), "request {i} to {addr} answered {}", answer.status);
    }
}

struct Answer {
    status: u16,
    head: String,
    /// Where the (de-chunked) body sits in the buffer.
    body: std::ops::Range<usize>,
}

/// Reads one response (Content-Length or chunked body) into `buf`, which it clears first.
async fn read_response(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<Answer> {
    buf.clear();
    let head_len = loop {
        if let Some(end) = find(buf, b"\r\n\r\n") {
            break end + 4;
        }
        read_more(stream, buf).await?;
    };
    let head = std::str::from_utf8(&buf[..head_len - 4])?.to_owned();
    let status: u16 = head.get(9..12).context("status line")?.parse()?;
    let header = |name: &str| {
        head.lines().skip(1).find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim().to_ascii_lowercase())
        })
    };
    if header("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        let body = read_chunked(stream, buf, head_len).await?;
        return Ok(Answer { status, head, body });
    }
    let len: usize = header("content-length").map(|v| v.parse()).transpose()?.unwrap_or(0);
    while buf.len() < head_len + len {
        read_more(stream, buf).await?;
    }
    Ok(Answer { status, head, body: head_len..head_len + len })
}

/// Reads a chunked body that starts at `start`, and moves its data together right after it.
async fn read_chunked(
    stream: &mut TcpStream,
    buf: &mut Vec<u8>,
    start: usize,
) -> anyhow::Result<std::ops::Range<usize>> {
    let (mut at, mut data_end) = (start, start);
    loop {
        let line_end = loop {
            if let Some(end) = find(&buf[at..], b"\r\n") {
                break at + end;
            }
            read_more(stream, buf).await?;
        };
        let size_text = std::str::from_utf8(&buf[at..line_end])?;
        let size = usize::from_str_radix(size_text.split(';').next().unwrap_or("").trim(), 16)
            .with_context(|| format!("chunk size {size_text:?}"))?;
        let chunk_start = line_end + 2;
        // The chunk and its CRLF (the last, empty chunk: the CRLF ending the trailers).
        while buf.len() < chunk_start + size + 2 {
            read_more(stream, buf).await?;
        }
        if size == 0 {
            return Ok(start..data_end);
        }
        buf.copy_within(chunk_start..chunk_start + size, data_end);
        data_end += size;
        at = chunk_start + size + 2;
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> anyhow::Result<()> {
    let mut chunk = [0u8; 8192];
    let n = stream.read(&mut chunk).await?;
    anyhow::ensure!(n > 0, "connection closed before the response ended");
    buf.extend_from_slice(&chunk[..n]);
    Ok(())
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// A server that answers one connection's requests with `answers`, in order.
    async fn answering(answers: Vec<&'static [u8]>) -> SocketAddr {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.unwrap();
            for answer in answers {
                let mut buf = [0u8; 1024];
                let _ = socket.read(&mut buf).await.unwrap();
                socket.write_all(answer).await.unwrap();
            }
        });
        addr
    }

    #[tokio::test]
    async fn a_chunked_body_is_read_whole_and_joined() {
        let addr = answering(vec![
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n7;x=y\r\n, world\r\n0\r\n\r\n",
        ])
        .await;
        let (status, _, body) = once(addr, &request("GET", "/", &[], b"")).await.unwrap();
        assert_eq!((status, body.as_slice()), (200, b"hello, world".as_slice()));
    }

    #[tokio::test]
    async fn a_run_fails_when_any_answer_is_not_2xx() {
        let addr = answering(vec![
            b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok",
            b"HTTP/1.1 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad",
        ])
        .await;
        let requests: Requests = Arc::new(vec![request("GET", "/", &[], b""); 2]);
        let error = run(&[addr], &requests, 1).await.unwrap_err();
        assert!(error.to_string().contains("answered 400"), "{error}");
    }
}
