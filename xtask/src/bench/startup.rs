//! Time to the first API request: from spawning `artifetch` to the first byte it sends to the
//! API host (a bare TCP listener standing in for it), so process start, settings, TLS roots and
//! the HTTP client are all inside the figure.

use super::server::Paths;
use anyhow::{Context, Result, bail};
use std::io::Read;
use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long one attempt may wait for the request.
const WAIT: Duration = Duration::from_secs(10);

pub(super) fn first_request(bin: &Path, p: &Paths, runs: usize) -> Result<Vec<Duration>> {
    (0..runs).map(|_| once(bin, p)).collect()
}

fn once(bin: &Path, p: &Paths) -> Result<Duration> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    listener.set_nonblocking(true)?;
    let url = format!("http://{}", listener.local_addr()?);
    let mut cmd = Command::new(bin);
    cmd.arg("--path")
        .arg(&p.out)
        .env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", &p.home)
        .env("GITHUB_API_URL", &url)
        .env("GITHUB_SERVER_URL", &url)
        .env("GITHUB_REPOSITORY", "octo/startup")
        .env("GITHUB_RUN_ID", "1")
        .env("GITHUB_TOKEN", "ghs_startupstartupstartupstartup0000")
        .env("RUNNER_TEMP", &p.temp)
        .current_dir(&p.home)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().context("cannot start artifetch")?;
    let result = (|| {
        let mut conn = loop {
            match listener.accept() {
                Ok((conn, _)) => break conn,
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(e) => return Err(e.into()),
            }
            if child.try_wait()?.is_some() {
                bail!("artifetch exited before sending a request");
            }
            if started.elapsed() > WAIT {
                bail!("no request within {WAIT:?}");
            }
            std::thread::sleep(Duration::from_micros(50));
        };
        conn.set_nonblocking(false)?;
        conn.set_read_timeout(Some(WAIT))?;
        let mut byte = [0u8; 1];
        conn.read_exact(&mut byte)
            .context("no request bytes on the connection")?;
        Ok(started.elapsed())
    })();
    let _ = child.kill();
    let _ = child.wait();
    result
}
