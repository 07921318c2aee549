//! A private PostgreSQL cluster, for `trustsafe dev` when no `DATABASE_URL` is given and for the tests
//! on a machine without a server: initialised once from the local server binaries, and run as a
//! child of this process that cannot outlive it.
//!
//! `pg_ctl start` detaches the server into a session of its own, so a platform killed before its
//! stop code ran left the server running with no parent. Here the server is this process's child,
//! in a process group of its own (a Ctrl-C in the terminal reaches the platform, which stops the
//! server in order), and it is asked by the kernel to shut down fast (`SIGINT`) when the thread that
//! keeps it ends — which every exit of this process does, SIGKILL included.

use std::io::Write;
use std::os::unix::fs::MetadataExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use anyhow::{Context, Result, anyhow, bail};
use sqlx::{Connection, Executor, PgConnection};

/// A running private cluster. Dropping it (or [`PrivatePostgres::stop`]) shuts the server down.
pub struct PrivatePostgres {
    data: PathBuf,
    port: u16,
    pid: u32,
    keeper: Option<std::thread::JoinHandle<()>>,
}

/// The system user the server runs as when this process is root (PostgreSQL refuses to run as root).
struct ServerUser {
    uid: u32,
    gid: u32,
}

impl PrivatePostgres {
    /// Initialises `dir` if it is new, then starts the server on 127.0.0.1:`port` and waits until it
    /// accepts connections. Run as root, the server runs as the `postgres` user, so `dir` must be
    /// reachable by that user (see [`cluster_dir`]).
    pub fn start(dir: &Path, port: u16) -> Result<Self> {
        let bin = server_binaries()?;
        let data = std::path::absolute(dir)?;
        let user = server_user()?;
        std::fs::create_dir_all(&data)?;
        if let Some(user) = &user {
            std::os::unix::fs::chown(&data, Some(user.uid), Some(user.gid))
                .with_context(|| format!("handing {} to the postgres user", data.display()))?;
        }
        if !data.join("PG_VERSION").exists() {
            let mut initdb = Command::new(bin.join("initdb"));
            initdb
                .args(["-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-sync"])
                .arg("-D")
                .arg(&data);
            run(as_server_user(&mut initdb, &user)).context("initdb")?;
        }
        stop_leftover_server(&bin, &data, &user)?;

        let log_path = data.join("server.log");
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log_path)
            .with_context(|| format!("opening {}", log_path.display()))?;
        let mut server = Command::new(bin.join("postgres"));
        server
            .arg("-D")
            .arg(&data)
            .args(["-p", &port.to_string()])
            .args(["-c", "listen_addresses=127.0.0.1"])
            .args(["-c", &format!("unix_socket_directories={}", data.display())])
            .args(["-c", "max_connections=200"])
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .process_group(0);
        as_server_user(&mut server, &user);
        // SAFETY: prctl and getppid are async-signal-safe; the closure allocates nothing.
        unsafe {
            server.pre_exec(|| {
                // After the user change above (which would clear it), so it holds for the server.
                if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGINT) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                if libc::getppid() == 1 {
                    return Err(std::io::Error::other("the parent is gone already"));
                }
                Ok(())
            });
        }

        // The kernel's parent-death signal follows the thread that forked the server, so a thread
        // that lives exactly as long as the server forks it and waits for it.
        let (started, pid) = mpsc::channel();
        let keeper = std::thread::Builder::new()
            .name("postgres-keeper".into())
            .spawn(move || keep(server, started))?;
        let pid = pid
            .recv()
            .map_err(|_| anyhow!("the PostgreSQL keeper thread died"))?
            .context("starting PostgreSQL")?;
        let cluster = Self {
            data,
            port,
            pid,
            keeper: Some(keeper),
        };
        cluster
            .wait_ready(Duration::from_secs(60))
            .with_context(|| format!("PostgreSQL did not start (its log: {})", log_path.display()))?;
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// Fast shutdown: open sessions are ended, what was committed is on disk.
    pub fn stop(mut self) {
        self.shut_down();
    }

    /// A crash: the server is killed (SIGKILL) with no chance to write anything. Its sessions
    /// notice and end; the next [`PrivatePostgres::start`] on the directory recovers from the WAL.
    pub fn kill(mut self) {
        if let Some(keeper) = self.keeper.take() {
            // SAFETY: a plain signal to our own child, which the keeper has not reaped yet.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGKILL);
            }
            let _ = keeper.join();
        }
    }

    fn shut_down(&mut self) {
        if let Some(keeper) = self.keeper.take() {
            // SAFETY: a plain signal to our own child, which the keeper has not reaped yet.
            unsafe {
                libc::kill(self.pid as libc::pid_t, libc::SIGINT);
            }
            let _ = keeper.join();
        }
    }

    /// Ready when the server says so in `postmaster.pid` (its eighth line) and takes a connection.
    fn wait_ready(&self, within: Duration) -> Result<()> {
        let deadline = Instant::now() + within;
        loop {
            let status = std::fs::read_to_string(self.data.join("postmaster.pid")).unwrap_or_default();
            let ready = status.lines().nth(7).is_some_and(|line| line.trim() == "ready");
            if ready && std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return Ok(());
            }
            if self.keeper.as_ref().is_none_or(|keeper| keeper.is_finished()) {
                bail!("the server exited");
            }
            if Instant::now() > deadline {
                bail!("not ready within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for PrivatePostgres {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// Forks the server, reports its pid, and waits for it to exit.
fn keep(mut server: Command, started: mpsc::Sender<Result<u32>>) {
    match server.spawn() {
        Ok(mut child) => {
            let _ = started.send(Ok(child.id()));
            let _ = child.wait();
        }
        Err(err) => {
            let _ = started.send(Err(err.into()));
        }
    }
}

/// Where the cluster of data directory `data_dir` lives: `DATA_DIR/postgres` when the server's user
/// can reach it; otherwise (root running in a home directory of mode 0700, say) a directory under
/// `/var/lib/trustsafe/postgres/` named after the data dir, noted in `DATA_DIR/postgres.location`.
pub fn cluster_dir(data_dir: &Path) -> Result<PathBuf> {
    let data_dir = std::path::absolute(data_dir)?;
    std::fs::create_dir_all(&data_dir)
        .with_context(|| format!("creating the data directory {}", data_dir.display()))?;
    let inside = data_dir.join("postgres");
    let note = data_dir.join("postgres.location");
    if server_user()?.is_none() || reachable_by_server_user(&data_dir) {
        return Ok(inside);
    }
    if let Ok(noted) = std::fs::read_to_string(&note) {
        return Ok(PathBuf::from(noted.trim()));
    }
    let elsewhere = PathBuf::from("/var/lib/trustsafe/postgres").join(format!(
        "{}-{:016x}",
        data_dir
            .file_name()
            .map(|name| name.to_string_lossy().trim_start_matches('.').to_owned())
            .unwrap_or_default(),
        fnv1a(data_dir.as_os_str().as_encoded_bytes())
    ));
    std::fs::create_dir_all(elsewhere.parent().expect("a parent"))?;
    let mut file = std::fs::File::create(&note)?;
    writeln!(file, "{}", elsewhere.display())?;
    Ok(elsewhere)
}

/// A stable name for a path (not a secret: it only keeps two data dirs' clusters apart).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, byte| {
        (hash ^ u64::from(*byte)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Whether the server's user can create the cluster in `dir` (every directory above it searchable).
fn reachable_by_server_user(dir: &Path) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--", "test", "-x"])
        .arg(dir)
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|status| status.success())
}

/// `None` when this process is not root: the server then runs as whoever we are.
fn server_user() -> Result<Option<ServerUser>> {
    let root = std::fs::metadata("/proc/self")
        .map(|meta| meta.uid() == 0)
        .unwrap_or(false);
    if !root {
        return Ok(None);
    }
    // SAFETY: getpwnam's result is read at once, before any other call could reuse its buffer.
    let entry = unsafe { libc::getpwnam(c"postgres".as_ptr()) };
    if entry.is_null() {
        bail!(
            "PostgreSQL refuses to run as root, and there is no postgres user to run it as. Install the server \
             (Debian/Ubuntu: apt-get install postgresql), or point DATABASE_URL at a running server."
        );
    }
    // SAFETY: non-null, from getpwnam just above.
    let (uid, gid) = unsafe { ((*entry).pw_uid, (*entry).pw_gid) };
    Ok(Some(ServerUser { uid, gid }))
}

fn as_server_user<'a>(command: &'a mut Command, user: &Option<ServerUser>) -> &'a mut Command {
    if let Some(&ServerUser { uid, gid }) = user.as_ref() {
        // initdb and the server read HOME-relative files of their own user, never root's.
        command.env("HOME", "/var/lib/postgresql");
        // SAFETY: setgroups, setgid and setuid are async-signal-safe; nothing is allocated. Groups
        // first: root's supplementary groups must not follow the server.
        unsafe {
            command.pre_exec(move || {
                if libc::setgroups(1, &gid) != 0 || libc::setgid(gid) != 0 || libc::setuid(uid) != 0 {
                    return Err(std::io::Error::last_os_error());
                }
                Ok(())
            });
        }
    }
    command
}

