//! FLV input for `baton publish`: a file or standard input, read
//! incrementally through the sans-IO [`FlvReader`] (a tag is handed on as
//! soon as its last byte arrives; nothing waits for the whole input).

use std::fmt;
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use baton_proto::flv::{FlvHeader, FlvReader, FlvTag};
use bytes::BytesMut;
use tokio::io::{AsyncRead, AsyncReadExt};

/// The largest tag accepted: the most the 24-bit DataSize can say.
pub(crate) const MAX_TAG_SIZE: u32 = 0x00ff_ffff;

/// How much to read from the input at a time.
const READ_SIZE: usize = 64 * 1024;

/// Where the FLV comes from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Input {
    /// Standard input (`-`).
    Stdin,
    /// A file.
    File(PathBuf),
}

impl Input {
    /// `-` is standard input; anything else a file path.
    pub(crate) fn from_arg(arg: &str) -> Input {
        if arg == "-" {
            Input::Stdin
        } else {
            Input::File(PathBuf::from(arg))
        }
    }

    /// Whether the input can be read again from its start (for `--loop`).
    pub(crate) fn can_rewind(&self) -> bool {
        matches!(self, Input::File(_))
    }

    /// Opens the input and reads its FLV header.
    pub(crate) async fn open(&self) -> Result<FlvSource<Box<dyn AsyncRead + Send + Unpin>>> {
        let io: Box<dyn AsyncRead + Send + Unpin> = match self {
            Input::Stdin => Box::new(tokio::io::stdin()),
            Input::File(path) => Box::new(
                tokio::fs::File::open(path)
                    .await
                    .with_context(|| format!("cannot open {}", path.display()))?,
            ),
        };
        FlvSource::open(io, self.to_string()).await
    }
}

impl fmt::Display for Input {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Input::Stdin => f.write_str("standard input"),
            Input::File(path) => write!(f, "{}", path.display()),
        }
    }
}

/// FLV tags read from a byte stream.
#[derive(Debug)]
pub(crate) struct FlvSource<R> {
    io: R,
    name: String,
    buf: BytesMut,
    reader: FlvReader,
    header: FlvHeader,
    done: bool,
}

impl<R: AsyncRead + Unpin> FlvSource<R> {
    /// Reads the FLV header from `io`; `name` is what errors call it.
    pub(crate) async fn open(io: R, name: String) -> Result<Self> {
        let mut source = FlvSource {
            io,
            name,
            buf: BytesMut::with_capacity(READ_SIZE),
            reader: FlvReader::new(MAX_TAG_SIZE),
            header: FlvHeader::default(),
            done: false,
        };
        loop {
            let parsed = source.reader.read_header(&mut source.buf);
            match parsed.with_context(|| source.name.clone())? {
                Some(header) => {
                    source.header = header;
                    return Ok(source);
                }
                None => {
                    if source.fill().await? == 0 {
                        return Err(anyhow!(
                            "{}: not an FLV file (empty or cut short)",
                            source.name
                        ));
                    }
                }
            }
        }
    }

    /// The header's flags.
    pub(crate) fn header(&self) -> FlvHeader {
        self.header
    }

    /// The next tag; `None` at the end of the input. Cancel safe: bytes
    /// already read stay in the buffer.
    pub(crate) async fn next_tag(&mut self) -> Result<Option<FlvTag>> {
        loop {
            if self.done {
                return Ok(None);
            }
            let tag = self.reader.read_tag(&mut self.buf);
            if let Some(tag) = tag.with_context(|| self.name.clone())? {
                return Ok(Some(tag));
            }
            if self.fill().await? == 0 {
                self.done = true;
                self.reader
                    .finish(&self.buf)
                    .with_context(|| format!("{} ends in the middle of a tag", self.name))?;
                return Ok(None);
            }
        }
    }

    async fn fill(&mut self) -> Result<usize> {
        self.buf.reserve(READ_SIZE);
        self.io
            .read_buf(&mut self.buf)
            .await
            .with_context(|| format!("cannot read {}", self.name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_proto::Timestamp;
    use baton_proto::flv::{FlvWriter, TagType};
    use bytes::Bytes;

    fn flv(tags: &[FlvTag]) -> BytesMut {
        let mut out = BytesMut::new();
        FlvWriter::header(
            &FlvHeader {
                has_audio: true,
                has_video: true,
            },
            &mut out,
        );
        for t in tags {
            FlvWriter::tag(t, &mut out).unwrap();
        }
        out
    }

    fn tag(tag_type: TagType, ts: u32, data: &'static [u8]) -> FlvTag {
        FlvTag {
            tag_type,
            timestamp: Timestamp(ts),
            data: Bytes::from_static(data),
        }
    }

    #[tokio::test]
    async fn reads_tags_as_they_trickle_in() {
        let tags = vec![
            tag(TagType::Video, 0, &[0x17, 0, 0, 0, 0]),
            tag(TagType::Audio, 23, &[0xaf, 1, 9]),
        ];
        let bytes = flv(&tags);
        // A pipe that delivers three bytes at a time.
        let (mut tx, rx) = tokio::io::duplex(3);
        let writer = tokio::spawn(async move {
            use tokio::io::AsyncWriteExt;
            tx.write_all(&bytes).await.unwrap();
        });
        let read = async {
            let mut src = FlvSource::open(rx, "pipe".into()).await.unwrap();
            assert!(src.header().has_video);
            let mut got = Vec::new();
            while let Some(t) = src.next_tag().await.unwrap() {
                got.push(t);
            }
            got
        };
        let got = tokio::time::timeout(std::time::Duration::from_secs(5), read)
            .await
            .unwrap();
        writer.await.unwrap();
        assert_eq!(got, tags);
    }

    #[tokio::test]
    async fn names_the_input_in_errors() {
        let err = FlvSource::open(&b"GIF89a......"[..], "x.gif".into())
            .await
            .unwrap_err();
        assert_eq!(format!("{err:#}"), "x.gif: not an FLV file: bad signature");
        let err = FlvSource::open(&b""[..], "empty.flv".into())
            .await
            .unwrap_err();
        assert!(format!("{err:#}").contains("empty.flv: not an FLV file"));

        let mut cut = flv(&[tag(TagType::Video, 0, &[0x17, 0, 0, 0, 0])]);
        cut.truncate(cut.len() - 6);
        let mut src = FlvSource::open(&cut[..], "cut.flv".into()).await.unwrap();
        let err = src.next_tag().await.unwrap_err();
        assert!(
            format!("{err:#}").starts_with("cut.flv ends in the middle of a tag"),
            "{err:#}"
        );
    }

    #[tokio::test]
    async fn a_missing_file_is_one_clear_error() {
        let input = Input::from_arg("/nonexistent/baton-test.flv");
        let err = input.open().await.err().unwrap();
        let msg = format!("{err:#}");
        assert!(
            msg.starts_with("cannot open /nonexistent/baton-test.flv: "),
            "{msg}"
        );
        assert!(!msg.contains('\n'));
    }
}
