//! Fresh databases: one per measured run, so no run finds another's rows. SQLite files in a temp
//! folder; on Postgres, databases created on `TOLLGATE_BENCH_POSTGRES_URL`'s server and dropped
//! at the end.

use std::path::PathBuf;

use anyhow::Context;
use sqlx::{Connection, Executor};

pub struct Databases {
    pub dir: PathBuf,
    postgres: Option<String>,
    made: Vec<String>,
    n: usize,
}

impl Databases {
    pub fn new(postgres: Option<String>) -> anyhow::Result<Self> {
        let dir = std::env::temp_dir().join(format!("tollgate-bench-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir_all(&dir)?;
        Ok(Self { dir, postgres, made: Vec::new(), n: 0 })
    }

    pub fn has_postgres(&self) -> bool {
        self.postgres.is_some()
    }

    /// A new SQLite file's path.
    pub fn sqlite_file(&mut self, name: &str) -> PathBuf {
        self.n += 1;
        self.dir.join(format!("{name}-{}.db", self.n))
    }

    pub fn sqlite_url(&mut self) -> String {
        format!("sqlite://{}", self.sqlite_file("tollgate").display())
    }

    /// A URL of a new, empty database on the Postgres server.
    pub async fn postgres_url(&mut self) -> anyhow::Result<String> {
        let server = self.postgres.as_deref().context("TOLLGATE_BENCH_POSTGRES_URL not set")?;
        let name = format!("tollgate_bench_{}", uuid::Uuid::new_v4().simple());
        let mut conn =
            sqlx::PgConnection::connect(server).await.context("connecting to TOLLGATE_BENCH_POSTGRES_URL")?;
        conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str()).await?;
        let _ = conn.close().await;
        self.made.push(name.clone());
        let mut url = url::Url::parse(server)?;
        url.set_path(&name);
        Ok(url.to_string())
    }

    pub async fn url(&mut self, backend: &str) -> anyhow::Result<String> {
        match backend {
            "sqlite" => Ok(self.sqlite_url()),
            _ => self.postgres_url().await,
        }
    }

    /// Drops what the runs made.
    pub async fn clean_up(self) {
        if let Some(server) = &self.postgres {
            if let Ok(mut conn) = sqlx::PgConnection::connect(server).await {
                for name in &self.made {
                    let _ = conn.execute(format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#).as_str()).await;
                }
                let _ = conn.close().await;
            }
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
