//! The Flash "digest" handshake, an extension of RTMP 1.0 section 5.2 that
//! the Adobe spec does not describe but Flash Player, FMS, FFmpeg,
//! OBS/librtmp and Wowza use.
//!
//! C1 and S1 keep the layout of section 5.2.3 (time, 4 bytes, 1528 bytes),
//! but the second field holds a nonzero Flash version and the 1528 bytes hide
//! a 32-byte HMAC-SHA256 digest of the other 1504 bytes, at an offset given
//! by one of two layouts ([`DigestSchema`]). The digest of C1 is keyed with
//! the first 30 bytes of the Genuine Flash Player key, the digest of S1 with
//! the first 36 bytes of the Genuine FMS key.
//!
//! C2 and S2 are 1504 random bytes followed by HMAC-SHA256 of those bytes,
//! keyed by HMAC-SHA256(peer's C1/S1 digest) under the full key of the
//! answering side (S2: the 68-byte FMS key; C2: the 62-byte Flash Player
//! key).

use hmac::{Hmac, Mac};
use sha2::Sha256;

use super::{PACKET_LEN, Packet, Prng};

/// Length of a digest and of a signature.
pub(super) const DIGEST_LEN: usize = 32;

/// Length of the signed part of a digest C2/S2.
pub(super) const SIGNED_LEN: usize = PACKET_LEN - DIGEST_LEN;

/// The 32 bytes that follow the text of both Genuine keys.
const KEY_TAIL: [u8; 32] = [
    0xF0, 0xEE, 0xC2, 0x4A, 0x80, 0x68, 0xBE, 0xE8, 0x2E, 0x00, 0xD0, 0xD1, 0x02, 0x9E, 0x7E, 0x57,
    0x6E, 0xEC, 0x5D, 0x2D, 0x29, 0x80, 0x6F, 0xAB, 0x93, 0xB8, 0xE6, 0x36, 0xCF, 0xEB, 0x31, 0xAE,
];

/// The full Genuine Flash Player key (62 bytes): signs C2.
pub(super) const FP_KEY: [u8; 62] = join(b"Genuine Adobe Flash Player 001", &KEY_TAIL);

/// The full Genuine FMS key (68 bytes): signs S2.
pub(super) const FMS_KEY: [u8; 68] = join(b"Genuine Adobe Flash Media Server 001", &KEY_TAIL);

/// The first 30 bytes of the Flash Player key: the key of C1's digest.
pub(super) const FP_KEY_C1: &[u8] = FP_KEY.split_at(30).0;

/// The first 36 bytes of the FMS key: the key of S1's digest.
pub(super) const FMS_KEY_S1: &[u8] = FMS_KEY.split_at(36).0;

