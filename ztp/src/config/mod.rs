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
}

impl Watched {
    /// Loads the directory once; an error here stops the server from starting.
    pub fn open(dir: ZtpDir) -> Result<Watched> {
        let config = ZtpConfig::load(&dir)?;
        Ok(Watched::fixed(dir, config))
    }

    /// A configuration that is never re-read (tests, benches).
    pub fn fixed(dir: ZtpDir, config: ZtpConfig) -> Watched {
        Watched {
            dir,
            current: Arc::new(RwLock::new(Arc::new(config))),
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
        let config = ZtpConfig::load(&self.dir)?;
        *self.current.write() = Arc::new(config);
        Ok(())
    }

    /// Re-reads the files whenever their modification times change, until `shutdown`.
    pub async fn watch(self, shutdown: impl std::future::Future<Output = ()>) {
        let mut seen = self.stamps();
        let mut tick = tokio::time::interval(RELOAD_EVERY);
        tokio::pin!(shutdown);
        loop {
            tokio::select! {
                _ = &mut shutdown => return,
                _ = tick.tick() => {}
            }
            let now = self.stamps();
            if now == seen {
                continue;
            }
            seen = now;
            match self.reload() {
                Ok(()) => info!(dir = %self.dir.root().display(), "ZTP configuration reloaded"),
                Err(error) => {
                    warn!(%error, "ZTP configuration not reloaded; the previous one stays")
                }
            }
        }
    }

    fn stamps(&self) -> Vec<(PathBuf, Option<SystemTime>, u64)> {
        [self.dir.dhcpd_conf(), self.dir.config_db()]
            .into_iter()
            .map(|path| {
                let meta = std::fs::metadata(&path).ok();
                let modified = meta.as_ref().and_then(|m| m.modified().ok());
                let len = meta.map_or(0, |m| m.len());
                (path, modified, len)
            })
            .collect()
    }
}
