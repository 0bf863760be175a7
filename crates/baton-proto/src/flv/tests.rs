//! Tests of the FLV reader and writer: golden bytes, corrupt files, and
//! property tests (writer -> reader round trip, arbitrary input).

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use super::*;

const MAX: u32 = 1 << 20;

/// A small file by hand: header (audio+video), an audio tag of 2 bytes at
/// 0x01020304 ms (extended byte 0x01), a video tag of 0 bytes.
fn golden() -> Vec<u8> {
    let mut f = vec![b'F', b'L', b'V', 1, 0x05, 0, 0, 0, 9];
    f.extend([0, 0, 0, 0]); // PreviousTagSize0
    f.extend([8, 0, 0, 2, 0x02, 0x03, 0x04, 0x01, 0, 0, 0, 0xaf, 0x01]);
    f.extend([0, 0, 0, 13]);
    f.extend([9, 0, 0, 0, 0, 0, 0x10, 0, 0, 0, 0]);
    f.extend([0, 0, 0, 11]);
    f
}

#[test]
fn reads_golden_file() {
    let (header, tags) = FlvReader::read_all(&golden(), MAX).unwrap();
    assert_eq!(
        header,
        FlvHeader {
            has_audio: true,
            has_video: true
        }
    );
    assert_eq!(tags.len(), 2);
    assert_eq!(tags[0].tag_type, TagType::Audio);
    assert_eq!(tags[0].timestamp, Timestamp(0x0102_0304));
    assert_eq!(&tags[0].data[..], &[0xaf, 0x01]);
    assert_eq!(tags[1].tag_type, TagType::Video);
    assert_eq!(tags[1].timestamp, Timestamp(16));
    assert!(tags[1].data.is_empty());
}

#[test]
fn writes_golden_file() {
    let mut out = BytesMut::new();
    FlvWriter::header(
        &FlvHeader {
            has_audio: true,
            has_video: true,
        },
        &mut out,
    );
    let tags = [
        FlvTag {
            tag_type: TagType::Audio,
            timestamp: Timestamp(0x0102_0304),
            data: Bytes::from_static(&[0xaf, 0x01]),
        },
        FlvTag {
            tag_type: TagType::Video,
            timestamp: Timestamp(16),
            data: Bytes::new(),
        },
    ];
    for t in &tags {
        FlvWriter::tag(t, &mut out).unwrap();
    }
    assert_eq!(&out[..], &golden()[..]);
}

#[test]
fn header_flags() {
    for (flags, audio, video) in [(0u8, false, false), (4, true, false), (1, false, true)] {
        let mut buf = BytesMut::from(&[b'F', b'L', b'V', 1, flags, 0, 0, 0, 9][..]);
        let h = FlvReader::new(MAX).read_header(&mut buf).unwrap().unwrap();
        assert_eq!((h.has_audio, h.has_video), (audio, video));
        assert!(buf.is_empty());
        let mut out = BytesMut::new();
        FlvWriter::header(&h, &mut out);
        assert_eq!(out[4], flags);
    }
}

#[test]
fn missing_final_previous_tag_size_is_accepted() {
    let f = golden();
    let (_, tags) = FlvReader::read_all(&f[..f.len() - 4], MAX).unwrap();
    assert_eq!(tags.len(), 2);
}

#[test]
fn partial_final_previous_tag_size_is_truncated() {
    let f = golden();
    assert_eq!(
        FlvReader::read_all(&f[..f.len() - 2], MAX),
        Err(FlvError::Truncated)
    );
}

#[test]
fn truncated_tag_body_is_an_error() {
    let f = golden();
    // Cut inside the audio tag's data (header 9 + PTS0 4 + tag header 11 + 1).
    assert_eq!(FlvReader::read_all(&f[..25], MAX), Err(FlvError::Truncated));
    // Cut inside a tag header.
    assert_eq!(FlvReader::read_all(&f[..20], MAX), Err(FlvError::Truncated));
    // Cut inside the file header.
    assert_eq!(FlvReader::read_all(&f[..5], MAX), Err(FlvError::Truncated));
}