/// `a` followed by `b`, at compile time (fails to compile unless
/// `A + B == C`).
const fn join<const A: usize, const B: usize, const C: usize>(a: &[u8; A], b: &[u8; B]) -> [u8; C] {
    assert!(A + B == C, "key lengths do not add up");
    let mut out = [0u8; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < C {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// Where the 32-byte digest sits in a digest C1 or S1.
///
/// Each layout splits the 1528 random bytes into two 764-byte blocks, a
/// "key" block and a "digest" block; four bytes at the start of the digest
/// block give the digest's offset: (sum of those four bytes) % 728 + the
/// block's start + 4.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DigestSchema {
    /// Schema 0, "key first": the digest block is bytes 772..1536; its
    /// offset comes from bytes 772..776 (offset = sum % 728 + 776).
    KeyFirst,
    /// Schema 1, "digest first" (what FFmpeg and librtmp clients send): the
    /// digest block is bytes 8..772; its offset comes from bytes 8..12
    /// (offset = sum % 728 + 12).
    DigestFirst,
}

impl DigestSchema {
    /// Both schemas, in the order a packet is checked against them.
    pub const ALL: [DigestSchema; 2] = [DigestSchema::DigestFirst, DigestSchema::KeyFirst];

    /// Start of the four bytes that give the digest's offset.
    const fn offset_field(self) -> usize {
        match self {
            DigestSchema::KeyFirst => 772,
            DigestSchema::DigestFirst => 8,
        }
    }

    /// Offset of the digest in `packet` under this schema: at most
    /// 727 + 776 = 1503, so the digest always fits in the packet.
    pub(super) fn digest_offset(self, packet: &Packet) -> usize {
        let field = self.offset_field();
        let sum: usize = packet
            .iter()
            .skip(field)
            .take(4)
            .map(|&b| usize::from(b))
            .sum();
        sum % 728 + field + 4
    }
}

/// HMAC-SHA256 of the concatenation of `parts` under `key`.
pub(super) fn hmac_sha256(key: &[u8], parts: &[&[u8]]) -> [u8; DIGEST_LEN] {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(key).expect("HMAC-SHA256 accepts keys of any length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

/// The packet without the 32 bytes at `offset`: (before, after).
fn around(packet: &Packet, offset: usize) -> (&[u8], &[u8]) {
    let before = packet.get(..offset).unwrap_or_default();
    let after = packet.get(offset + DIGEST_LEN..).unwrap_or_default();
    (before, after)
}

/// The digest `packet` should carry at `offset`: HMAC-SHA256 of the other
/// 1504 bytes under `key`.
pub(super) fn compute_digest(packet: &Packet, offset: usize, key: &[u8]) -> [u8; DIGEST_LEN] {
    let (before, after) = around(packet, offset);
    hmac_sha256(key, &[before, after])
}

/// Compares two byte strings without an early exit.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Looks for a valid digest keyed by `key` under either schema; returns the
/// schema and the digest.
pub(super) fn find_digest(packet: &Packet, key: &[u8]) -> Option<(DigestSchema, [u8; DIGEST_LEN])> {
    DigestSchema::ALL.into_iter().find_map(|schema| {
        let offset = schema.digest_offset(packet);
        let expected = compute_digest(packet, offset, key);
        let found = packet.get(offset..offset + DIGEST_LEN)?;
        constant_time_eq(found, &expected).then_some((schema, expected))
    })
}

/// A digest C1 or S1: `time`, `version`, random bytes with a digest keyed
/// by `key` placed under `schema`. Returns the packet and its digest.
pub(super) fn write_digest_packet(
    time: u32,
    version: u32,
    schema: DigestSchema,
    key: &[u8],
    rng: &mut Prng,
) -> (Packet, [u8; DIGEST_LEN]) {
    let mut packet = [0u8; PACKET_LEN];
    let (head, random) = packet.split_at_mut(8);
    head[..4].copy_from_slice(&time.to_be_bytes());
    head[4..].copy_from_slice(&version.to_be_bytes());
    rng.fill(random);
    let offset = schema.digest_offset(&packet);
    let digest = compute_digest(&packet, offset, key);
    if let Some(slot) = packet.get_mut(offset..offset + DIGEST_LEN) {
        slot.copy_from_slice(&digest);
    }
    (packet, digest)
}

/// The key a digest C2/S2 is signed with: HMAC-SHA256 of the peer's C1/S1
/// digest under the full key of the answering side.
pub(super) fn response_key(peer_digest: &[u8; DIGEST_LEN], full_key: &[u8]) -> [u8; DIGEST_LEN] {
    hmac_sha256(full_key, &[peer_digest])
}

/// A digest C2 or S2: 1504 random bytes, then their HMAC-SHA256 under `key`
/// (from [`response_key`]).
pub(super) fn write_response(key: &[u8; DIGEST_LEN], rng: &mut Prng) -> Packet {
    let mut packet = [0u8; PACKET_LEN];
    let (signed, signature) = packet.split_at_mut(SIGNED_LEN);
    rng.fill(signed);
    signature.copy_from_slice(&hmac_sha256(key, &[signed]));
    packet
}

/// Whether a digest C2 or S2 carries the right signature for `key`.
pub(super) fn verify_response(packet: &Packet, key: &[u8; DIGEST_LEN]) -> bool {
    let (signed, signature) = packet.split_at(SIGNED_LEN);
    constant_time_eq(signature, &hmac_sha256(key, &[signed]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn keys_have_the_documented_lengths_and_text() {
        assert_eq!(FP_KEY.len(), 62);
        assert_eq!(FMS_KEY.len(), 68);
        assert_eq!(FP_KEY_C1, b"Genuine Adobe Flash Player 001");
        assert_eq!(FMS_KEY_S1, b"Genuine Adobe Flash Media Server 001");
        assert_eq!(&FP_KEY[30..], &KEY_TAIL);
        assert_eq!(&FMS_KEY[36..], &KEY_TAIL);
    }

    /// Golden vector. Expected value produced independently with Python:
    /// `python3 -c 'import hmac,hashlib; buf=bytes((i*31+7)&0xff for i in
    /// range(1504)); print(hmac.new(b"Genuine Adobe Flash Player 001", buf,
    /// hashlib.sha256).hexdigest())'`
    #[test]
    fn golden_hmac_with_the_30_byte_flash_player_key() {
        let buf: Vec<u8> = (0..1504u32).map(|i| (i * 31 + 7) as u8).collect();
        assert_eq!(
            hex(&hmac_sha256(FP_KEY_C1, &[&buf])),
            "41496c68249f752bce65e48fa820a418d6422e07dd1dbdb0897990224f36cc77"
        );
    }

    /// Golden vector for the S2 signature. Produced with Python:
    /// `k = hmac.new(b"Genuine Adobe Flash Media Server 001" + tail,
    /// bytes(range(32)), sha256).digest(); hmac.new(k, buf, sha256)` with
    /// `tail` the 32 key bytes and `buf` as in the test above.
    #[test]
    fn golden_response_signature_with_the_68_byte_fms_key() {
        let buf: Vec<u8> = (0..1504u32).map(|i| (i * 31 + 7) as u8).collect();
        let peer_digest: [u8; 32] = core::array::from_fn(|i| i as u8);
        let key = response_key(&peer_digest, &FMS_KEY);
        assert_eq!(
            hex(&hmac_sha256(&key, &[&buf])),
            "9a2159a2c0975e7b4baf594acbee7a063fce124388d0ea899ae5b5b28e6c45c6"
        );
    }

    /// Golden offsets and digests of both layouts. Produced with Python:
    /// `p = bytes((i*13+5)&0xff for i in range(1536)); o1 = sum(p[8:12])%728+12;
    /// o0 = sum(p[772:776])%728+776; hmac.new(fp30, p[:o]+p[o+32:], sha256)`.
    #[test]
    fn golden_digest_layouts() {
        let packet: Packet = core::array::from_fn(|i| (i * 13 + 5) as u8);
        let first = DigestSchema::DigestFirst.digest_offset(&packet);
        let key_first = DigestSchema::KeyFirst.digest_offset(&packet);
        assert_eq!((first, key_first), (526, 1082));
        assert_eq!(
            hex(&compute_digest(&packet, first, FP_KEY_C1)),
            "7e6f85c455e15ff4eb5cb45c1286d44f8281407834d1cba29e8930a673fb673b"
        );
        assert_eq!(
            hex(&compute_digest(&packet, key_first, FP_KEY_C1)),
            "432a591aa258314f77918346a22e0453aeac9819d05d6c0fe2d22606fd6c8a6c"
        );
    }

    #[test]
    fn offsets_stay_inside_their_blocks() {
        let mut packet = [0u8; PACKET_LEN];
        assert_eq!(DigestSchema::DigestFirst.digest_offset(&packet), 12);
        assert_eq!(DigestSchema::KeyFirst.digest_offset(&packet), 776);
        packet[8..12].fill(0xff);
        packet[772..776].fill(0xff);
        // 1020 % 728 = 292
        assert_eq!(DigestSchema::DigestFirst.digest_offset(&packet), 304);
        assert_eq!(DigestSchema::KeyFirst.digest_offset(&packet), 1068);
        for sum in 0..=1020usize {
            let mut p = [0u8; PACKET_LEN];
            let mut left = sum;
            for i in 0..4 {
                let b = left.min(255);
                p[8 + i] = b as u8;
                p[772 + i] = b as u8;
                left -= b;
            }
            let d = DigestSchema::DigestFirst.digest_offset(&p);
            let k = DigestSchema::KeyFirst.digest_offset(&p);
            assert!((12..=739).contains(&d) && d + DIGEST_LEN <= 772, "{d}");
            assert!(
                (776..=1503).contains(&k) && k + DIGEST_LEN <= PACKET_LEN,
                "{k}"
            );
        }
    }

    #[test]
    fn tampered_digest_is_not_found() {
        let mut rng = Prng::new(5, 6);
        for schema in DigestSchema::ALL {
            let (mut p, digest) = write_digest_packet(1, 0x8000_0702, schema, FP_KEY_C1, &mut rng);
            assert_eq!(find_digest(&p, FP_KEY_C1), Some((schema, digest)));
            // Wrong key: not found.
            assert_eq!(find_digest(&p, FMS_KEY_S1), None);
            // A flipped byte outside the offset fields breaks the digest.
            let at = if schema == DigestSchema::DigestFirst {
                1000
            } else {
                100
            };
            p[at] ^= 0x40;
            assert_eq!(find_digest(&p, FP_KEY_C1), None);
        }
    }

    #[test]
    fn response_signature_fails_on_any_change() {
        let mut rng = Prng::new(9, 9);
        let key = response_key(&[7; 32], &FP_KEY);
        let mut p = write_response(&key, &mut rng);
        assert!(verify_response(&p, &key));
        assert!(!verify_response(&p, &response_key(&[8; 32], &FP_KEY)));
        p[0] ^= 1;
        assert!(!verify_response(&p, &key));
    }

    proptest! {
        #[test]
        fn digest_packet_round_trip(seed: u64, time: u32, version: u32, key_first: bool, fms: bool) {
            let schema = if key_first { DigestSchema::KeyFirst } else { DigestSchema::DigestFirst };
            let key = if fms { FMS_KEY_S1 } else { FP_KEY_C1 };
            let mut rng = Prng::new(seed, 0);
            let (p, digest) = write_digest_packet(time, version, schema, key, &mut rng);
            prop_assert_eq!(super::super::time_field(&p), time);
            prop_assert_eq!(super::super::second_field(&p), version);
            let offset = schema.digest_offset(&p);
            prop_assert_eq!(&p[offset..offset + DIGEST_LEN], &digest[..]);
            // A random packet could validate under the other schema only by
            // an HMAC collision, so the schema found is the one written.
            prop_assert_eq!(find_digest(&p, key), Some((schema, digest)));
        }

        #[test]
        fn response_round_trip(seed: u64, peer_digest: [u8; 32], fms: bool) {
            let full: &[u8] = if fms { &FMS_KEY } else { &FP_KEY };
            let key = response_key(&peer_digest, full);
            let mut rng = Prng::new(seed, 1);
            let p = write_response(&key, &mut rng);
            prop_assert!(verify_response(&p, &key));
        }

        #[test]
        fn arbitrary_packets_never_panic(bytes in proptest::collection::vec(any::<u8>(), PACKET_LEN)) {
            let p: Packet = bytes.as_slice().try_into().unwrap();
            let _ = find_digest(&p, FP_KEY_C1);
            let _ = verify_response(&p, &[0; 32]);
        }
    }
}
