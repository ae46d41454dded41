//! What `sonde ztp …` does to a ZTP directory, as NetQ's TIPCTL does to its image store: add,
//! list and remove images (`images/`) and configuration files (`configs/`), map serial numbers
//! to files and images in `config.db`, unmap them, list them.
//!
//! Choices:
//! - Every write is atomic: a file is copied (hashing it on the way) into a hidden temporary
//!   file in the destination directory, synced, then renamed over its name, so the HTTP server
//!   never serves half a file and a download in flight keeps the file it opened. `config.db`
//!   is rewritten the same way, under an exclusive `flock` on the ZTP directory so two admin
//!   commands do not lose each other's edits.
//! - Names given to `add_*` are one plain component: no `/`, `\`, `..`, leading `.` (hidden
//!   names are this module's temporary files) or control characters. An existing file of the
//!   same name is replaced.
//! - Mapping a serial checks that the files it names exist (under `configs/`, or `images/` for
//!   a local image); an image URL is not fetched. Removing an image or configuration file that
//!   `config.db` still names is refused, naming the serials.
//! - `config.db` is rewritten by [`db::render`]: the operator's comments do not survive
//!   a change made here; every entry and key does.
//! - Files are identified by SHA-1 (the hash the seed's GELF `_config_sha1` carries).

use std::fs::File;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use sha1::{Digest, Sha1};

use crate::config::db;
use crate::config::model::{ConfigDb, Device};
use crate::dir::ZtpDir;
use crate::error::{Result, ZtpError};

/// A file under `images/` or `configs/`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileInfo {
    pub name: String,
    pub size: u64,
    pub modified: Option<SystemTime>,
    /// SHA-1 of the contents, lowercase hex.
    pub sha1: String,
}

/// An installer or image under `images/`.
pub type ImageInfo = FileInfo;

/// Changes to one serial's entry: `None` leaves a key as it is, `Some(None)` removes it,
/// `Some(Some(v))` sets it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceUpdate {
    pub startup: Option<Option<String>>,
    pub ctrld: Option<Option<String>>,
    pub ctrldrbac: Option<Option<String>>,
    pub element: Option<Option<String>>,
    pub image: Option<Option<String>>,
    pub mac: Option<Option<String>>,
    pub script: Option<Option<String>>,
}

