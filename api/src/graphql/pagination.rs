//! Cursor pagination (Relay connections) over the reference lists.
//!
//! Lists are small and come from the snapshot, so a cursor is the item's position in
//! the ordered list; it is stable for one data version.

use async_graphql::connection::{Connection, Edge, EmptyFields};
use async_graphql::OutputType;

use consortium_analytics::error::echo;

use crate::error::ApiError;

/// The largest page a client may ask for, and the page size when it does not say.
pub const MAX_PAGE: usize = 100;

/// One page of `items` after `after`, at most `first` long.
pub fn page<T: OutputType>(
    items: Vec<T>,
    after: Option<String>,
    first: Option<i32>,
) -> Result<Connection<usize, T, EmptyFields, EmptyFields>, ApiError> {
    let first = match first {
        None => MAX_PAGE,
        Some(n) if (0..=MAX_PAGE as i32).contains(&n) => n as usize,
        Some(n) => return Err(ApiError::BadUserInput(format!("first must be between 0 and {MAX_PAGE}, got {n}"))),
    };
    let start = match after {
        None => 0,
        Some(cursor) => cursor
            .parse::<usize>()
            .ok()
            .filter(|position| *position < items.len())
            .map(|position| position + 1)
            .ok_or_else(|| ApiError::BadUserInput(format!("invalid cursor '{}'", echo(&cursor))))?,
    };
    let end = (start + first).min(items.len());
    let mut connection = Connection::new(start > 0, end < items.len());
    connection.edges.extend(
        items.into_iter().enumerate().skip(start).take(end - start).map(|(position, item)| Edge::new(position, item)),
    );
    Ok(connection)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pages_walk_the_list_once_in_order() -> Result<(), ApiError> {
        let items: Vec<i32> = (0..7).collect();
        let first = page(items.clone(), None, Some(3))?;
        assert_eq!(first.edges.iter().map(|e| e.node).collect::<Vec<_>>(), vec![0, 1, 2]);
        assert!(first.has_next_page && !first.has_previous_page);
        let last = page(items.clone(), Some("5".into()), Some(3))?;
        assert_eq!(last.edges.iter().map(|e| e.node).collect::<Vec<_>>(), vec![6]);
        assert!(!last.has_next_page && last.has_previous_page);
        Ok(())
    }

    #[test]
    fn bad_cursors_and_sizes_are_refused() {
        let items: Vec<i32> = (0..3).collect();
        assert!(page(items.clone(), Some("nope".into()), None).is_err());
        assert!(page(items.clone(), Some("3".into()), None).is_err());
        assert!(page(items.clone(), None, Some(-1)).is_err());
        assert!(page(items, None, Some(101)).is_err());
    }
}
