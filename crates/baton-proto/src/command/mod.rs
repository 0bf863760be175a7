//! NetConnection and NetStream commands (RTMP 1.0 section 7.2).