impl DeviceUpdate {
    /// The changes with their `config.db` keys.
    fn changes(&self) -> [(&'static str, &Option<Option<String>>); 7] {
        [
            ("ctrld", &self.ctrld),
            ("ctrldrbac", &self.ctrldrbac),
            ("startup", &self.startup),
            ("element", &self.element),
            ("image", &self.image),
            ("mac", &self.mac),
            ("ztp_script", &self.script),
        ]
    }
}

/// Copies `source` into `images/` as `name` (default: the source's file name).
pub fn add_image(dir: &ZtpDir, source: &Path, name: Option<&str>) -> Result<ImageInfo> {
    add_file(&dir.images(), source, name)
}

/// The files under `images/`, by name.
pub fn list_images(dir: &ZtpDir) -> Result<Vec<ImageInfo>> {
    list_files(&dir.images())
}

/// Removes `images/<name>`, unless `config.db` still names it.
pub fn remove_image(dir: &ZtpDir, name: &str) -> Result<()> {
    check_name(name)?;
    let users = serials_using(&read_db(dir)?, |d| {
        d.image
            .as_deref()
            .is_some_and(|i| i.strip_prefix("images/").unwrap_or(i) == name)
    });
    remove_file(&dir.images(), name, "image", &users)
}

/// Copies `source` into `configs/` as `name` (default: the source's file name).
pub fn add_config(dir: &ZtpDir, source: &Path, name: Option<&str>) -> Result<FileInfo> {
    add_file(&dir.configs(), source, name)
}

/// The files under `configs/`, by name.
pub fn list_configs(dir: &ZtpDir) -> Result<Vec<FileInfo>> {
    list_files(&dir.configs())
}

/// Removes `configs/<name>`, unless `config.db` still names it.
pub fn remove_config(dir: &ZtpDir, name: &str) -> Result<()> {
    check_name(name)?;
    let users = serials_using(&read_db(dir)?, |d| {
        [&d.ctrld, &d.ctrldrbac, &d.startup, &d.element, &d.script]
            .iter()
            .any(|f| f.as_deref() == Some(name))
    });
    remove_file(&dir.configs(), name, "configuration file", &users)
}

/// Creates or edits `serial`'s entry of `config.db`, keeping every other entry; returns the
/// entry as written.
pub fn map_serial(dir: &ZtpDir, serial: &str, update: &DeviceUpdate) -> Result<Device> {
    db::check_serial(serial).map_err(ZtpError::Admin)?;
    let _lock = lock(dir)?;
    let mut config = read_db(dir)?;
    let mut device = config.devices.get(serial).cloned().unwrap_or_default();
    for (key, change) in update.changes() {
        match change {
            None => {}
            Some(None) => clear(&mut device, key),
            Some(Some(value)) => {
                db::set(&mut device, key, value.clone())
                    .map_err(|m| ZtpError::Admin(format!("serial `{serial}`, `{key}`: {m}")))?;
                check_exists(dir, key, value)?;
            }
        }
    }
    config.devices.insert(serial.to_string(), device.clone());
    write_db(dir, &config)?;
    Ok(device)
}

/// Removes `serial`'s entry from `config.db`; returns what it was.
pub fn unmap_serial(dir: &ZtpDir, serial: &str) -> Result<Device> {
    let _lock = lock(dir)?;
    let mut config = read_db(dir)?;
    let Some(device) = config.devices.remove(serial) else {
        return Err(ZtpError::Admin(format!(
            "serial `{serial}` is not in {}",
            dir.config_db().display()
        )));
    };
    write_db(dir, &config)?;
    Ok(device)
}

/// The serials of `config.db` with their entries, by serial.
pub fn list_devices(dir: &ZtpDir) -> Result<Vec<(String, Device)>> {
    Ok(read_db(dir)?.devices.into_iter().collect())
}

fn clear(device: &mut Device, key: &str) {
    let slot = match key {
        "ctrld" => &mut device.ctrld,
        "ctrldrbac" => &mut device.ctrldrbac,
        "startup" => &mut device.startup,
        "element" => &mut device.element,
        "image" => &mut device.image,
        "mac" => &mut device.mac,
        _ => &mut device.script,
    };
    *slot = None;
}

/// A file a mapping names must be there (an image URL is not checked).
fn check_exists(dir: &ZtpDir, key: &str, value: &str) -> Result<()> {
    let path = match key {
        "mac" => return Ok(()),
        "image" if value.contains("://") => return Ok(()),
        "image" => dir
            .images()
            .join(value.strip_prefix("images/").unwrap_or(value)),
        _ => dir.configs().join(value),
    };
    if path.is_file() {
        return Ok(());
    }
    let what = if key == "image" { "image" } else { "config" };
    Err(ZtpError::Admin(format!(
        "{} does not exist; add it first with `sonde ztp {what} add`",
        path.display()
    )))
}

fn serials_using(config: &ConfigDb, uses: impl Fn(&Device) -> bool) -> Vec<String> {
    config
        .devices
        .iter()
        .filter(|(_, d)| uses(d))
        .map(|(s, _)| s.clone())
        .collect()
}

fn read_db(dir: &ZtpDir) -> Result<ConfigDb> {
    let path = dir.config_db();
    match std::fs::read_to_string(&path) {
        Ok(text) => db::parse(&path, &text),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(ConfigDb::default()),
        Err(e) => Err(ZtpError::io(path, e)),
    }
}

fn write_db(dir: &ZtpDir, config: &ConfigDb) -> Result<()> {
    db::validate(config).map_err(ZtpError::Admin)?;
    write_atomic(&dir.config_db(), db::render(config).as_bytes())
}

/// An exclusive lock on the ZTP directory, held while `config.db` is read and rewritten.
fn lock(dir: &ZtpDir) -> Result<File> {
    let root = dir.root();
    let file = File::open(root).map_err(|e| ZtpError::io(root, e))?;
    rustix::fs::flock(&file, rustix::fs::FlockOperation::LockExclusive)
        .map_err(|e| ZtpError::io(root, e.into()))?;
    Ok(file)
}

/// One plain file name: no `/`, `\`, `..`, leading `.`, control characters.
fn check_name(name: &str) -> Result<()> {
    let bad = name.is_empty()
        || name.starts_with('.')
        || name.contains(['/', '\\'])
        || name.chars().any(char::is_control);
    if bad {
        return Err(ZtpError::Admin(format!(
            "`{}` is not a plain file name (no `/`, `\\`, `..`, leading `.` or control characters)",
            name.escape_debug()
        )));
    }
    Ok(())
}

fn add_file(dest: &Path, source: &Path, name: Option<&str>) -> Result<FileInfo> {
    let name = match name {
        Some(n) => n.to_string(),
        None => source
            .file_name()
            .and_then(|n| n.to_str())
            .map(str::to_string)
            .ok_or_else(|| {
                ZtpError::Admin(format!("{} has no file name to use", source.display()))
            })?,
    };
    check_name(&name)?;
    let meta = std::fs::metadata(source).map_err(|e| ZtpError::io(source, e))?;
    if !meta.is_file() {
        return Err(ZtpError::Admin(format!(
            "{} is not a file",
            source.display()
        )));
    }
    std::fs::create_dir_all(dest).map_err(|e| ZtpError::io(dest, e))?;
    let mut input = File::open(source).map_err(|e| ZtpError::io(source, e))?;
    let target = dest.join(&name);
    let sha1 = write_atomic_with(&target, |out| {
        let mut hasher = Sha1::new();
        let mut buf = vec![0u8; 1 << 20];
        loop {
            let n = input.read(&mut buf).map_err(|e| ZtpError::io(source, e))?;
            if n == 0 {
                return Ok(hex(&hasher.finalize()));
            }
            hasher.update(&buf[..n]);
            out.write_all(&buf[..n])
                .map_err(|e| ZtpError::io(&target, e))?;
        }
    })?;
    let meta = std::fs::metadata(&target).map_err(|e| ZtpError::io(&target, e))?;
    Ok(FileInfo {
        name,
        size: meta.len(),
        modified: meta.modified().ok(),
        sha1,
    })
}

fn list_files(dir: &Path) -> Result<Vec<FileInfo>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(ZtpError::io(dir, e)),
    };
    let mut files = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| ZtpError::io(dir, e))?;
        let Some(name) = entry.file_name().to_str().map(str::to_string) else {
            continue;
        };
        let path = entry.path();
        let Ok(meta) = std::fs::metadata(&path) else {
            continue;
        };
        if name.starts_with('.') || !meta.is_file() {
            continue;
        }
        files.push(FileInfo {
            sha1: sha1_of(&path)?,
            name,
            size: meta.len(),
            modified: meta.modified().ok(),
        });
    }
    files.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(files)
}

