//! The chunk stream (RTMP 1.0 section 5.3).
