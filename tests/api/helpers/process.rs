//! The `tollgate` binary run as a process, as an operator runs it.

use std::{
    path::Path,
    process::{Command, Output, Stdio},
    time::{Duration, Instant},
};

/// Runs the binary in `dir` with only `vars` in its environment; kills it after 60 s.
pub fn tollgate(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> Output {
    let mut child = spawn_tollgate(dir, args, vars);
    let started = Instant::now();
    while child.try_wait().expect("waiting").is_none() {
        if started.elapsed() > Duration::from_secs(60) {
            let _ = child.kill();
            panic!("tollgate {args:?} did not exit");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    child.wait_with_output().expect("output")
}

/// Starts the binary in `dir` with only `vars` in its environment (output piped), for a test
/// that watches it run or kills it.
pub fn spawn_tollgate(dir: &Path, args: &[&str], vars: &[(&str, &str)]) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_tollgate"))
        .args(args)
        .current_dir(dir)
        .env_clear()
        .env("RUST_LOG", "error")
        .envs(vars.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the tollgate binary runs")
}

/// `tollgate serve` as its own process, which a test can SIGKILL and start again on the same
/// database.
pub struct ServeProcess {
    child: Option<std::process::Child>,
    vars: Vec<(String, String)>,
    url: String,
}

impl ServeProcess {
    pub async fn start(vars: Vec<(String, String)>, url: String) -> Self {
        let mut app = Self { child: None, vars, url };
        app.restart().await;
        app
    }

    pub async fn restart(&mut self) {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(std::env::temp_dir().join("tollgate-sigkill-test.log"))
            .unwrap();
        let child = std::process::Command::new(env!("CARGO_BIN_EXE_tollgate"))
            .arg("serve")
            .env_clear()
            .envs(self.vars.iter().map(|(k, v)| (k.as_str(), v.as_str())))
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .spawn()
            .expect("the tollgate binary starts");
        self.child = Some(child);
        let http = reqwest::Client::new();
        for _ in 0..300 {
            if http.get(format!("{}/healthz", self.url)).send().await.is_ok_and(|r| r.status().is_success()) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the app did not come back");
    }

    /// The running process's id (instances name themselves after it).
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().map(std::process::Child::id)
    }

    /// SIGKILL: no graceful shutdown, whatever was in flight is cut.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().unwrap();
            child.wait().unwrap();
        }
    }
}

impl Drop for ServeProcess {
    fn drop(&mut self) {
        self.kill();
    }
}
