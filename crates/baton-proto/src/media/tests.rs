//! Tests of the media tag headers: golden bytes from the FLV v10.1 and
//! Enhanced RTMP v2 layouts, error cases, and property tests.

mod audio;
mod metadata;
mod props;
mod video;

use bytes::Bytes;

/// Concatenates byte pieces into a payload.
fn cat(pieces: &[&[u8]]) -> Bytes {
    Bytes::from(pieces.concat())
}
