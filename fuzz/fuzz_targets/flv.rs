//! FLV reader and media tag parsers: never panic on any file.
#![no_main]

use baton_proto::flv::{FlvReader, TagType};
use baton_proto::media::{AudioTag, VideoTag};
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok((_, tags)) = FlvReader::read_all(data, 1 << 20) {
        for tag in tags {
            match tag.tag_type {
                TagType::Video => {
                    let _ = VideoTag::parse(&tag.data);
                }
                TagType::Audio => {
                    let _ = AudioTag::parse(&tag.data);
                }
                TagType::Script => {}
            }
        }
    }
    let bytes = Bytes::copy_from_slice(data);
    let _ = VideoTag::parse(&bytes);
    let _ = AudioTag::parse(&bytes);
});
