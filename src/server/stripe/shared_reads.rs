//! One Stripe read serves every reader of the same object within a unit of work (a webhook
//! worker batch): a renewal wave's `invoice.created`, `invoice.finalized` and `invoice.paid`
//! cost one `GET /v1/invoices/in_…`, not three. Sound because every event of a batch was stored
//! before the batch was claimed, and every read is made after that, so the answer is at least
//! as new as each event it serves.
//!
//! A write made by this process through any clone of the client (a handler, or a customer's
//! upgrade on the account page while the batch runs) forgets every answer: reads after it
//! fetch again, so a batch never stores a state older than what the page just wrote.

use std::any::Any;
use std::collections::HashMap;
use std::future::Future;
use std::sync::{Arc, Mutex};

type Answer = Arc<dyn Any + Send + Sync>;

/// Reads in flight or answered, by key, since the client's write count was `writes`.
/// Forgetting drops the map, not the cells: a read in flight from before a write completes for
/// its own waiters only.
#[derive(Default)]
pub struct SharedReads {
    answers: Mutex<Answers>,
}

#[derive(Default)]
struct Answers {
    writes: u64,
    by_key: HashMap<String, Arc<tokio::sync::OnceCell<Answer>>>,
}

impl SharedReads {
    /// The answer to the read named `key` (method-less: path and query), fetched by `read` only
    /// when no reader has fetched it since the client's write count became `writes`. Failures are
    /// not kept: the next reader tries again. `None` when an earlier answer under this key has
    /// another type.
    pub async fn get_or_read<T, E, F>(&self, key: String, writes: u64, read: F) -> Option<Result<T, E>>
    where
        T: Clone + Send + Sync + 'static,
        F: Future<Output = Result<T, E>>,
    {
        let cell = {
            let mut answers = self.answers.lock().expect("shared reads lock");
            if answers.writes != writes {
                answers.writes = writes;
                answers.by_key.clear();
            }
            answers.by_key.entry(key).or_default().clone()
        };
        let answer = cell.get_or_try_init(|| async { read.await.map(|value| Arc::new(value) as Answer) }).await;
        match answer {
            Ok(answer) => answer.downcast_ref::<T>().cloned().map(Ok),
            Err(err) => Some(Err(err)),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    async fn read(reads: &SharedReads, fetches: &AtomicUsize, key: &str, writes: u64) -> Result<String, String> {
        reads
            .get_or_read(key.to_string(), writes, async {
                let n = fetches.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(format!("{key}#{n}"))
            })
            .await
            .expect("one type per key")
    }

    #[tokio::test]
    async fn concurrent_readers_of_one_object_share_one_fetch() {
        let (reads, fetches) = (SharedReads::default(), AtomicUsize::new(0));
        let answers = futures::future::join_all((0..8).map(|_| read(&reads, &fetches, "/v1/invoices/in_1", 0))).await;
        assert_eq!(fetches.load(Ordering::SeqCst), 1);
        assert!(answers.iter().all(|a| a.as_deref() == Ok("/v1/invoices/in_1#0")), "{answers:?}");
        read(&reads, &fetches, "/v1/invoices/in_2", 0).await.unwrap();
        assert_eq!(fetches.load(Ordering::SeqCst), 2, "another object is fetched");
    }

    #[tokio::test]
    async fn a_write_makes_the_next_read_fetch_again() {
        let (reads, fetches) = (SharedReads::default(), AtomicUsize::new(0));
        let sub = "/v1/subscriptions/sub_1";
        assert_eq!(read(&reads, &fetches, sub, 0).await.unwrap(), "/v1/subscriptions/sub_1#0");
        assert_eq!(read(&reads, &fetches, sub, 0).await.unwrap(), "/v1/subscriptions/sub_1#0");
        assert_eq!(read(&reads, &fetches, sub, 1).await.unwrap(), "/v1/subscriptions/sub_1#1", "a write came");
        assert_eq!(read(&reads, &fetches, sub, 1).await.unwrap(), "/v1/subscriptions/sub_1#1");
    }

    #[tokio::test]
    async fn a_failed_read_is_not_kept() {
        let reads = SharedReads::default();
        let failed: Option<Result<String, &str>> = reads.get_or_read("k".into(), 0, async { Err("timeout") }).await;
        assert_eq!(failed, Some(Err("timeout")));
        let ok: Option<Result<String, &str>> = reads.get_or_read("k".into(), 0, async { Ok("fresh".into()) }).await;
        assert_eq!(ok, Some(Ok("fresh".to_string())));
    }

    #[tokio::test]
    async fn an_answer_of_another_type_is_not_served() {
        let reads = SharedReads::default();
        let _: Option<Result<u32, ()>> = reads.get_or_read("k".into(), 0, async { Ok(1) }).await;
        let other: Option<Result<String, ()>> = reads.get_or_read("k".into(), 0, async { Ok("x".into()) }).await;
        assert_eq!(other, None);
    }
}
