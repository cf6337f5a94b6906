//! Transport layer: go-plugin's MuxBroker ids for one connection.
//!
//! `Dispenser.Dispense` hands out the next id; the host then opens a yamux
//! stream and writes that id as 4 bytes little-endian. We echo the 4 bytes
//! only for an id we handed out in the last [`BROKER_WAIT`] (Go's plugin side
//! waits 5 s for the stream, then forgets the id), and only once.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a dispensed id waits for its stream (Go's `MuxBroker.Accept` timeout).
pub const BROKER_WAIT: Duration = Duration::from_secs(5);

/// Most ids handed out but not yet claimed; further `Dispense` calls fail
/// until streams arrive or ids expire (bounds memory against a looping host).
pub const MAX_PENDING_IDS: usize = 64;

/// Why an id could not be handed out.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BrokerError {
    /// Too many dispensed ids are still waiting for their stream.
    #[error("too many dispensed plugins ({MAX_PENDING_IDS}) are waiting for their broker stream")]
    TooManyPending,
    /// The per-connection id counter ran out.
    #[error("broker ids exhausted")]
    Exhausted,
}

/// The per-connection id counter and the ids waiting for a stream.
#[derive(Debug)]
pub(crate) struct Broker {
    state: Mutex<State>,
}

#[derive(Debug)]
struct State {
    next: u32,
    pending: HashMap<u32, Instant>,
}

impl Broker {
    /// A broker whose first id is 1, like Go's.
    pub(crate) fn new() -> Broker {
        Broker {
            state: Mutex::new(State {
                next: 1,
                pending: HashMap::new(),
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent across a panic elsewhere (plain inserts/removes).
        match self.state.lock() {
            Ok(g) => g,
            Err(p) => p.into_inner(),
        }
    }

    /// Allocates the next id and starts its [`BROKER_WAIT`].
    pub(crate) fn dispense(&self, now: Instant) -> Result<u32, BrokerError> {
        let mut st = self.lock();
        st.pending
            .retain(|_, since| now.duration_since(*since) < BROKER_WAIT);
        if st.pending.len() >= MAX_PENDING_IDS {
            return Err(BrokerError::TooManyPending);
        }
        let id = st.next;
        st.next = id.checked_add(1).ok_or(BrokerError::Exhausted)?;
        st.pending.insert(id, now);
        Ok(id)
    }

    /// True (once) if `id` was handed out less than [`BROKER_WAIT`] ago.
    pub(crate) fn claim(&self, id: u32, now: Instant) -> bool {
        let mut st = self.lock();
        match st.pending.remove(&id) {
            Some(since) => now.duration_since(since) < BROKER_WAIT,
            None => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_count_from_one_and_claim_once() {
        let b = Broker::new();
        let t = Instant::now();
        assert_eq!(b.dispense(t), Ok(1));
        assert_eq!(b.dispense(t), Ok(2));
        let cases = [(2, true), (2, false), (1, true), (3, false), (0, false)];
        for (id, want) in cases {
            assert_eq!(b.claim(id, t), want, "id {id}");
        }
    }

    #[test]
    fn ids_expire_after_the_wait() {
        let b = Broker::new();
        let t = Instant::now();
        let id = b.dispense(t).unwrap();
        assert!(!b.claim(id, t + BROKER_WAIT));
        let id = b.dispense(t).unwrap();
        assert!(b.claim(id, t + BROKER_WAIT - Duration::from_millis(1)));
    }

    #[test]
    fn pending_ids_are_bounded() {
        let b = Broker::new();
        let t = Instant::now();
        for _ in 0..MAX_PENDING_IDS {
            b.dispense(t).unwrap();
        }
        assert_eq!(b.dispense(t), Err(BrokerError::TooManyPending));
        // Once they expire, dispensing works again.
        assert!(b.dispense(t + BROKER_WAIT).is_ok());
    }
}
