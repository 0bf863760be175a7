//! The wakers of the players waiting for a stream's next entry.
//!
//! A player that finds nothing to read registers its waker once (a second
//! poll before the next entry refreshes the same slot, so the list never
//! grows past the number of players); the publisher takes the whole list in
//! O(1) under the stream lock and wakes the players after releasing it.
//! Slots of players that leave are reused, so churn does not grow the list
//! either.

use std::task::Waker;

/// Where a player's waker sits: the list generation and its slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Registration(Option<(u64, usize)>);

/// The waiting players of one stream.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    /// Bumped every time the list is taken: older registrations are void.
    generation: u64,
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
}

impl Waiters {
    /// Registers (or refreshes) a player's waker.
    pub(crate) fn register(&mut self, registration: &mut Registration, waker: &Waker) {
        if let Some(Some(old)) = self.current(*registration) {
            old.clone_from(waker);
            return;
        }
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(waker.clone());
                index
            }
            None => {
                self.slots.push(Some(waker.clone()));
                self.slots.len() - 1
            }
        };
        *registration = Registration(Some((self.generation, index)));
    }

    /// Forgets a player's waker (the player leaves).
    pub(crate) fn unregister(&mut self, registration: &mut Registration) {
        let index = registration.0.map(|(_, index)| index);
        if let (Some(slot), Some(index)) = (self.current(*registration), index) {
            if slot.take().is_some() {
                self.free.push(index);
            }
        }
        *registration = Registration::default();
    }

    /// The slot of a registration of the current generation.
    fn current(&mut self, registration: Registration) -> Option<&mut Option<Waker>> {
        match registration.0 {
            Some((generation, index)) if generation == self.generation => self.slots.get_mut(index),
            _ => None,
        }
    }

    /// Moves every registered waker into `out` (a buffer the publisher
    /// reuses, so this allocates nothing once it has grown).
    pub(crate) fn take_all(&mut self, out: &mut Vec<Waker>) {
        if self.slots.is_empty() {
            return;
        }
        out.extend(self.slots.drain(..).flatten());
        self.free.clear();
        self.generation += 1;
    }

    /// Registered wakers (for tests and stats).
    pub(crate) fn len(&self) -> usize {
        self.slots.len() - self.free.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_slot_per_player_and_reuse_after_leaving() {
        let mut w = Waiters::default();
        let (mut a, mut b) = (Registration::default(), Registration::default());
        w.register(&mut a, Waker::noop());
        w.register(&mut a, Waker::noop());
        w.register(&mut b, Waker::noop());
        assert_eq!(w.len(), 2);
        w.unregister(&mut a);
        assert_eq!(w.len(), 1);
        let mut c = Registration::default();
        w.register(&mut c, Waker::noop());
        assert_eq!((w.len(), w.slots.len()), (2, 2), "the slot was reused");

        let mut out = Vec::new();
        w.take_all(&mut out);
        assert_eq!((out.len(), w.len()), (2, 0));
        // Old registrations are void after the list was taken.
        w.register(&mut b, Waker::noop());
        w.unregister(&mut c);
        assert_eq!(w.len(), 1);
        // Unregistering twice is harmless.
        w.unregister(&mut b);
        w.unregister(&mut b);
        assert_eq!(w.len(), 0);
    }
}
