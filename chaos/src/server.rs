//! A private store server for one chaos run, so that restarting it touches
//! no one else: Redis with AOF `always`, or a fresh PostgreSQL cluster.

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub enum Server {
    Redis {
        dir: PathBuf,
        port: u16,
        child: Option<Child>,
    },
    Postgres {
        bin: PathBuf,
        data: PathBuf,
        port: u16,
    },
}

fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port())
}

fn wait_port(port: u16, limit: Duration) -> Result<()> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    bail!("nothing listens on port {port}")
}

/// PostgreSQL's server programs (initdb, pg_ctl): Debian keeps them out of PATH.
fn postgres_bin() -> Result<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("initdb").exists() {
            return Ok(dir);
        }
    }
    let mut found: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .context("PostgreSQL server binaries not found (install postgresql)")?
        .filter_map(|e| e.ok().map(|e| e.path().join("bin")))
        .filter(|p| p.join("initdb").exists())
        .collect();
    found.sort();
    found.pop().context("no initdb under /usr/lib/postgresql")
}

fn run(cmd: &mut Command) -> Result<()> {
    let out = cmd.output().with_context(|| format!("running {cmd:?}"))?;
    if !out.status.success() {
        bail!("{cmd:?} failed: {}", String::from_utf8_lossy(&out.stderr));
    }
    Ok(())
}

/// Runs `cmd`, as the `postgres` user when root (PostgreSQL refuses root).
fn as_postgres(bin: &Path, args: &[&str]) -> Command {
    let is_root = unsafe { libc::geteuid() } == 0;
    if is_root {
        let mut c = Command::new("runuser");
        c.arg("-u").arg("postgres").arg("--").arg(bin).args(args);
        c
    } else {
        let mut c = Command::new(bin);
        c.args(args);
        c
    }
}

impl Server {
    pub fn start_redis(dir: &Path) -> Result<Server> {
        let mut s = Server::Redis {
            dir: dir.join("redis"),
            port: free_port()?,
            child: None,
        };
        std::fs::create_dir_all(dir.join("redis"))?;
        s.up()?;
        Ok(s)
    }

    pub fn start_postgres(dir: &Path) -> Result<Server> {
        let bin = postgres_bin()?;
        let data = dir.join("pg");
        std::fs::create_dir_all(&data)?;
        if unsafe { libc::geteuid() } == 0 {
            run(Command::new("chown").arg("-R").arg("postgres").arg(dir))?;
        }
        let initdb = bin.join("initdb");
        let data_s = data.display().to_string();
        let args = [
            "-D",
            &data_s,
            "-U",
            "postgres",
            "--auth=trust",
            "-E",
            "UTF8",
        ];
        run(as_postgres(&initdb, &args).stdout(Stdio::null()))?;
        let mut s = Server::Postgres {
            bin,
            data,
            port: free_port()?,
        };
        s.up()?;
        Ok(s)
    }

    pub fn url(&self) -> String {
        match self {
            Server::Redis { port, .. } => format!("redis://127.0.0.1:{port}/0?prefix=chaos"),
            Server::Postgres { port, .. } => {
                format!("postgres://postgres@127.0.0.1:{port}/postgres")
            }
        }
    }

    fn up(&mut self) -> Result<()> {
        match self {
            Server::Redis { dir, port, child } => {
                let c = Command::new("redis-server")
                    .args(["--bind", "127.0.0.1", "--port", &port.to_string()])
                    .args([
                        "--appendonly",
                        "yes",
                        "--appendfsync",
                        "always",
                        "--save",
                        "",
                    ])
                    .arg("--dir")
                    .arg(&*dir)
                    .stdout(Stdio::null())
                    .spawn()
                    .context("starting redis-server")?;
                *child = Some(c);
                wait_port(*port, Duration::from_secs(20))
            }
            Server::Postgres { bin, data, port } => {
                let opts = format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1",
                    data.display()
                );
                let log = data.join("log").display().to_string();
                let data_s = data.display().to_string();
                run(as_postgres(
                    &bin.join("pg_ctl"),
                    &["-D", &data_s, "-o", &opts, "-l", &log, "-w", "start"],
                )
                .stdout(Stdio::null()))?;
                wait_port(*port, Duration::from_secs(30))
            }
        }
    }

    fn down(&mut self) -> Result<()> {
        match self {
            Server::Redis { child, .. } => {
                if let Some(mut c) = child.take() {
                    // SIGTERM: Redis finishes the AOF and exits.
                    unsafe { libc::kill(c.id() as i32, libc::SIGTERM) };
                    c.wait()?;
                }
                Ok(())
            }
            Server::Postgres { bin, data, .. } => {
                let data_s = data.display().to_string();
                run(as_postgres(
                    &bin.join("pg_ctl"),
                    &["-D", &data_s, "-m", "fast", "-w", "stop"],
                )
                .stdout(Stdio::null()))
            }
        }
    }

    /// Stops the server and starts it again on the same data.
    pub fn restart(&mut self) -> Result<()> {
        self.down()?;
        self.up()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.down();
    }
}
