//! Standard output for the commands. A closed pipe (`swf-iam validate DIR | head -3`)
//! ends the output quietly: nothing more is written, no panic, and the command's exit
//! code stays the one its answer gives.

use std::io::{BufWriter, StdoutLock, Write};

/// Buffered standard output that remembers when the reader went away.
pub struct Out {
    w: BufWriter<StdoutLock<'static>>,
    closed: bool,
}

impl Default for Out {
    fn default() -> Self {
        Self::new()
    }
}

impl Out {
    /// Standard output, buffered.
    pub fn new() -> Self {
        Out {
            w: BufWriter::with_capacity(1 << 16, std::io::stdout().lock()),
            closed: false,
        }
    }

    /// Writes `text`; after a write error (a closed pipe), writes nothing more.
    pub fn write(&mut self, text: &str) {
        if !self.closed && self.w.write_all(text.as_bytes()).is_err() {
            self.closed = true;
        }
    }

    /// Writes `text` and a newline.
    pub fn line(&mut self, text: &str) {
        self.write(text);
        self.write("\n");
    }

    /// Whether the reader has gone away (every later write is dropped).
    pub fn closed(&self) -> bool {
        self.closed
    }

    /// Flushes what is buffered; `false` if the reader has gone away.
    pub fn flush(&mut self) -> bool {
        if !self.closed && self.w.flush().is_err() {
            self.closed = true;
        }
        !self.closed
    }
}

impl Drop for Out {
    fn drop(&mut self) {
        // A failed final flush is the same closed pipe: nothing to report.
        let _ = self.flush();
    }
}
