//! The RTMP handshake (RTMP 1.0 section 5.2).
