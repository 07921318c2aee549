//! A private PostgreSQL cluster under the data directory, for `trustsafe dev` when no `DATABASE_URL`
//! is given: initialised once from the local server binaries, started and stopped with the platform.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};
use sqlx::{Connection, Executor, PgConnection};

pub struct PrivatePostgres {
    pg_ctl: PathBuf,
    data: PathBuf,
    port: u16,
    run_as_postgres: bool,
}

impl PrivatePostgres {
    /// Initialises `dir` if it is new, then starts the server on 127.0.0.1:`port` (or finds it running).
    pub fn start(dir: &Path, port: u16) -> Result<Self> {
        let bin = server_binaries()?;
        let data = std::path::absolute(dir)?;
        // PostgreSQL refuses to run as root: run it as the `postgres` system user instead.
        let run_as_postgres = std::fs::metadata("/proc/self")
            .map(|meta| meta.uid() == 0)
            .unwrap_or(false);
        let cluster = Self {
            pg_ctl: bin.join("pg_ctl"),
            data,
            port,
            run_as_postgres,
        };
        std::fs::create_dir_all(&cluster.data)?;
        if cluster.run_as_postgres {
            let status = Command::new("chown")
                .arg("-R")
                .arg("postgres:postgres")
                .arg(&cluster.data)
                .status()?;
            if !status.success() {
                bail!("could not hand {} to the postgres user", cluster.data.display());
            }
        }
        if !cluster.data.join("PG_VERSION").exists() {
            cluster
                .run(
                    Command::new(bin.join("initdb"))
                        .args(["-U", "postgres", "--auth=trust", "-E", "UTF8"])
                        .arg("-D")
                        .arg(&cluster.data),
                )
                .context("initdb")?;
        }
        if !cluster.is_running() {
            let options = format!(
                "-p {port} -c listen_addresses=127.0.0.1 -k {} -c max_connections=200",
                cluster.data.display()
            );
            let log = cluster.data.join("server.log");
            cluster
                .run(
                    Command::new(&cluster.pg_ctl)
                        .arg("-D")
                        .arg(&cluster.data)
                        .arg("-l")
                        .arg(&log)
                        .args(["-o", &options, "-w", "start"]),
                )
                .with_context(|| format!("starting PostgreSQL (its log: {})", log.display()))?;
        }
        Ok(cluster)
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn is_running(&self) -> bool {
        let mut status = Command::new(&self.pg_ctl);
        status.arg("-D").arg(&self.data).arg("status");
        self.command(&mut status)
            .output()
            .map(|out| out.status.success())
            .unwrap_or(false)
    }

    pub fn stop(&self) -> Result<()> {
        self.run(
            Command::new(&self.pg_ctl)
                .arg("-D")
                .arg(&self.data)
                .args(["-m", "fast", "-w", "stop"]),
        )
    }

    fn command(&self, command: &mut Command) -> Command {
        if self.run_as_postgres {
            let mut wrapped = Command::new("runuser");
            wrapped
                .args(["-u", "postgres", "--"])
                .arg(command.get_program())
                .args(command.get_args());
            wrapped
        } else {
            std::mem::replace(command, Command::new(command.get_program()))
        }
    }

    fn run(&self, command: &mut Command) -> Result<()> {
        let program = command.get_program().to_string_lossy().into_owned();
        let output = self
            .command(command)
            .output()
            .with_context(|| format!("running {program}"))?;
        if !output.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&output.stdout),
                String::from_utf8_lossy(&output.stderr)
            );
        }
        Ok(())
    }
}

/// The newest local PostgreSQL server binaries: PATH, then Debian's /usr/lib/postgresql/N/bin.
fn server_binaries() -> Result<PathBuf> {
    let on_path = std::env::var_os("PATH")
        .map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .unwrap_or_default()
        .into_iter()
        .find(|dir| dir.join("initdb").is_file() && dir.join("pg_ctl").is_file());
    let debian = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .map(|entry| entry.path().join("bin"))
        .filter(|dir| dir.join("initdb").is_file())
        .max_by_key(|dir| {
            dir.parent()
                .and_then(|v| v.file_name()?.to_str()?.parse::<u32>().ok())
        });
    debian.or(on_path).context(
        "PostgreSQL server binaries (initdb, pg_ctl) were not found. Install them \
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
