//! What can stop the server from starting or stopping cleanly.

pub type Result<T, E = ServerError> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("cannot open the store: {0}")]
    Open(#[source] sonde_engine::EngineError),
    #[error("cannot listen on {address}: {source}")]
    Bind {
        address: String,
        #[source]
        source: std::io::Error,
    },
    #[error("cannot read the bound address: {0}")]
    Address(#[source] std::io::Error),
    #[error("the Flight server failed: {0}")]
    Flight(#[source] crate::flight::FlightServeError),
    #[error("the {0} listener failed: {1}")]
    Listener(&'static str, String),
    #[error("the {0} task panicked: {1}")]
    Panicked(&'static str, String),
    #[error("ZTP: {0}")]
    Ztp(#[source] sonde_ztp::ZtpError),
    #[error("the final flush failed; the WAL still holds every acknowledged row: {0}")]
    FinalFlush(#[source] sonde_engine::EngineError),
}