fn remove_file(dir: &Path, name: &str, what: &str, users: &[String]) -> Result<()> {
    if !users.is_empty() {
        return Err(ZtpError::Admin(format!(
            "{what} `{name}` is mapped to serial {}; unmap it first",
            users.join(", ")
        )));
    }
    let path = dir.join(name);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(ZtpError::Admin(format!(
            "no {what} `{name}` in {}",
            dir.display()
        ))),
        Err(e) => Err(ZtpError::io(path, e)),
    }
}

fn sha1_of(path: &Path) -> Result<String> {
    let mut file = File::open(path).map_err(|e| ZtpError::io(path, e))?;
    let mut hasher = Sha1::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = file.read(&mut buf).map_err(|e| ZtpError::io(path, e))?;
        if n == 0 {
            return Ok(hex(&hasher.finalize()));
        }
        hasher.update(&buf[..n]);
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    write_atomic_with(path, |out| {
        out.write_all(bytes).map_err(|e| ZtpError::io(path, e))
    })
}

/// Writes `path` through a hidden temporary file beside it, synced and renamed into place;
/// the temporary file is removed when anything fails.
fn write_atomic_with<T>(path: &Path, fill: impl FnOnce(&mut File) -> Result<T>) -> Result<T> {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let dir = path.parent().unwrap_or(Path::new("."));
    let base = path.file_name().and_then(|n| n.to_str()).unwrap_or("file");
    let n = COUNTER.fetch_add(1, Ordering::Relaxed);
    let temp: PathBuf = dir.join(format!(".{base}.tmp-{}-{n}", std::process::id()));
    let result = (|| {
        let mut out = File::options()
            .write(true)
            .create_new(true)
            .open(&temp)
            .map_err(|e| ZtpError::io(&temp, e))?;
        let value = fill(&mut out)?;
        out.sync_all().map_err(|e| ZtpError::io(&temp, e))?;
        std::fs::rename(&temp, path).map_err(|e| ZtpError::io(path, e))?;
        if let Ok(d) = File::open(dir) {
            let _ = d.sync_all();
        }
        Ok(value)
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&temp);
    }
    result
}

#[cfg(test)]
mod tests;
