//! Limits on everything a peer controls.
//!
//! Every length and count read from the wire is checked against one of these
//! before anything is allocated. The defaults are safe for a public server and
//! generous enough for every real encoder; all of them can be changed.

/// Limits for AMF0 and AMF3 decoding.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AmfLimits {
    /// Deepest nesting of objects, arrays and other containers.
    pub max_depth: usize,
    /// Longest string, XML document or byte array, in bytes. In AMF3 the
    /// string bytes that references copy out of the string table also count
    /// against it, together, for one top-level value (so one long string
    /// referenced many times cannot expand without bound).
    pub max_string_len: usize,
    /// Most values (of any kind, counting every element of every container)
    /// one decoded top-level value may hold, references expanded included.
    pub max_elements: usize,
    /// Most entries in each AMF3 reference table (strings, objects, traits).
    pub max_references: usize,
}

impl Default for AmfLimits {
    fn default() -> Self {
        AmfLimits {
            max_depth: 32,
            max_string_len: 1 << 20,
            max_elements: 1 << 16,
            max_references: 1 << 16,
        }
    }
}

/// Limits for the chunk stream layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ChunkLimits {
    /// Largest message (its declared length) accepted from the peer.
    pub max_message_size: u32,
    /// Most chunk streams the peer may have open (with header state) at once.
    pub max_chunk_streams: usize,
    /// Most bytes held in partly received messages, over all chunk streams.
    pub max_pending_bytes: usize,
}

impl Default for ChunkLimits {
    fn default() -> Self {
        ChunkLimits {
            max_message_size: 16 << 20,
            max_chunk_streams: 64,
            max_pending_bytes: 64 << 20,
        }
    }
}

/// All limits of the protocol layer.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Chunk stream limits.
    pub chunk: ChunkLimits,
    /// AMF decoding limits.
    pub amf: AmfLimits,
    /// Most sub-messages in one aggregate message.
    pub max_aggregate_messages: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            chunk: ChunkLimits::default(),
            amf: AmfLimits::default(),
            max_aggregate_messages: 4096,
        }
    }
}
