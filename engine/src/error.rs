use sonde_schema::SchemaError;

/// Everything the engine can refuse or fail at.
///
/// `UnknownTable`, `Schema`, `InvalidStore` and `InvalidTime` are the caller's mistakes; the others are
/// faults of the machine or the store.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("unknown table `{0}` (try `show tables`)")]
    UnknownTable(String),
    #[error(transparent)]
    Schema(#[from] SchemaError),
    #[error("invalid store location `{location}`: {reason}")]
    InvalidStore { location: String, reason: String },
    #[error("invalid time: {0}")]
    InvalidTime(String),
    #[error("the store is open read-only")]
    ReadOnly,
    #[error("no store at {0}")]
    NoStore(String),
    #[error("the engine is shutting down")]
    Closed,
    #[error("another server holds the store's write lock ({0})")]
    Locked(String),
    #[error("archive: {0}")]
    Archive(String),
    #[error("WAL: {0}")]
    Wal(String),
    #[error("I/O on {path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("object store: {0}")]
    ObjectStore(#[from] object_store::Error),
    #[error("parquet: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    #[error("arrow: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    #[error("query: {0}")]
    Query(#[from] datafusion::error::DataFusionError),
}

impl EngineError {
    pub(crate) fn io(path: impl std::fmt::Display, source: std::io::Error) -> Self {
        EngineError::Io {
            path: path.to_string(),
            source,
        }
    }

    /// True when the error is the caller's mistake rather than a fault of the server.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            EngineError::UnknownTable(_)
                | EngineError::Schema(_)
                | EngineError::InvalidStore { .. }
                | EngineError::InvalidTime(_)
                | EngineError::ReadOnly
                | EngineError::NoStore(_)
        )
    }
}

pub type Result<T, E = EngineError> = std::result::Result<T, E>;
