//! The FLV file format (Adobe "Video File Format Specification" v10.1, annex E).
