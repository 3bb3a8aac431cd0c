//! The chime processes under test.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub struct Instance {
    child: Option<Child>,
    pub port: u16,
    chime: PathBuf,
    db: String,
    log: PathBuf,
    pub stopped: bool,
}

impl Instance {
    pub fn start(chime: &Path, db: &str, log_dir: &Path, n: usize) -> Result<Instance> {
        let port = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut i = Instance {
            child: None,
            port,
            chime: chime.to_path_buf(),
            db: db.to_string(),
            log: log_dir.join(format!("chime-{n}.log")),
            stopped: false,
        };
        i.spawn()?;
        Ok(i)
    }

    fn spawn(&mut self) -> Result<()> {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.log)?;
        let child = Command::new(&self.chime)
            .args(["serve", "--db", &self.db, "--listen"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["--shutdown-grace", "5"])
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", self.chime.display()))?;
        self.child = Some(child);
        self.stopped = false;
        Ok(())
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub async fn wait_ready(&self) -> Result<()> {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(60);
        while Instant::now() < deadline {
            if let Ok(r) = client.get(self.url("/readyz")).send().await {
                if r.status().is_success() {
                    return Ok(());
                }
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        bail!("instance on port {} never became ready", self.port)
    }

    fn signal(&self, sig: i32) {
        if let Some(c) = &self.child {
            unsafe { libc::kill(c.id() as i32, sig) };
        }
    }

    pub fn kill_9(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    pub fn restart(&mut self) -> Result<()> {
        self.kill_9();
        self.spawn()
    }

    pub fn pause(&mut self) {
        self.signal(libc::SIGSTOP);
        self.stopped = true;
    }

    pub fn resume(&mut self) {
        self.signal(libc::SIGCONT);
        self.stopped = false;
    }

    /// SIGTERM, then waits for the drain.
    pub fn stop(&mut self) {
        if self.stopped {
            self.resume();
        }
        self.signal(libc::SIGTERM);
        if let Some(mut c) = self.child.take() {
            let _ = c.wait();
        }
    }
}

impl Drop for Instance {
    fn drop(&mut self) {
        self.resume();
        self.kill_9();
    }
}
