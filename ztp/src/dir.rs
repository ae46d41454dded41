//! The ZTP directory's layout, in one place.

use std::path::{Path, PathBuf};

/// A ZTP directory: `dhcpd.conf`, `config.db`, `configs/` and `images/` (the seed's files, as an
/// isc-dhcp + nginx setup keeps them).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ZtpDir(PathBuf);

impl ZtpDir {
    pub fn new(root: impl Into<PathBuf>) -> Self {
        ZtpDir(root.into())
    }

    pub fn root(&self) -> &Path {
        &self.0
    }

    /// isc-dhcp's configuration.
    pub fn dhcpd_conf(&self) -> PathBuf {
        self.0.join("dhcpd.conf")
    }

    /// The serial → configuration and image map, in the seed's JSON.
    pub fn config_db(&self) -> PathBuf {
        self.0.join("config.db")
    }

    /// The configuration files config.db names.
    pub fn configs(&self) -> PathBuf {
        self.0.join("configs")
    }

    /// Installers and images, served at `/images/<name>`.
    pub fn images(&self) -> PathBuf {
        self.0.join("images")
    }

    /// ONIE installers and ZTP scripts served at `/<name>` (the ONIE waterfall's default names,
    /// Cumulus' `ztp` scripts): the directory's root itself, files only.
    pub fn top_level(&self) -> &Path {
        &self.0
    }
}
