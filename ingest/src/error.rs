//! What can go wrong while collecting, spooling and sending.

use std::path::PathBuf;

/// Errors of the agent and its collectors.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("netlink: {0}")]
    Netlink(String),
    #[error("`{command}` failed: {message}")]
    Command { command: String, message: String },
    #[error("cannot read the output of `{command}`: {message}")]
    Output { command: String, message: String },
    #[error("arrow: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    #[error("spool {path}: {message}")]
    Spool { path: PathBuf, message: String },
    #[error("server {server}: {message}")]
    Server { server: String, message: String },
    #[error("configuration: {0}")]
    Config(String),
}

impl Error {
    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Self {
        Error::Io {
            path: path.into(),
            source,
        }
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