#[test]
fn bad_signature() {
    assert_eq!(
        FlvReader::read_all(b"FLX\x01\x05\x00\x00\x00\x09", MAX),
        Err(FlvError::NotFlv)
    );
    // Detected from the first byte, before the header is complete.
    let mut buf = BytesMut::from(&b"G"[..]);
    assert_eq!(
        FlvReader::new(MAX).read_header(&mut buf),
        Err(FlvError::NotFlv)
    );
    let mut buf = BytesMut::from(&b"FL"[..]);
    assert_eq!(FlvReader::new(MAX).read_header(&mut buf), Ok(None));
}

#[test]
fn bad_version_and_header_size() {
    let mut f = golden();
    f[3] = 2;
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::UnsupportedVersion(2))
    );
    let mut f = golden();
    f[8] = 8;
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::BadHeaderSize(8))
    );
    let mut f = golden();
    f[5..9].copy_from_slice(&(MAX_DATA_OFFSET + 1).to_be_bytes());
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::BadHeaderSize(MAX_DATA_OFFSET + 1))
    );
}

#[test]
fn larger_data_offset_is_skipped() {
    let g = golden();
    let mut f = g[..9].to_vec();
    f[8] = 12;
    f.extend([0xee, 0xee, 0xee]);
    f.extend(&g[9..]);
    let (_, tags) = FlvReader::read_all(&f, MAX).unwrap();
    assert_eq!(tags.len(), 2);
}

#[test]
fn bad_previous_tag_size() {
    let mut f = golden();
    f[9 + 4 + 13 + 3] = 14; // PreviousTagSize after the audio tag
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::PreviousTagSizeMismatch {
            expected: 13,
            found: 14
        })
    );
    let mut f = golden();
    f[12] = 1; // PreviousTagSize0
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::PreviousTagSizeMismatch {
            expected: 0,
            found: 1
        })
    );
    let mut f = golden();
    let n = f.len();
    f[n - 1] = 12; // the final one
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::PreviousTagSizeMismatch {
            expected: 11,
            found: 12
        })
    );
}

#[test]
fn oversized_tag_is_refused_before_its_data_arrives() {
    let mut buf = BytesMut::from(&golden()[..13 + 11][..]);
    let mut r = FlvReader::new(1);
    r.read_header(&mut buf).unwrap().unwrap();
    assert_eq!(
        r.read_tag(&mut buf),
        Err(FlvError::TagTooLarge { size: 2, max: 1 })
    );
}

#[test]
fn encrypted_tag_is_refused() {
    let mut f = golden();
    f[13] |= 0x20;
    let err = FlvReader::read_all(&f, MAX).unwrap_err();
    assert_eq!(err, FlvError::Encrypted);
    assert!(err.to_string().contains("encrypted"));
}

#[test]
fn unknown_tag_type_and_stream_id() {
    let mut f = golden();
    f[13] = 7;
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::UnknownTagType(7))
    );
    let mut f = golden();
    f[13 + 10] = 1;
    assert_eq!(
        FlvReader::read_all(&f, MAX),
        Err(FlvError::NonZeroStreamId(1))
    );
    // The reserved bits are ignored.
    let mut f = golden();
    f[13] |= 0xc0;
    assert!(FlvReader::read_all(&f, MAX).is_ok());
}

#[test]
fn incremental_reading_yields_each_tag_when_complete() {
    let f = golden();
    let mut r = FlvReader::new(MAX);
    let mut buf = BytesMut::new();
    let mut header = None;
    let mut tags = Vec::new();
    for &byte in &f {
        buf.extend_from_slice(&[byte]);
        if header.is_none() {
            header = r.read_header(&mut buf).unwrap();
            continue;
        }
        if let Some(t) = r.read_tag(&mut buf).unwrap() {
            tags.push(t);
        }
    }
    assert!(header.is_some());
    assert_eq!(tags.len(), 2);
    assert_eq!(buf.len(), 4);
    r.finish(&buf).unwrap();
}

