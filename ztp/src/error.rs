use std::path::PathBuf;

use thiserror::Error;

/// What can go wrong in ZTP: a user's file that does not parse, apart from I/O and internal faults.
#[derive(Debug, Error)]
pub enum ZtpError {
    /// A configuration file with a syntax or meaning error, pointing at the token.
    #[error("{file}:{line}:{column}: {message} (at `{token}`)")]
    Syntax {
        file: PathBuf,
        line: usize,
        column: usize,
        token: String,
        message: String,
    },
    /// A configuration file whose contents are wrong as a whole (a range outside its subnet, …).
    #[error("{file}: {message}")]
    Invalid { file: PathBuf, message: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot bind {address}: {source}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    /// The event store refused or lost rows (a lease could not be made durable, …).
    #[error("store: {0}")]
    Store(String),
    #[error("{0}")]
    Admin(String),
}

impl ZtpError {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        ZtpError::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = ZtpError> = std::result::Result<T, E>;