/// A server still running on this cluster (from an older trustsafe, or a start killed while the
/// server was forked) is stopped, so this start owns the one it runs.
fn stop_leftover_server(bin: &Path, data: &Path, user: &Option<ServerUser>) -> Result<()> {
    if !data.join("postmaster.pid").exists() {
        return Ok(());
    }
    let mut status = Command::new(bin.join("pg_ctl"));
    status.arg("-D").arg(data).arg("status");
    let running = as_server_user(&mut status, user)
        .output()
        .is_ok_and(|out| out.status.success());
    if running {
        eprintln!("stopping a PostgreSQL left running on {}", data.display());
        let mut stop = Command::new(bin.join("pg_ctl"));
        stop.arg("-D").arg(data).args(["-m", "fast", "-w", "stop"]);
        run(as_server_user(&mut stop, user))?;
    }
    Ok(())
}

fn run(command: &mut Command) -> Result<()> {
    let program = command.get_program().to_string_lossy().into_owned();
    let output = command.output().with_context(|| format!("running {program}"))?;
    if !output.status.success() {
        bail!(
            "{program} failed: {}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    Ok(())
}

/// The newest local PostgreSQL server binaries: Debian's /usr/lib/postgresql/N/bin, then PATH.
fn server_binaries() -> Result<PathBuf> {
    let has_server = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|bin| dir.join(bin).is_file())
    };
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| has_server(dir));
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|dir| has_server(dir))
        .max_by_key(|dir| {
            dir.parent()
                .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
        });
    debian.or(on_path).context(
        "PostgreSQL server binaries (initdb, postgres) were not found. Install them \
         (Debian/Ubuntu: apt-get install postgresql) or point DATABASE_URL at a running server.",
    )
}

