//! The wakers of the players waiting for a stream's next entry.
//!
//! A player that finds nothing to read registers its waker once (a second
//! poll before the next entry refreshes the same slot, so the list never
//! grows past the number of players); the publisher takes the whole list in
//! O(1) under the stream lock and wakes the players after releasing it.
//! Slots of players that leave are reused, so churn does not grow the list
//! either.
//!
//! The list's generation is also readable without the lock: a player whose
//! registration is of the current generation has not been woken since it
//! registered, so nothing was published for it and it may stay parked
//! without taking the lock at all.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Waker;

/// Where a player's waker sits: the list generation and its slot.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Registration(Option<(u64, usize)>);

impl Registration {
    /// The generation of the list it was made in.
    pub(crate) fn generation(self) -> Option<u64> {
        self.0.map(|(generation, _)| generation)
    }
}

/// The list's generation, shared with the players (read without the lock).
#[derive(Clone, Debug, Default)]
pub(crate) struct Generation(Arc<AtomicU64>);

impl Generation {
    /// The current generation: a registration of an older one was woken.
    pub(crate) fn current(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The waiting players of one stream.
#[derive(Debug, Default)]
pub(crate) struct Waiters {
    /// Bumped every time the list is taken: older registrations are void.
    generation: Generation,
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
        *registration = Registration(Some((self.generation.current(), index)));
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
            Some((generation, index)) if generation == self.generation.current() => {
                self.slots.get_mut(index)
            }
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
        // (Under the stream lock; Release pairs with the players' Acquire:
        // a player that sees the new generation sees what was published.)
        self.generation.0.fetch_add(1, Ordering::Release);
    }

    /// The generation, for reading without the lock.
    pub(crate) fn generation(&self) -> Generation {
        self.generation.clone()
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