#[test]
fn writer_refuses_oversized_data() {
    let tag = FlvTag {
        tag_type: TagType::Video,
        timestamp: Timestamp(0),
        data: Bytes::from(vec![0u8; 1 << 24]),
    };
    let mut out = BytesMut::new();
    assert_eq!(
        FlvWriter::tag(&tag, &mut out),
        Err(FlvError::DataTooLarge { size: 1 << 24 })
    );
    assert!(out.is_empty());
}

#[test]
fn tag_type_values() {
    for v in 0..32u8 {
        match TagType::from_u8(v) {
            Some(t) => assert_eq!(t.to_u8(), v),
            None => assert!(![8, 9, 18].contains(&v)),
        }
    }
}

fn tag_strategy() -> impl Strategy<Value = FlvTag> {
    (
        prop_oneof![
            Just(TagType::Audio),
            Just(TagType::Video),
            Just(TagType::Script)
        ],
        any::<u32>(),
        proptest::collection::vec(any::<u8>(), 0..200),
    )
        .prop_map(|(tag_type, ts, data)| FlvTag {
            tag_type,
            timestamp: Timestamp(ts),
            data: Bytes::from(data),
        })
}

proptest! {
    #[test]
    fn write_then_read_round_trips(
        has_audio: bool,
        has_video: bool,
        tags in proptest::collection::vec(tag_strategy(), 0..20),
        drop_last_size: bool,
    ) {
        let header = FlvHeader { has_audio, has_video };
        let mut out = BytesMut::new();
        FlvWriter::header(&header, &mut out);
        for t in &tags {
            FlvWriter::tag(t, &mut out).unwrap();
        }
        let mut file = out.to_vec();
        if drop_last_size && !tags.is_empty() {
            file.truncate(file.len() - 4);
        }
        let (h, read) = FlvReader::read_all(&file, MAX).unwrap();
        prop_assert_eq!(h, header);
        prop_assert_eq!(read, tags);
    }

    #[test]
    fn chunked_reading_matches_read_all(
        tags in proptest::collection::vec(tag_strategy(), 1..8),
        chunk in 1usize..40,
    ) {
        let mut out = BytesMut::new();
        FlvWriter::header(&FlvHeader::default(), &mut out);
        for t in &tags {
            FlvWriter::tag(t, &mut out).unwrap();
        }
        let mut r = FlvReader::new(MAX);
        let mut buf = BytesMut::new();
        let mut got = Vec::new();
        let mut header_done = false;
        for piece in out.chunks(chunk) {
            buf.extend_from_slice(piece);
            if !header_done {
                header_done = r.read_header(&mut buf).unwrap().is_some();
            }
            if header_done {
                while let Some(t) = r.read_tag(&mut buf).unwrap() {
                    got.push(t);
                }
            }
        }
        r.finish(&buf).unwrap();
        prop_assert_eq!(got, tags);
    }

    #[test]
    fn arbitrary_input_never_panics(
        data in proptest::collection::vec(any::<u8>(), 0..300),
        with_header: bool,
        chunk in 1usize..64,
    ) {
        let mut input = Vec::new();
        if with_header {
            input.extend([b'F', b'L', b'V', 1, 5, 0, 0, 0, 9, 0, 0, 0, 0]);
        }
        input.extend(&data);
        let _ = FlvReader::read_all(&input, 64);
        let mut r = FlvReader::new(64);
        let mut buf = BytesMut::new();
        let mut header_done = false;
        'feed: for piece in input.chunks(chunk) {
            buf.extend_from_slice(piece);
            if !header_done {
                match r.read_header(&mut buf) {
                    Ok(Some(_)) => header_done = true,
                    Ok(None) => continue,
                    Err(_) => break,
                }
            }
            loop {
                match r.read_tag(&mut buf) {
                    Ok(Some(t)) => prop_assert!(t.data.len() <= 64),
                    Ok(None) => break,
                    Err(_) => break 'feed,
                }
            }
        }
    }
}
