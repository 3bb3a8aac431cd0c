//! Command target: runs `argv` with `env` and `cwd`, off unless enabled.
//! Exit 0 succeeds; any other exit retries. Output is captured, bounded.
//! On timeout or cancel the whole process group is killed, so a shell's
//! children do not outlive the job.

use super::{bounded, JobContext, JobError, JobResult};
use chime_core::model::{CommandTarget, Job};
use std::process::Stdio;
use tokio::io::{AsyncRead, AsyncReadExt};
use tokio::process::Command;

/// Bytes of stdout and of stderr kept with the attempt.
const MAX_OUTPUT: usize = 64 * 1024;

#[derive(Default)]
pub struct CommandExecutor;

impl CommandExecutor {
    pub async fn run(&self, target: &CommandTarget, job: &Job, ctx: &JobContext) -> JobResult {
        let Some((program, args)) = target.argv.split_first() else {
            return Err(JobError::Fail("argv is empty".into()));
        };
        let mut cmd = Command::new(program);
        cmd.args(args)
            .envs(&target.env)
            .env("CHIME_JOB_ID", &job.id)
            .env("CHIME_ATTEMPT", ctx.attempt.to_string())
            .env("CHIME_IDEMPOTENCY_KEY", &ctx.idempotency_key)
            .env("CHIME_PAYLOAD", job.job.payload.to_string())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        #[cfg(unix)]
        cmd.process_group(0);
        if let Some(dir) = &target.cwd {
            cmd.current_dir(dir);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| JobError::Fail(format!("cannot start {program:?}: {e}")))?;
        let group = GroupKiller(child.id());
        let stdout = child.stdout.take();
        let stderr = child.stderr.take();
        let (status, out, err) = tokio::join!(child.wait(), capture(stdout), capture(stderr));
        group.disarm();
        let status =
            status.map_err(|e| JobError::retry(format!("waiting for {program:?}: {e}")))?;
        let mut output = out;
        if !err.is_empty() {
            output.push_str("\n--- stderr ---\n");
            output.push_str(&err);
        }
        if status.success() {
            Ok(Some(output))
        } else {
            let code = status.code().map_or_else(
                || "killed by a signal".to_string(),
                |c| format!("exit status {c}"),
            );
            Err(JobError::retry(format!(
                "{program:?} failed: {code}: {}",
                bounded(err.trim(), 512)
            )))
        }
    }
}

/// Reads a pipe to the end, keeping the first `MAX_OUTPUT` bytes.
async fn capture(pipe: Option<impl AsyncRead + Unpin>) -> String {
    let Some(mut pipe) = pipe else {
        return String::new();
    };
    let mut kept = Vec::new();
    let mut total = 0usize;
    let mut buf = [0u8; 8192];
    loop {
        match pipe.read(&mut buf).await {
            Ok(0) | Err(_) => break,
            Ok(n) => {
                total += n;
                let room = MAX_OUTPUT.saturating_sub(kept.len());
                kept.extend_from_slice(&buf[..n.min(room)]);
            }
        }
    }
    let mut text = String::from_utf8_lossy(&kept).into_owned();
    if total > kept.len() {
        text.push_str(&format!("… [{} bytes cut]", total - kept.len()));
    }
    text
}

/// Kills the child's process group if the run is dropped (timeout, cancel).
struct GroupKiller(Option<u32>);

impl GroupKiller {
    fn disarm(mut self) {
        self.0 = None;
    }
}

impl Drop for GroupKiller {
    fn drop(&mut self) {
        #[cfg(unix)]
        if let Some(pid) = self.0 {
            // SAFETY: kill(2) with a negative pid signals the process group we
            // created for the child; it has no memory-safety preconditions.
            unsafe {
                libc::kill(-(pid as i32), libc::SIGKILL);
            }
        }
    }
}
