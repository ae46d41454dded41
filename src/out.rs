//! Standard output with Unix manners: a reader that closes the pipe (`sonde check bgp | head -1`)
//! ends the command quietly with the status a shell gives a process killed by SIGPIPE, rather than
//! a panic.

use std::io::{ErrorKind, Write};

/// The status of a command whose output pipe was closed: 128 + SIGPIPE.
pub const CLOSED_PIPE_STATUS: u8 = 141;

/// The error [`print`] returns once the reader has gone; `main` exits quietly on it.
#[derive(Debug, thiserror::Error)]
#[error("standard output was closed")]
pub struct ClosedPipe;

/// Writes `text` to standard output and flushes it.
pub fn print(text: &str) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => Ok(()),
        Err(error) if error.kind() == ErrorKind::BrokenPipe => Err(ClosedPipe.into()),
        Err(error) => Err(anyhow::Error::new(error).context("cannot write to standard output")),
    }
}

/// `print` with a newline.
pub fn println(text: &str) -> anyhow::Result<()> {
    print(&format!("{text}\n"))
}

/// Whether an error is [`ClosedPipe`].
pub fn is_closed_pipe(error: &anyhow::Error) -> bool {
    error.downcast_ref::<ClosedPipe>().is_some()
}

/// `println!` through [`println`], returning its error from the enclosing function.
macro_rules! say {
    ($($arg:tt)*) => {
        $crate::out::println(&format!($($arg)*))?
    };
}
pub(crate) use say;
