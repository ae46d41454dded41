//! NetQL's errors: the user's mistakes (with the span to underline) apart from internal failures.

use datafusion::error::DataFusionError;

use crate::ast::Span;
use crate::parse_error::{ParseError, underline};

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The text is not a NetQL statement.
    #[error(transparent)]
    Parse(#[from] ParseError),
    /// A well-formed statement that asks for something that does not exist (a field, a table).
    #[error("{message}")]
    Plan { span: Span, message: String },
    /// A command the language has but this server does not answer yet.
    #[error("`{what}` is not supported by this server yet")]
    Unsupported { span: Span, what: &'static str },
    /// The query failed while planning or running.
    #[error("query failed: {0}")]
    DataFusion(#[from] DataFusionError),
    #[error("query failed: {0}")]
    Arrow(#[from] arrow::error::ArrowError),
    /// A bug, or an answer that cannot be read.
    #[error("internal error: {0}")]
    Internal(String),
}

impl Error {
    /// Whether the user can fix this by changing the statement.
    pub fn is_user_error(&self) -> bool {
        matches!(
            self,
            Error::Parse(_) | Error::Plan { .. } | Error::Unsupported { .. }
        )
    }

    pub fn span(&self) -> Option<Span> {
        match self {
            Error::Parse(error) => Some(error.span()),
            Error::Plan { span, .. } | Error::Unsupported { span, .. } => Some(*span),
            _ => None,
        }
    }

    /// The message, with the offending text of `input` underlined when there is a span.
    pub fn render(&self, input: &str) -> String {
        match self.span() {
            Some(span) => underline(&self.to_string(), input, span),
            None => format!("error: {self}"),
        }
    }

    pub(crate) fn plan(span: Span, message: impl Into<String>) -> Error {
        Error::Plan {
            span,
            message: message.into(),
        }
    }
}
