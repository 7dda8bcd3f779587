//! Refusing events of types no code of the binary declares: a typo in `event_type` would
//! stay in the immutable log for good, read by no model.

use std::collections::BTreeSet;
use std::path::Path;

use super::ImportError;
use crate::source::NewEvent;

/// Counts the events whose type is not in `declared`; unless `allow`, the first of them
/// refuses the file, naming its line, its type and the declared type nearest to it.
pub fn check_declared(
    path: &Path,
    events: &[(usize, NewEvent)],
    declared: &BTreeSet<&'static str>,
    allow: bool,
) -> Result<usize, ImportError> {
    let mut undeclared = 0;
    for (line, event) in events {
        if declared.contains(event.event_type.as_str()) {
            continue;
        }
        if !allow {
            return Err(ImportError::Undeclared {
                path: path.display().to_string(),
                line: *line,
                event_type: event.event_type.clone(),
                suggestion: nearest(&event.event_type, declared),
            });
        }
        undeclared += 1;
    }
    Ok(undeclared)
}

/// The declared type closest to `typed` by edit distance, when it is close enough to be a
/// typo of it (at most a third of its characters differ, and at most 4).
fn nearest(typed: &str, declared: &BTreeSet<&'static str>) -> Option<&'static str> {
    let typed = typed.to_lowercase();
    let limit = (typed.chars().count() / 3).clamp(1, 4);
    declared
        .iter()
        .map(|candidate| (edit_distance(&typed, &candidate.to_lowercase()), *candidate))
        .filter(|(distance, _)| *distance <= limit)
        .min()
        .map(|(_, candidate)| candidate)
}

/// Levenshtein distance, in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut previous: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut current = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = previous[j] + usize::from(ca != *cb);
            current[j + 1] = substitute.min(previous[j + 1] + 1).min(current[j] + 1);
        }
        previous = current;
    }
    previous[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_close_declared_type_is_suggested_and_a_far_one_is_not() {
        let declared: BTreeSet<&'static str> = [
            "habits.checked_in",
            "habits.check_in_undone",
            "finance.expense_recorded",
        ]
        .into();
        assert_eq!(
            nearest("habits.checkd_in", &declared),
            Some("habits.checked_in")
        );
        assert_eq!(
            nearest("Habits.Checked_In", &declared),
            Some("habits.checked_in")
        );
        assert_eq!(
            nearest("finance.expence_recorded", &declared),
            Some("finance.expense_recorded")
        );
        assert_eq!(nearest("lifeos.never_heard_of", &declared), None);
        assert_eq!(nearest("x", &declared), None);
        assert_eq!(edit_distance("kitten", "sitting"), 3);
        assert_eq!(edit_distance("", "abc"), 3);
    }
}
