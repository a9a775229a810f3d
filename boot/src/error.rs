//! The loader's error type: a static description plus an optional number
//! (an address, a count, an ID word) that says which input was at fault.

use core::fmt;

/// A fatal loader error; `main` prints it as `boot: error: ...` and exits.
#[derive(Clone, Copy, Debug)]
pub struct Error {
    what: &'static str,
    value: Option<u64>,
}

pub type Result<T> = core::result::Result<T, Error>;

impl Error {
    pub const fn new(what: &'static str) -> Self {
        Error { what, value: None }
    }

    pub const fn with(what: &'static str, value: u64) -> Self {
        Error { what, value: Some(value) }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.value {
            Some(v) => write!(f, "{} ({:#x})", self.what, v),
            None => f.write_str(self.what),
        }
    }
}

/// Shorthand for `Err(Error::new(..))` / `Err(Error::with(..))`.
macro_rules! bail {
    ($what:expr) => {
        return Err($crate::error::Error::new($what))
    };
    ($what:expr, $value:expr) => {
        return Err($crate::error::Error::with($what, $value as u64))
    };
}
pub(crate) use bail;
