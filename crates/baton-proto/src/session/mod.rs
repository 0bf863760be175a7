//! Server and client sessions (RTMP 1.0 section 7).
