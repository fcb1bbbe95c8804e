//! The WebSocket connections each token holds open, across the process: a token may
//! hold at most so many (see [`crate::socket::Limits`]); a connection gives its seat
//! back when it ends.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

/// The connections open per token.
#[derive(Debug, Default)]
pub struct Seats {
    open: Mutex<HashMap<String, usize>>,
}

/// One open connection's place among its token's; given back when dropped (with the
/// connection's data, when the connection ends).
#[derive(Debug)]
pub struct Seat {
    seats: Arc<Seats>,
    token: String,
}

impl Seats {
    /// A place for a connection of `token`, unless it holds `most` already.
    pub fn take(self: &Arc<Self>, token: &str, most: usize) -> Option<Seat> {
        let mut open = self.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let count = open.entry(token.to_owned()).or_default();
        if *count >= most {
            return None;
        }
        *count += 1;
        Some(Seat { seats: Arc::clone(self), token: token.to_owned() })
    }
}

impl Drop for Seat {
    fn drop(&mut self) {
        let mut open = self.seats.open.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(count) = open.get_mut(&self.token) {
            *count = count.saturating_sub(1);
            if *count == 0 {
                open.remove(&self.token);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_holds_at_most_its_seats_and_gets_them_back() {
        let seats = Arc::new(Seats::default());
        let first = seats.take("t", 2).expect("first");
        let _second = seats.take("t", 2).expect("second");
        assert!(seats.take("t", 2).is_none());
        assert!(seats.take("u", 2).is_some());
        drop(first);
        assert!(seats.take("t", 2).is_some());
    }
}
