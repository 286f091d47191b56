//! (listing to come)

use super::{Budget, Listing, Stop, Visit};

/// Lists `data`'s entry names to `visit`.
pub fn list(data: &[u8], budget: &mut Budget, visit: &mut Visit<'_>) -> Result<Listing, Stop> {
    let _ = (data, budget, visit);
    Ok(Listing::default())
}
