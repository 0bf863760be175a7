//! RTMP messages (RTMP 1.0 sections 5.4, 6 and 7.1).
