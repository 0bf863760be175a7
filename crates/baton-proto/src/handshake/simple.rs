//! The simple handshake packets of RTMP 1.0 section 5.2.3 (C1/S1: time,
//! zero, 1528 random bytes) and section 5.2.4 (C2/S2: time, time2, random
//! echo).

use super::{PACKET_LEN, Packet, Prng};

/// Offset of the random data in C1/S1 and of the random echo in C2/S2.
pub(super) const RANDOM_START: usize = 8;

/// A C1 or S1 of section 5.2.3: `time`, four zero bytes ("This field MUST be
/// all 0s"), then 1528 random bytes.
pub(super) fn write_plain(time: u32, rng: &mut Prng) -> Packet {
    let mut packet = [0u8; PACKET_LEN];
    let (head, random) = packet.split_at_mut(RANDOM_START);
    head[..4].copy_from_slice(&time.to_be_bytes());
    rng.fill(random);
    packet
}

/// A C2 or S2 of section 5.2.4 answering the peer's S1 or C1: its time
/// ("MUST contain the timestamp sent by the peer"), `time2` (when we read the
/// peer's packet) and its random data echoed.
pub(super) fn echo(peer: &Packet, time2: u32) -> Packet {
    let mut packet = *peer;
    packet[4..RANDOM_START].copy_from_slice(&time2.to_be_bytes());
    packet
}

/// Whether `answer` echoes the random data of `sent` ("Random echo ... MUST
/// contain the random data field sent by the peer"). The time fields are not
/// compared.
pub(super) fn echo_matches(sent: &Packet, answer: &Packet) -> bool {
    sent.get(RANDOM_START..) == answer.get(RANDOM_START..)
}

#[cfg(test)]
mod tests {
    use super::super::{DEFAULT_SEED, second_field, time_field};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn plain_packet_layout() {
        let mut rng = Prng::new(DEFAULT_SEED, 0);
        let p = write_plain(0x0102_0304, &mut rng);
        assert_eq!(&p[..8], &[1, 2, 3, 4, 0, 0, 0, 0]);
        assert_eq!(time_field(&p), 0x0102_0304);
        assert_eq!(second_field(&p), 0);
        // The random part is not all one value.
        assert!(p[8..].iter().any(|&b| b != p[8]));
        // A second packet from the same generator differs.
        let q = write_plain(0x0102_0304, &mut rng);
        assert_ne!(p[8..], q[8..]);
    }

    #[test]
    fn echo_rejects_a_changed_byte() {
        let mut rng = Prng::new(1, 2);
        let sent = write_plain(7, &mut rng);
        let mut answer = echo(&sent, 99);
        assert!(echo_matches(&sent, &answer));
        answer[PACKET_LEN - 1] ^= 1;
        assert!(!echo_matches(&sent, &answer));
    }

    proptest! {
        #[test]
        fn echo_round_trip(time: u32, time2: u32, seed: u64) {
            let mut rng = Prng::new(seed, 0);
            let sent = write_plain(time, &mut rng);
            let answer = echo(&sent, time2);
            prop_assert_eq!(time_field(&answer), time);
            prop_assert_eq!(second_field(&answer), time2);
            prop_assert!(echo_matches(&sent, &answer));
            let other = write_plain(time, &mut rng);
            prop_assert!(!echo_matches(&sent, &other));
        }
    }
}
