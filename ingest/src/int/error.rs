//! Why a datagram was not decoded. Each variant is a counter the receiver keeps (by
//! [`DecodeError::reason`]); the datagram is dropped, never half-stored.

/// A datagram the decoders refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The datagram ends inside the named structure.
    #[error("truncated {0}")]
    Truncated(&'static str),
    /// No telemetry report version's layout fits the datagram.
    #[error("no telemetry report version fits (first byte {0:#04x})")]
    UnknownVersion(u8),
    /// A length field disagrees with the bytes or with the fields it counts.
    #[error("inconsistent length in {0}")]
    BadLength(&'static str),
    /// A next-protocol or type field holds a value the format does not define.
    #[error("unsupported {what} {value}")]
    Unsupported { what: &'static str, value: u32 },
    /// An INT stack holds more hops than its header says were collected, or more than a
    /// collector keeps.
    #[error("INT stack of {hops} hops is longer than its hop count {limit}")]
    StackTooLong { hops: u32, limit: u32 },
}

impl DecodeError {
    /// The counter this error is kept under: `truncated`, `unknown_version`, `bad_length`,
    /// `unsupported`, `stack_too_long`.
    pub fn reason(&self) -> &'static str {
        match self {
            DecodeError::Truncated(_) => "truncated",
            DecodeError::UnknownVersion(_) => "unknown_version",
            DecodeError::BadLength(_) => "bad_length",
            DecodeError::Unsupported { .. } => "unsupported",
            DecodeError::StackTooLong { .. } => "stack_too_long",
        }
    }
}
