//! Reading a model from the application.

use std::time::Duration;

use diesel::prelude::*;
use readmodel_runtime::reader::ReadError;
use readmodel_runtime::sql_types::Param;
use readmodel_runtime::Store;
use uuid::Uuid;

use crate::totals::{habit_totals, HabitTotal};

/// `user`'s habits as readers see them, once the model has applied event `id` (one the
/// user just appended: read-your-writes).
pub fn habits_after(conn: &mut Store, user: Uuid, id: i64) -> Result<Vec<HabitTotal>, ReadError> {
    // Waits (at most 5 s) until the model's checkpoint reaches `id`.
    HabitTotal::wait_until_applied(conn, id, Duration::from_secs(5))?;
    // The rows of the version readers use (the active one), as a diesel query:
    let habits = HabitTotal::active(conn)?
        .filter(habit_totals::user_id.eq(Param(user)))
        .order(habit_totals::title)
        .load(conn)?;
    Ok(habits)
}
