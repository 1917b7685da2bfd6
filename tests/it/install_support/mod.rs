//! Shared by tests/it/install_script.rs and tests/it/release_e2e.rs: a tiny HTTP/1.1 release host
//! on loopback (fixed routes, and a directory served as a GitHub release host would), fake tools,
//! tarballs and hashes. Unix only, like the tests that use it.
#![allow(dead_code)] // each test crate uses part of it

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::thread;

use sha2::{Digest, Sha256};

/// Responses per path, served in order; the last one repeats.
pub type Routes = BTreeMap<String, Vec<(u16, Vec<u8>)>>;

/// Serves fixed routes first, then files under `root` (when set) for
/// `/<owner>/<repo>/releases/download/<tag>/<asset>`, from
/// `<root>/<owner>/<repo>/releases/<tag>/<asset>` unless that release holds a `.draft` marker
/// (GitHub serves no assets of a draft). Anything else: 404. Logs every request path.
pub struct Server {
    pub port: u16,
    routes: Arc<Mutex<Routes>>,
    log: Arc<Mutex<Vec<String>>>,
    root: Arc<Mutex<Option<PathBuf>>>,
}

impl Server {
    pub fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        let routes: Arc<Mutex<Routes>> = Arc::default();
        let log: Arc<Mutex<Vec<String>>> = Arc::default();
        let root: Arc<Mutex<Option<PathBuf>>> = Arc::default();
        let (r, l, d) = (routes.clone(), log.clone(), root.clone());
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let (r, l, d) = (r.clone(), l.clone(), d.clone());
                thread::spawn(move || serve(stream, &r, &l, &d));
            }
        });
        Server {
            port,
            routes,
            log,
            root,
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    pub fn route(&self, path: &str, responses: Vec<(u16, Vec<u8>)>) {
        self.routes
            .lock()
            .unwrap()
            .insert(path.to_string(), responses);
    }

    pub fn serve_releases_from(&self, dir: &Path) {
        *self.root.lock().unwrap() = Some(dir.to_path_buf());
    }

    pub fn requests(&self) -> Vec<String> {
        self.log.lock().unwrap().clone()
    }

    /// Forgets the requests so far (a release's own smoke download, before a test's runs).
    #[allow(dead_code)] // used by release_e2e.rs only
    pub fn forget_requests(&self) {
        self.log.lock().unwrap().clear();
    }
}

fn from_release_dir(root: &Path, path: &str) -> Option<Vec<u8>> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let [owner, repo, "releases", "download", tag, asset] = parts[..] else {
        return None;
    };
    if [owner, repo, tag, asset]
        .iter()
        .any(|p| p.is_empty() || p.starts_with('.'))
    {
        return None;
    }
    let release = root.join(owner).join(repo).join("releases").join(tag);
    if release.join(".draft").exists() {
        return None;
    }
    std::fs::read(release.join(asset)).ok()
}

fn serve(
    mut stream: TcpStream,
    routes: &Mutex<Routes>,
    log: &Mutex<Vec<String>>,
    root: &Mutex<Option<PathBuf>>,
) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    loop {
        let mut header = String::new();
        match reader.read_line(&mut header) {
            Ok(0) | Err(_) => break,
            Ok(_) if header == "\r\n" || header == "\n" => break,
            Ok(_) => {}
        }
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_string();
    log.lock().unwrap().push(path.clone());
    let fixed = {
        let mut routes = routes.lock().unwrap();
        match routes.get_mut(&path) {
            Some(queue) if queue.len() > 1 => Some(queue.remove(0)),
            Some(queue) if !queue.is_empty() => Some(queue[0].clone()),
            _ => None,
        }
    };
    let dir = root.lock().unwrap().clone();
    let (status, body) = fixed
        .or_else(|| {
            dir.and_then(|d| from_release_dir(&d, &path))
                .map(|b| (200, b))
        })
        .unwrap_or((404, b"Not Found".to_vec()));
    let head = format!(
        "HTTP/1.1 {status} X\r\nContent-Length: {}\r\nContent-Type: application/octet-stream\r\nConnection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(&body);
    let _ = stream.flush();
    let _ = stream.shutdown(std::net::Shutdown::Write);
    let _ = reader.read_to_end(&mut Vec::new());
}

pub fn write_exec(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

pub fn sha256_hex(bytes: &[u8]) -> String {
    artifetch::util::hex(&Sha256::digest(bytes))
}

/// A `.tar.gz` of the files of `dir` named in `names`.
pub fn tar_gz(dir: &Path, names: &[&str], out: &Path) -> Vec<u8> {
    let status = Command::new("tar")
        .arg("-czf")
        .arg(out)
        .arg("-C")
        .arg(dir)
        .args(names)
        .status()
        .unwrap();
    assert!(status.success());
    std::fs::read(out).unwrap()
}

/// The programs the installers and the action's steps use, and the fakes the tests add.
const TOOLS: &[&str] = &[
    "bash",
    "sh",
    "env",
    "awk",
    "sed",
    "tr",
    "tail",
    "head",
    "cut",
    "cat",
    "mkdir",
    "mktemp",
    "rm",
    "cp",
    "mv",
    "chmod",
    "ln",
    "sha256sum",
    "dirname",
    "basename",
    "sleep",
    "touch",
    "grep",
    "curl",
    "wget",
    "tar",
    "gzip",
    "ls",
    "printf",
    "echo",
    "test",
    "date",
    "git",
    "sort",
    "xargs",
    "find",
];

/// A directory holding a symlink to each of TOOLS found in /usr/bin or /bin except `without`:
/// a PATH on which exactly those programs are missing.
pub fn path_without(dir: &Path, without: &[&str]) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    for tool in TOOLS.iter().filter(|t| !without.contains(t)) {
        for sys in ["/usr/bin", "/bin"] {
            let real = Path::new(sys).join(tool);
            if real.exists() {
                std::os::unix::fs::symlink(&real, dir.join(tool)).unwrap();
                break;
            }
        }
    }
    dir.to_path_buf()
}

/// A fake `cargo`, first on PATH: logs its arguments to `log` and "installs" a script that says
/// it was built from source into `--root`. Stands in for a real source build.
pub fn fake_cargo(bin_dir: &Path, log: &Path) {
    write_exec(
        &bin_dir.join("cargo"),
        &format!(
            r#"#!/bin/sh
echo "$@" >> '{log}'
root=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--root" ]; then root="$2"; fi
  shift
done
mkdir -p "$root/bin"
printf '#!/bin/sh\necho "artifetch 0.0.0 (built from source)"\n' > "$root/bin/artifetch"
chmod +x "$root/bin/artifetch"
"#,
            log = log.display()
        ),
    );
}
