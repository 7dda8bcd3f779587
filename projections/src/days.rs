//! Calendar arithmetic shared by the read models: the month and week a day belongs to.
//!
//! Pure functions of their arguments, so handlers may call them freely.

use chrono::{Datelike, NaiveDate};

/// The first day of `day`'s month: the `month` column of monthly aggregates.
pub fn first_of_month(day: NaiveDate) -> NaiveDate {
    // Day 1 exists in every month, so `with_day(1)` cannot fail; fall back to `day` anyway.
    day.with_day(1).unwrap_or(day)
}

/// The Monday starting `day`'s ISO week: the `week` column of weekly aggregates.
pub fn week_start(day: NaiveDate) -> NaiveDate {
    let back = i64::from(day.weekday().num_days_from_monday());
    day.checked_sub_signed(chrono::Duration::days(back))
        .unwrap_or(day)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).expect("valid day")
    }

    #[test]
    fn months_and_weeks_start_where_expected() {
        assert_eq!(first_of_month(d(2026, 3, 31)), d(2026, 3, 1));
        // 2026-03-04 is a Wednesday; its week starts on Monday 2026-03-02.
        assert_eq!(week_start(d(2026, 3, 4)), d(2026, 3, 2));
        assert_eq!(week_start(d(2026, 3, 2)), d(2026, 3, 2));
        // A Sunday belongs to the week that started six days earlier, across a month end.
        assert_eq!(week_start(d(2026, 3, 1)), d(2026, 2, 23));
    }
}
