//! The byte stream under every reader: the file on disk (counted, for progress), gzip detected by
//! its magic bytes, and one large buffer that detection can peek into before a reader consumes it.

use std::io::{self, BufReader, Chain, Cursor, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

/// Size of the main read buffer: large reads keep the per-call overhead out of the hot loop.
pub(crate) const BUFFER_BYTES: usize = 256 * 1024;

/// Counts the bytes read from the file on disk, shared with the reader's `bytes_read()`.
struct CountingReader<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for CountingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        // usize → u64 never truncates on supported targets.
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type DiskReader<R> = Chain<Cursor<Vec<u8>>, CountingReader<R>>;

/// Wraps an opened file (or a bucket object's body): counts what is read from it and
/// decompresses gzip (any member count) when it starts with the gzip magic bytes. Returns the
/// decoded stream and whether it was gzip.
pub(crate) fn decoded_stream<R: Read + Send + 'static>(
    file: R,
    count: Arc<AtomicU64>,
) -> io::Result<(Box<dyn Read + Send>, bool)> {
    let mut counting = CountingReader { inner: file, count };
    let mut magic = [0u8; 2];
    let mut got = 0;
    while let Some(rest) = magic.get_mut(got..).filter(|rest| !rest.is_empty()) {
        match counting.read(rest) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => {}
            Err(err) => return Err(err),
        }
    }
    let head = magic.get(..got).unwrap_or_default().to_vec();
    let gzip = head == [0x1f, 0x8b];
    let disk: DiskReader<R> = Cursor::new(head).chain(counting);
    if gzip {
        let compressed = BufReader::with_capacity(64 * 1024, disk);
        Ok((Box::new(MultiGzDecoder::new(compressed)), true))
    } else {
        Ok((Box::new(disk), false))
    }
}

/// What [`Source::fill`] found.
pub(crate) enum Fill {
    /// The buffer holds unread bytes.
    Data,
    /// The stream ended cleanly.
    End,
    /// Reading failed; the stream is over.
    Failed(io::Error),
}

/// A buffered byte stream that can be peeked into (for detection) and then consumed.
pub(crate) struct Source {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    ended: bool,
    failure: Option<io::Error>,
    gzip: bool,
}

impl Source {
    /// A source over a decoded stream.
    pub(crate) fn new(inner: Box<dyn Read + Send>, gzip: bool) -> Self {
        Self {
            inner,
            buf: vec![0; BUFFER_BYTES],
            start: 0,
            end: 0,
            ended: false,
            failure: None,
            gzip,
        }
    }

    /// The unread bytes in the buffer.
    pub(crate) fn buffer(&self) -> &[u8] {
        self.buf.get(self.start..self.end).unwrap_or_default()
    }

    /// Marks `n` buffered bytes as read.
    pub(crate) fn consume(&mut self, n: usize) {
        self.start = (self.start + n).min(self.end);
    }

    /// Makes sure the buffer holds unread bytes, reading more when it is empty.
    pub(crate) fn fill(&mut self) -> Fill {
        if self.start < self.end {
            return Fill::Data;
        }
        if let Some(err) = self.failure.take() {
            return Fill::Failed(err);
        }
        if self.ended {
            return Fill::End;
        }
        self.start = 0;
        self.end = 0;
        if self.buf.len() > 4 * BUFFER_BYTES {
            // A big peek window is not kept for the rest of the file.
            self.buf = vec![0; BUFFER_BYTES];
        }
        self.read_more();
        if self.start < self.end {
            Fill::Data
        } else if let Some(err) = self.failure.take() {
            Fill::Failed(err)
        } else {
            Fill::End
        }
    }

    /// Peeks at least `want` bytes (fewer only at the end of the stream or on a read error,
    /// which is then reported by the next [`Source::fill`] once the buffer is used up).
    pub(crate) fn peek(&mut self, want: usize) -> &[u8] {
        if self.end - self.start < want && !self.ended && self.failure.is_none() {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
            if self.buf.len() < want {
                self.buf.resize(want, 0);
            }
            while self.end < want && !self.ended && self.failure.is_none() {
                self.read_more();
            }
        }
        self.buffer()
    }

    /// Whether the stream has ended (or failed) and everything left is in the buffer.
    pub(crate) fn at_end(&self) -> bool {
        self.ended || self.failure.is_some()
    }

    /// Keeps a read error for the next [`Source::fill`] (detection hit it first).
    pub(crate) fn put_back_failure(&mut self, err: io::Error) {
        self.failure = Some(err);
    }

    /// Whether the stream is gzip-compressed (for error messages).
    pub(crate) fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// One read into the free tail of the buffer.
    fn read_more(&mut self) {
        loop {
            let Some(free) = self.buf.get_mut(self.end..) else {
                return;
            };
            if free.is_empty() {
                return;
            }
            match self.inner.read(free) {
                Ok(0) => self.ended = true,
                Ok(n) => self.end += n,
                Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
                Err(err) => self.failure = Some(err),
            }
            return;
        }
    }
}

impl Read for Source {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        match self.fill() {
            Fill::Data => {
                let available = self.buffer();
                let n = available.len().min(out.len());
                if let (Some(to), Some(from)) = (out.get_mut(..n), available.get(..n)) {
                    to.copy_from_slice(from);
                }
                self.consume(n);
                Ok(n)
            }
            Fill::End => Ok(0),
            Fill::Failed(err) => Err(err),
        }
    }
}

/// Says what went wrong when the stream broke off, in the user's terms.
pub(crate) fn describe_io(err: &io::Error, gzip: bool) -> String {
    match err.kind() {
        io::ErrorKind::UnexpectedEof if gzip => {
            "the gzip data ends early: the file is truncated (copy or download it again)"
                .to_string()
        }
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput if gzip => {
            format!("the gzip data is corrupt ({err}): copy or download the file again")
        }
        _ => format!("the file could not be read further ({err})"),
    }
}
