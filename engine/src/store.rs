//! The object store under the engine: a local directory by default, or `s3://bucket/prefix`.

use std::path::{Path as FsPath, PathBuf};
use std::sync::Arc;

use bytes::Bytes;
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectMeta, ObjectStore, ObjectStoreExt, PutPayload};
use url::Url;

use crate::error::{EngineError, Result};

/// Where the Parquet tree lives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreLocation {
    /// A directory on this machine.
    Local(PathBuf),
    /// A bucket and an optional prefix in S3 or any S3-compatible server.
    S3 { bucket: String, prefix: String },
}

impl StoreLocation {
    /// Parses `s3://bucket/prefix`, `file:///dir` or a plain directory path.
    pub fn parse(location: &str) -> Result<Self> {
        let invalid = |reason: &str| EngineError::InvalidStore {
            location: location.to_string(),
            reason: reason.to_string(),
        };
        if !location.contains("://") {
            return Ok(StoreLocation::Local(PathBuf::from(location)));
        }
        let url = Url::parse(location).map_err(|e| invalid(&e.to_string()))?;
        match url.scheme() {
            "file" => Ok(StoreLocation::Local(PathBuf::from(url.path()))),
            "s3" => {
                let bucket = url
                    .host_str()
                    .filter(|b| !b.is_empty())
                    .ok_or_else(|| invalid("no bucket"))?;
                Ok(StoreLocation::S3 {
                    bucket: bucket.to_string(),
                    prefix: url.path().trim_matches('/').to_string(),
                })
            }
            other => Err(invalid(&format!(
                "unsupported scheme `{other}` (use a directory or s3://)"
            ))),
        }
    }
}

impl std::fmt::Display for StoreLocation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreLocation::Local(dir) => write!(f, "{}", dir.display()),
            StoreLocation::S3 { bucket, prefix } => write!(f, "s3://{bucket}/{prefix}"),
        }
    }
}

/// Connection settings for S3-compatible stores; unset fields fall back to the `AWS_*` environment.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    pub endpoint: Option<String>,
    pub region: Option<String>,
    pub access_key_id: Option<String>,
    pub secret_access_key: Option<String>,
    pub allow_http: bool,
}

/// The opened store: every file access of the engine goes through it.
#[derive(Debug, Clone)]
pub struct Store {
    inner: Arc<dyn ObjectStore>,
    /// Set for local stores, whose writes are fsynced (object_store does not).
    local_root: Option<PathBuf>,
    location: StoreLocation,
}

impl Store {
    pub fn open(location: &StoreLocation, s3: &S3Options) -> Result<Self> {
        let inner: Arc<dyn ObjectStore> = match location {
            StoreLocation::Local(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| EngineError::io(dir.display(), e))?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?)
            }
            StoreLocation::S3 { bucket, prefix } => {
                let mut builder = AmazonS3Builder::from_env().with_bucket_name(bucket);
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_virtual_hosted_style_request(false);
                }
                if let Some(region) = &s3.region {
                    builder = builder.with_region(region);
                }
                if let Some(key) = &s3.access_key_id {
                    builder = builder.with_access_key_id(key);
                }
                if let Some(secret) = &s3.secret_access_key {
                    builder = builder.with_secret_access_key(secret);
                }
                // Only an explicit flag overrides AWS_ALLOW_HTTP from the environment.
                if s3.allow_http {
                    builder = builder.with_allow_http(true);
                }
                let s3_store = builder.build()?;
                if prefix.is_empty() {
                    Arc::new(s3_store)
                } else {
                    Arc::new(PrefixStore::new(s3_store, prefix.as_str()))
                }
            }
        };
        let local_root = match location {
            StoreLocation::Local(dir) => Some(dir.clone()),
            StoreLocation::S3 { .. } => None,
        };
        Ok(Store {
            inner,
            local_root,
            location: location.clone(),
        })
    }

    pub fn location(&self) -> &StoreLocation {
        &self.location
    }

    pub fn object_store(&self) -> Arc<dyn ObjectStore> {
        self.inner.clone()
    }

    /// Writes a whole object and returns once it is durable.
    pub async fn put_durable(&self, path: &Path, bytes: Bytes) -> Result<u64> {
        let size = bytes.len() as u64;
        self.inner.put(path, PutPayload::from_bytes(bytes)).await?;
        if let Some(root) = &self.local_root {
            sync_local(&root.join(path.as_ref()))?;
        }
        Ok(size)
    }

    pub async fn get(&self, path: &Path) -> Result<Bytes> {
        Ok(self.inner.get(path).await?.bytes().await?)
    }

    /// Deletes an object; an object already gone is not an error.
    pub async fn delete(&self, path: &Path) -> Result<()> {
        match self.inner.delete(path).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    pub async fn list(&self, prefix: &str) -> Result<Vec<ObjectMeta>> {
        let prefix = Path::from(prefix);
        Ok(self.inner.list(Some(&prefix)).try_collect().await?)
    }
}

fn sync_local(file: &FsPath) -> Result<()> {
    let sync = |p: &FsPath| std::fs::File::open(p).and_then(|f| f.sync_all());
    sync(file).map_err(|e| EngineError::io(file.display(), e))?;
    if let Some(dir) = file.parent() {
        sync(dir).map_err(|e| EngineError::io(dir.display(), e))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations_parse_from_directories_file_urls_and_s3_urls() {
        let parse = |s: &str| StoreLocation::parse(s).expect(s);
        assert_eq!(
            parse("data/store"),
            StoreLocation::Local("data/store".into())
        );
        assert_eq!(
            parse("file:///var/sonde"),
            StoreLocation::Local("/var/sonde".into())
        );
        let s3 = parse("s3://fabric/archive/2026/");
        assert_eq!(
            s3,
            StoreLocation::S3 {
                bucket: "fabric".into(),
                prefix: "archive/2026".into()
            }
        );
        assert_eq!(s3.to_string(), "s3://fabric/archive/2026");
        assert_eq!(
            parse("s3://fabric"),
            StoreLocation::S3 {
                bucket: "fabric".into(),
                prefix: String::new()
            }
        );
    }

    #[test]
    fn unknown_schemes_are_the_callers_mistake() {
        let error = StoreLocation::parse("gs://bucket/x").expect_err("gs is not supported");
        assert!(error.is_user_error());
        assert!(
            error.to_string().contains("unsupported scheme `gs`"),
            "{error}"
        );
    }

    #[tokio::test]
    async fn a_local_store_puts_gets_lists_and_deletes_idempotently() {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(
            &StoreLocation::Local(dir.path().join("root")),
            &S3Options::default(),
        )
        .expect("open");
        let path = Path::from("bgp/date=2026-11-20/hour=10/f1.parquet");
        let size = store
            .put_durable(&path, Bytes::from_static(b"rows"))
            .await
            .expect("put");
        assert_eq!(size, 4);
        assert!(dir.path().join("root").join(path.as_ref()).exists());
        assert_eq!(
            store.get(&path).await.expect("get"),
            Bytes::from_static(b"rows")
        );
        let listed = store.list("bgp").await.expect("list");
        assert_eq!(
            listed.iter().map(|m| &m.location).collect::<Vec<_>>(),
            [&path]
        );
        assert!(store.list("lldp").await.expect("list").is_empty());
        store.delete(&path).await.expect("delete");
        store
            .delete(&path)
            .await
            .expect("deleting again is no error");
        assert!(store.list("bgp").await.expect("list").is_empty());
    }
}
