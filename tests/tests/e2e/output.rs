//! What the operator reads: `--help` describes the application, tables keep their columns
//! apart, a pass reports its rate once (log events/s and model-events/s) and no per-model
//! rate that is really the pass's, `verify` names the columns of the rows that differ, and
//! `status` lists the runs that did something.

use readmodel_tests::{bin, execute_sql, on_both_backends, replay, Db};

on_both_backends!(
    a_pass_reports_its_rate_once_and_a_run_by_model_each_rate,
    verify_shows_the_differing_rows_column_by_column,
    status_counts_empty_catch_ups_and_hides_scratch_runs,
);

/// Cells of a line and where each starts, split at runs of two spaces or more.
fn cells(line: &str) -> Vec<(usize, &str)> {
    let mut cells = Vec::new();
    let mut start = None;
    let bytes = line.as_bytes();
    for i in 0..=bytes.len() {
        let gap =
            i == bytes.len() || (bytes[i] == b' ' && bytes.get(i + 1).is_none_or(|b| *b == b' '));
        match (start, gap) {
            (None, false) if bytes[i] != b' ' => start = Some(i),
            (Some(s), true) => {
                cells.push((s, &line[s..i]));
                start = None;
            }
            _ => {}
        }
    }
    cells
}

/// The first line of `lines` is a header: every cell of the rows below sits in a column,
/// starting where its header starts, or, in a right-aligned column (`right`, by header),
/// ending where it ends; `complete`: every row has a cell in every column.
fn assert_aligned(lines: &[&str], right: &[&str], complete: bool) {
    let (header, rows) = lines.split_first().expect("a header");
    let columns = cells(header);
    assert!(!rows.is_empty(), "no rows under {header:?}");
    for line in rows {
        let row = cells(line);
        if complete {
            assert_eq!(
                row.len(),
                columns.len(),
                "columns run together in {line:?} under {header:?}"
            );
        }
        let mut next = 0;
        for (start, cell) in &row {
            let column = columns[next..].iter().position(|(at, name)| {
                if right.contains(name) {
                    at + name.len() == start + cell.len()
                } else {
                    at == start
                }
            });
            match column {
                Some(k) => next += k + 1,
                None => panic!("{cell:?} is in no column of {header:?}: {line:?}"),
            }
        }
    }
}

#[test]
fn help_and_version_describe_the_application() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("events.db").display().to_string();
    let help = replay(&bin(), &url, &["--help"]);
    let first = help.ok().lines().next().unwrap_or_default().to_owned();
    assert!(
        first.starts_with("Replay the LifeOS event log (habits, finance,"),
        "{first}"
    );
    let version = replay(&bin(), &url, &["--version"]);
    assert_eq!(version.ok().trim(), "lifeos 0.1.0");
}

#[test]
fn list_keeps_every_column_apart() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = dir.path().join("events.db").display().to_string();
    let list = replay(&bin(), &url, &["list"]);
    let lines: Vec<&str> = list.ok().lines().collect();
    assert_aligned(&lines, &["V"], true);
    assert!(list
        .ok()
        .contains("readmodels.relationships_last_contact  relationships."));
}

