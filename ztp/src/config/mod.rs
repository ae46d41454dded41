//! The ZTP directory's configuration: `dhcpd.conf` ([`dhcpd`]) and `config.db` ([`db`]) parsed
//! into [`model`]'s types, and [`Watched`], which re-reads them when they change so an operator's
//! edit takes effect without a restart.

pub mod db;
pub mod dhcpd;
pub mod model;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use parking_lot::RwLock;
use tracing::{info, warn};

use crate::dir::ZtpDir;
use crate::error::{Result, ZtpError};
pub use model::*;

/// How often [`Watched`] looks at the files' modification times.
pub const RELOAD_EVERY: Duration = Duration::from_secs(1);

/// Everything the ZTP directory configures.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ZtpConfig {
    pub dhcp: DhcpConfig,
    pub db: ConfigDb,
}

impl ZtpConfig {
    /// Reads and parses the directory's files. A missing `dhcpd.conf` or `config.db` is an empty
    /// one (a directory may serve only images); one that does not parse is an error naming it.
    pub fn load(dir: &ZtpDir) -> Result<ZtpConfig> {
        let dhcp = match read_optional(&dir.dhcpd_conf())? {
            Some(text) => dhcpd::parse(&dir.dhcpd_conf(), &text)?,
            None => DhcpConfig::default(),
        };
        let db = match read_optional(&dir.config_db())? {
            Some(text) => db::parse(&dir.config_db(), &text)?,
            None => ConfigDb::default(),
        };
        Ok(ZtpConfig { dhcp, db })
    }
}

fn read_optional(path: &Path) -> Result<Option<String>> {
    match std::fs::read_to_string(path) {
        Ok(text) => Ok(Some(text)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(ZtpError::io(path, e)),
    }
}

/// The configuration in force, shared by the DHCP and HTTP servers and replaced as a whole when
/// the files change. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Watched {
    dir: ZtpDir,
    current: Arc<RwLock<Arc<ZtpConfig>>>,
    /// The files' stamps as last read, so an edit made between the first load and the start
    /// of [`Watched::watch`] is not missed.
    seen: Arc<parking_lot::Mutex<Stamps>>,
}

type Stamps = Vec<(PathBuf, Option<SystemTime>, u64)>;

impl Watched {
    /// Loads the directory once; an error here stops the server from starting.
    pub fn open(dir: ZtpDir) -> Result<Watched> {
        let seen = stamps(&dir);
        let config = ZtpConfig::load(&dir)?;
        let watched = Watched::fixed(dir, config);
        *watched.seen.lock() = seen;
        Ok(watched)
    }

    /// A configuration that is never re-read (tests, benches).
    pub fn fixed(dir: ZtpDir, config: ZtpConfig) -> Watched {
        let seen = stamps(&dir);
        Watched {
            dir,
            current: Arc::new(RwLock::new(Arc::new(config))),
            seen: Arc::new(parking_lot::Mutex::new(seen)),
        }
    }

    pub fn dir(&self) -> &ZtpDir {
        &self.dir
    }

    /// The configuration in force now.
    pub fn get(&self) -> Arc<ZtpConfig> {
        Arc::clone(&self.current.read())
    }

    /// Re-reads the files now. On an error the configuration in force stays and the error is
    /// returned (and logged by [`Watched::watch`]).
    pub fn reload(&self) -> Result<()> {
        *self.seen.lock() = stamps(&self.dir);
        let config = ZtpConfig::load(&self.dir)?;
        *self.current.write() = Arc::new(config);
        Ok(())
    }

    /// Re-reads the files whenever their modification times change, until `shutdown`.
    pub async fn watch(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut tick = tokio::time::interval(RELOAD_EVERY);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {}
            }
            if stamps(&self.dir) == *self.seen.lock() {
                continue;
            }
            match self.reload() {
                Ok(()) => info!(dir = %self.dir.root().display(), "ZTP configuration reloaded"),
                Err(error) => {
                    warn!(%error, "ZTP configuration not reloaded; the previous one stays")
                }
            }
        }
    }
}

/// The modification time and length of each configuration file (none when it is missing).
fn stamps(dir: &ZtpDir) -> Stamps {
    [dir.dhcpd_conf(), dir.config_db()]
        .into_iter()
        .map(|path| {
            let meta = std::fs::metadata(&path).ok();
            let modified = meta.as_ref().and_then(|m| m.modified().ok());
            let len = meta.map_or(0, |m| m.len());
            (path, modified, len)
        })
        .collect()
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    const DHCPD: &str = "default-lease-time 600;\nsubnet 10.0.0.0 netmask 255.255.255.0 {\n  range 10.0.0.200 10.0.0.250;\n}\n";
    const DB: &str = r#"{ "591654XK1902037": { "startup": "a.json" } }"#;
    const DB_EDITED: &str = r#"{ "591654XK1902037": { "startup": "a.json" }, "591654XK1902038": { "startup": "b.json" } }"#;

    async fn until(watched: &Watched, what: impl Fn(&ZtpConfig) -> bool) -> bool {
        for _ in 0..100 {
            if what(&watched.get()) {
                return true;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        false
    }

    #[tokio::test]
    async fn an_edit_takes_effect_without_a_restart_and_a_broken_file_keeps_the_last_good_one() {
        let root = tempfile::tempdir().unwrap();
        let dir = ZtpDir::new(root.path());
        std::fs::write(dir.dhcpd_conf(), DHCPD).unwrap();
        std::fs::write(dir.config_db(), DB).unwrap();
        let watched = Watched::open(dir.clone()).unwrap();
        assert_eq!(watched.get().db.devices.len(), 1);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let task = tokio::spawn(watched.clone().watch(async {
            let _ = stopped.await;
        }));

        std::fs::write(dir.config_db(), DB_EDITED).unwrap();
        assert!(
            until(&watched, |c| c.db.devices.len() == 2).await,
            "the edit was not picked up"
        );

        std::fs::write(dir.dhcpd_conf(), "default-lease-time 600\nsubnet {").unwrap();
        tokio::time::sleep(RELOAD_EVERY * 2).await;
        let config = watched.get();
        assert_eq!(config.dhcp.default_lease_time, Some(600));
        assert_eq!(
            config.dhcp.subnets.len(),
            1,
            "a broken file replaced the good one"
        );
        assert!(matches!(watched.reload(), Err(ZtpError::Syntax { .. })));

        let _ = stop.send(());
        task.await.unwrap();
    }
}
