//! Audio and video tag headers: FLV (v10.1 annex E.4.2-E.4.3) and Enhanced RTMP v2.