fn a_pass_reports_its_rate_once_and_a_run_by_model_each_rate(postgres: bool) {
    let db = Db::new(postgres);
    db.run(&[
        "generate", "--users", "5", "--events", "1500", "--seed", "8",
    ])
    .ok();
    let models = ["--model", "habits.checkins", "--model", "habits.streaks"];
    let mut pass = vec!["run", "--full"];
    pass.extend(models);
    let out = db.run(&pass).ok().to_owned();
    let header = out.lines().next().expect("a header");
    assert!(header.contains("ROW WRITES"), "{out}");
    assert!(
        !header.contains("EVENTS/S") && !header.contains("SECONDS"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().take(3).collect();
    assert_aligned(&lines, &["V", "RUN", "EVENTS", "ROW WRITES"], true);
    let model_events: i64 = out
        .lines()
        .skip(1)
        .take(2)
        .map(|line| cells(line)[4].1.parse::<i64>().expect("EVENTS"))
        .sum();
    let summary = out.lines().nth(3).expect("the pass's line");
    let expected = format!(
        "2 models in one pass over {} log events: {model_events} model-events applied in ",
        db.log_length()
    );
    assert!(
        summary.starts_with(&expected),
        "{summary:?} vs {expected:?}"
    );
    assert!(
        summary.contains(" log events/s, ") && summary.ends_with(" model-events/s)"),
        "{summary}"
    );

    // Model by model (one user's rows run so, all or nothing), each run's own time and rate.
    let user = db.users()[0].clone();
    let mut by_model = vec!["run", "--user", user.as_str()];
    by_model.extend(models);
    let out = db.run(&by_model).ok().to_owned();
    let header = out.lines().next().expect("a header");
    assert!(
        header.contains("SECONDS") && header.contains("EVENTS/S"),
        "{out}"
    );
    let lines: Vec<&str> = out.lines().take(3).collect();
    let right = ["V", "RUN", "EVENTS", "ROW WRITES", "SECONDS", "EVENTS/S"];
    assert_aligned(&lines, &right, true);
    let summary = out.lines().nth(3).expect("the total");
    assert!(
        summary.starts_with("2 models one after another: "),
        "{summary}"
    );
}

fn verify_shows_the_differing_rows_column_by_column(postgres: bool) {
    let db = Db::seeded(postgres, "6", "1500", "21");
    let user = db.users()[2].clone();
    execute_sql(
        &db.url,
        &format!("UPDATE readmodels.habit_streaks SET longest_streak = longest_streak + 40 WHERE user_id = '{user}'"),
    );
    let run = db.run(&["verify", "--model", "habits.streaks"]);
    run.error_line();
    let table: Vec<&str> = run
        .stdout
        .lines()
        .skip_while(|l| !l.starts_with("    COLUMN"))
        .collect();
    let without_marks: Vec<&str> = table
        .iter()
        .map(|l| l.trim_end_matches("<- differs").trim_end())
        .collect();
    assert_aligned(&without_marks, &[], false);
    let differing: Vec<&str> = table
        .iter()
        .filter(|l| l.ends_with("<- differs"))
        .map(|l| l.split_whitespace().next().unwrap_or_default())
        .collect();
    assert_eq!(differing, ["longest_streak"], "{}", run.stdout);
    assert!(
        table
            .iter()
            .any(|l| l.starts_with("    user_id") && l.contains(&user)),
        "{}",
        run.stdout
    );
}

fn status_counts_empty_catch_ups_and_hides_scratch_runs(postgres: bool) {
    let db = Db::seeded(postgres, "4", "800", "17");
    let model = "habits.checkins";
    let built = db.last_run(model);
    assert!(built["events_read"].as_i64() > Some(0), "{built}");
    for _ in 0..3 {
        db.run(&["run", "--model", model]).ok();
    }
    db.run(&["verify", "--model", model]).ok();
    let status = db.run(&["--json", "status", "--model", model]).json();
    let runs = status[0]["runs"].as_array().expect("runs");
    assert_eq!(runs[0]["run_id"], built["run_id"], "{status}");
    assert!(
        runs.iter().all(|r| r["model_version"].as_i64() > Some(0)),
        "{status}"
    );
    assert!(
        runs.iter().all(|r| r["events_read"].as_i64() > Some(0)),
        "{status}"
    );
    assert_eq!(status[0]["empty_catch_ups"], 3, "{status}");
    let text = db.run(&["status", "--model", model]).ok().to_owned();
    let lines: Vec<&str> = text.lines().collect();
    assert_aligned(&lines, &["V", "ACTIVE", "CHECKPOINT", "LAG"], true);
    assert!(
        text.contains(&format!("#{} succeeded all v1 ", built["run_id"])),
        "{text}"
    );
    assert!(
        text.trim_end().ends_with("; 3 empty catch-ups since"),
        "{text}"
    );
}