/// Creates database `name` on the server of `admin_url` unless it exists, and returns its URL.
pub async fn ensure_database(admin_url: &str, name: &str) -> Result<String> {
    let mut conn = PgConnection::connect(admin_url)
        .await
        .with_context(|| format!("connecting to {admin_url}"))?;
    let exists: bool = sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)")
        .bind(name)
        .fetch_one(&mut conn)
        .await?;
    if !exists {
        // Identifiers cannot be bound; names come from code, and are quoted all the same.
        let created = conn
            .execute(format!("CREATE DATABASE \"{}\"", name.replace('"', "")).as_str())
            .await;
        if let Err(err) = created {
            // Another process may have created it meanwhile (42P04: duplicate_database).
            let duplicate = err
                .as_database_error()
                .and_then(|db| db.code())
                .is_some_and(|code| code == "42P04");
            if !duplicate {
                return Err(err.into());
            }
        }
    }
    conn.close().await?;
    Ok(database_url(admin_url, name))
}

/// `admin_url` with its database replaced by `name`.
pub fn database_url(admin_url: &str, name: &str) -> String {
    match url::Url::parse(admin_url) {
        Ok(mut url) => {
            url.set_path(&format!("/{name}"));
            url.to_string()
        }
        Err(_) => format!("{}/{name}", admin_url.trim_end_matches('/')),
    }
}
