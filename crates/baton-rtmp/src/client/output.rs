//! The bytes taken from the session and not yet written: a queue of
//! [`Bytes`] written with vectored writes. A partial write advances into the
//! front buffer; nothing is copied (media payloads reach the socket as the
//! session chunked them).

use std::collections::VecDeque;
use std::io::IoSlice;

use bytes::{Buf, Bytes};

/// Most buffers handed to one vectored write (Linux takes up to 1024; a few
/// dozen already fill a socket buffer).
pub(crate) const MAX_IOVECS: usize = 64;

/// Output waiting for the socket.
#[derive(Debug, Default)]
pub(crate) struct OutputQueue {
    chunks: VecDeque<Bytes>,
    len: usize,
}

impl OutputQueue {
    /// Appends bytes (empty ones are skipped).
    pub(crate) fn push(&mut self, bytes: Bytes) {
        if !bytes.is_empty() {
            self.len += bytes.len();
            self.chunks.push_back(bytes);
        }
    }

    /// Bytes queued.
    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Whether nothing is queued.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Fills `dst` with the first buffers, in order; returns how many.
    pub(crate) fn io_slices<'a>(&'a self, dst: &mut [IoSlice<'a>]) -> usize {
        let mut n = 0;
        for (slot, chunk) in dst.iter_mut().zip(&self.chunks) {
            *slot = IoSlice::new(chunk);
            n += 1;
        }
        n
    }

    /// Drops the first `n` bytes (what a write took).
    pub(crate) fn advance(&mut self, mut n: usize) {
        debug_assert!(n <= self.len, "advanced past the queued bytes");
        n = n.min(self.len);
        self.len -= n;
        while n > 0 {
            let Some(front) = self.chunks.front_mut() else {
                break;
            };
            if n < front.len() {
                front.advance(n);
                break;
            }
            n -= front.len();
            self.chunks.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn drain_with_writes_of(queue: &mut OutputQueue, step: usize) -> Vec<u8> {
        let mut written = Vec::new();
        while !queue.is_empty() {
            let mut slices = [IoSlice::new(&[]); 3];
            let n = queue.io_slices(&mut slices);
            // A writer that takes at most `step` bytes across the slices.
            let mut took = 0;
            for slice in &slices[..n] {
                let take = slice.len().min(step - took);
                written.extend_from_slice(&slice[..take]);
                took += take;
                if took == step {
                    break;
                }
            }
            queue.advance(took);
        }
        written
    }

    #[test]
    fn partial_writes_keep_order_and_bytes() {
        let parts: Vec<Vec<u8>> = (0..7u8).map(|i| vec![i; usize::from(i) * 5 + 1]).collect();
        let expected: Vec<u8> = parts.concat();
        for step in [1, 2, 3, 7, 16, 1000] {
            let mut queue = OutputQueue::default();
            for part in &parts {
                queue.push(Bytes::from(part.clone()));
            }
            queue.push(Bytes::new());
            assert_eq!(queue.len(), expected.len());
            assert_eq!(
                drain_with_writes_of(&mut queue, step),
                expected,
                "step {step}"
            );
            assert_eq!(queue.len(), 0);
        }
    }

    #[test]
    fn slices_point_into_the_queued_buffers() {
        let payload = Bytes::from(vec![9u8; 100]);
        let mut queue = OutputQueue::default();
        queue.push(payload.clone());
        queue.advance(10);
        let mut slices = [IoSlice::new(&[]); MAX_IOVECS];
        assert_eq!(queue.io_slices(&mut slices), 1);
        // No copy: the slice is the payload's own memory, 10 bytes in.
        assert_eq!(slices[0].as_ptr(), payload[10..].as_ptr());
        assert_eq!(slices[0].len(), 90);
    }
}
