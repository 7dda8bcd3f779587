//! The operator contract on both backends: replay by user and by range, refused plans,
//! idempotence, resume, side-by-side versions with cutover, and verify.

use readmodel_tests::binary;

use readmodel_tests::events::{check_in_payload, event_line, stream, HABIT};
use readmodel_tests::{checksum, execute_sql, on_both_backends, query_texts, Db};

on_both_backends!(
    replay_by_user_touches_only_that_users_rows,
    range_replay_of_a_timeline_restores_exactly_its_events,
    invalid_plans_are_refused_with_the_valid_alternative,
    resume_after_a_stopped_run_gives_the_uninterrupted_checksum,
    resume_of_several_models_builds_each_of_them,
    resume_redoes_a_deletion_that_never_committed,
    versions_are_built_side_by_side_and_cut_over,
    verify_detects_a_row_tampered_with_by_sql,
);

fn replay_by_user_touches_only_that_users_rows(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "30", "--events", "6000", "--seed", "9",
    ])
    .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let users = db.users();
    assert_eq!(users.len(), 30);
    let (target, bystander) = (&users[3], &users[4]);
    for model in [
        "habits.streaks",
        "habits.monthly_completions",
        "habits.checkins",
    ] {
        let target_before = db.user_checksum(model, target);
        let bystander_before = db.user_checksum(model, bystander);
        let table = match model {
            "habits.streaks" => "habit_streaks SET total_check_ins = total_check_ins + 1000",
            "habits.monthly_completions" => {
                "habit_monthly_completions SET check_ins = check_ins + 1000"
            }
            _ => "habit_checkins SET action = 'tampered'",
        };
        for user in [target, bystander] {
            let changed = execute_sql(
                &db.url,
                &format!("UPDATE readmodels.{table} WHERE user_id = '{user}'"),
            );
            assert!(changed > 0, "{model}: no rows of {user}");
        }
        let tampered_bystander = db.user_checksum(model, bystander);
        assert_ne!(tampered_bystander, bystander_before);

        let report = db
            .run(&["--json", "run", "--model", model, "--user", target])
            .json();
        assert_eq!(report[0]["scope"], format!("user:{target}"));
        assert_eq!(
            db.user_checksum(model, target),
            target_before,
            "{model}: user not rebuilt"
        );
        assert_eq!(
            db.user_checksum(model, bystander),
            tampered_bystander,
            "{model}: a user-scoped replay wrote another user's rows"
        );
        // Repair the bystander too, and the whole model is back as it was.
        db.run(&["run", "--model", model, "--user", bystander]).ok();
        assert_eq!(db.user_checksum(model, bystander), bystander_before);
    }
    let unknown = db.run(&[
        "run",
        "--model",
        "habits.streaks",
        "--user",
        "00000000-0000-0000-0000-00000000abcd",
    ]);
    assert!(unknown.error_line().contains("has no events in the log"));
}

fn range_replay_of_a_timeline_restores_exactly_its_events(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "10", "--events", "12000", "--seed", "4",
    ])
    .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let reference = db.checksum("habits.checkins");
    // The generator mixes eight domains: take the range from the check-ins themselves.
    let ids: Vec<i64> = query_texts(
        &db.url,
        "SELECT CAST(event_id AS TEXT) AS value FROM readmodels.habit_checkins ORDER BY event_id",
    )
    .iter()
    .map(|id| id.parse().expect("an id"))
    .collect();
    assert!(ids.len() > 1000, "{} check-ins", ids.len());
    let (from, to, outside) = (
        ids[ids.len() / 4],
        ids[ids.len() / 2],
        ids[ids.len() * 3 / 4],
    );
    let deleted = execute_sql(
        &db.url,
        &format!("DELETE FROM readmodels.habit_checkins WHERE event_id BETWEEN {from} AND {to}"),
    );
    assert!(deleted > 200, "{deleted}");
    // A row outside the range that the range replay must not touch.
    execute_sql(
        &db.url,
        &format!(
            "UPDATE readmodels.habit_checkins SET action = 'outside' WHERE event_id = {outside}"
        ),
    );
    assert_ne!(db.checksum("habits.checkins"), reference);

    let (from, to, outside) = (from.to_string(), to.to_string(), outside.to_string());
    let report = db
        .run(&[
            "--json",
            "run",
            "--model",
            "habits.checkins",
            "--from",
            &from,
            "--to",
            &to,
        ])
        .json();
    assert_eq!(report[0]["scope"], format!("range:{from}-{to}"));
    assert_eq!(report[0]["events_read"].as_u64(), Some(deleted as u64));
    assert_eq!(
        db.count("readmodels.habit_checkins WHERE action = 'outside'"),
        1
    );
    db.run(&[
        "run",
        "--model",
        "habits.checkins",
        "--from",
        &outside,
        "--to",
        &outside,
    ])
    .ok();
    assert_eq!(
        db.checksum("habits.checkins"),
        reference,
        "the range replay did not restore the rows"
    );

    db.run(&[
        "run",
        "--model",
        "habits.checkins",
        "--from",
        &from,
        "--to",
        &to,
    ])
    .ok();
    assert_eq!(
        db.checksum("habits.checkins"),
        reference,
        "a second range replay changed rows"
    );
    db.run(&["run", "--all"]).ok();
    assert_eq!(
        db.checksum("habits.checkins"),
        reference,
        "catch-up after a range replay changed rows"
    );
}

fn invalid_plans_are_refused_with_the_valid_alternative(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&["generate", "--users", "5", "--events", "500", "--seed", "1"])
        .ok();
    db.run(&["run", "--all"]).ok();
    let before = db.checksum("habits.streaks");
    let line = db
        .run(&[
            "run",
            "--model",
            "habits.streaks",
            "--from",
            "100",
            "--to",
            "200",
        ])
        .error_line()
        .to_owned();
    assert!(
        line.contains("cannot replay habits.streaks that way"),
        "{line}"
    );
    assert!(line.contains("a row folds every earlier event"), "{line}");
    assert!(
        line.contains("`replay run --model habits.streaks`"),
        "{line}"
    );
    assert!(line.contains("--full"), "{line}");

    let user = db.users()[0].clone();
    let line = db
        .run(&[
            "run",
            "--model",
            "habits.monthly_completions",
            "--user",
            &user,
            "--to",
            "50",
        ])
        .error_line()
        .to_owned();
    assert!(
        line.contains("--to cannot be combined with --user"),
        "{line}"
    );
    let line = db
        .run(&[
            "run",
            "--model",
            "habits.checkins",
            "--from",
            "300",
            "--to",
            "100",
        ])
        .error_line()
        .to_owned();
    assert!(line.contains("--from 300 is after --to 100"), "{line}");
    let line = db
        .run(&["run", "--model", "habits.checkins", "--to", "999999"])
        .error_line()
        .to_owned();
    assert!(line.contains("beyond the log's head"), "{line}");
    assert_eq!(
        db.checksum("habits.streaks"),
        before,
        "a refused plan wrote rows"
    );
}

/// `--resume` with `--model` repeated: the model with a stopped run resumes it, the others
/// catch up from their checkpoint (one never run, one behind the head); a lone `--resume`
/// with nothing to resume still refuses.
fn resume_of_several_models_builds_each_of_them(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "8", "--events", "6000", "--seed", "31",
    ])
    .ok();
    let models = [
        "habits.checkins",
        "habits.streaks",
        "habits.monthly_completions",
    ];
    db.run(&["run", "--model", models[2], "--to", "3000"]).ok();
    let stopped = db
        .run(&[
            "--json",
            "run",
            "--model",
            models[0],
            "--full",
            "--batch-size",
            "300",
            "--max-batches",
            "2",
        ])
        .json();
    assert_eq!(stopped[0]["status"], "stopped");
    let line = db
        .run(&["run", "--model", models[1], "--resume"])
        .error_line()
        .to_owned();
    assert!(line.contains("nothing to resume"), "{line}");

    let mut args = vec!["--json", "run", "--resume", "--batch-size", "700"];
    for model in models {
        args.extend(["--model", model]);
    }
    let report = db.run(&args).json();
    let reports = report.as_array().expect("reports");
    assert_eq!(reports.len(), 3, "{report}");
    for (r, model) in reports.iter().zip(models) {
        assert_eq!(r["model"], model, "{report}");
        assert_eq!(r["status"], "succeeded", "{report}");
    }
    assert_eq!(reports[0]["resumed_from"], stopped[0]["run_id"], "{report}");
    let head = db.head();
    assert_eq!(db.checkpoints(&models), vec![Some(head); 3]);
    let resumed = db.checksums(&models);
    for model in models {
        db.run(&["run", "--model", model, "--full"]).ok();
    }
    assert_eq!(
        db.checksums(&models),
        resumed,
        "resumed rows differ from a full run"
    );

    // A resumed run that covered one user is followed by a catch-up of the whole model.
    let user = db.users()[1].clone();
    db.run(&[
        "run",
        "--model",
        models[0],
        "--user",
        &user,
        "--batch-size",
        "20",
        "--max-batches",
        "1",
    ])
    .ok();
    let s = stream(9);
    let lines: Vec<String> = (1..=3)
        .map(|v| {
            event_line(
                &s,
                v,
                "habits.checked_in",
                2,
                &check_in_payload(HABIT, &format!("2026-03-0{v}")),
            )
        })
        .collect();
    db.import("more.jsonl", &lines).ok();
    let report = db
        .run(&[
            "--json", "run", "--resume", "--model", models[0], "--model", models[1],
        ])
        .json();
    let scopes: Vec<String> = report
        .as_array()
        .expect("reports")
        .iter()
        .map(|r| format!("{} {}", r["model"].as_str().unwrap_or("?"), r["scope"]))
        .collect();
    assert_eq!(scopes.len(), 3, "{report}");
    assert!(
        scopes[0].starts_with(models[0]) && scopes[0].contains(&user),
        "{scopes:?}"
    );
    let head = db.head();
    assert_eq!(
        db.checkpoints(&models[..2]),
        vec![Some(head); 2],
        "{report}"
    );
}

fn resume_after_a_stopped_run_gives_the_uninterrupted_checksum(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "12", "--events", "20000", "--seed", "21",
    ])
    .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let reference: Vec<String> = ["habits.checkins", "habits.streaks"]
        .iter()
        .map(|m| db.checksum(m))
        .collect();
    for (i, model) in ["habits.checkins", "habits.streaks"].iter().enumerate() {
        let stopped = db
            .run(&[
                "--json",
                "run",
                "--model",
                model,
                "--full",
                "--batch-size",
                "400",
                "--max-batches",
                "3",
            ])
            .json();
        assert_eq!(stopped[0]["status"], "stopped");
        assert_eq!(db.last_run(model)["status"], "stopped");
        // Readers use the version: the rebuild writes beside it, and swaps in at its end.
        assert_eq!(
            db.checksum(model),
            reference[i],
            "{model}: the stopped rebuild changed the live rows"
        );
        let resumed = db
            .run(&[
                "--json",
                "run",
                "--model",
                model,
                "--resume",
                "--batch-size",
                "700",
            ])
            .json();
        assert_eq!(resumed[0]["status"], "succeeded");
        assert_eq!(resumed[0]["resumed_from"], stopped[0]["run_id"]);
        assert_eq!(
            db.checksum(model),
            reference[i],
            "{model}: resumed rows differ from an uninterrupted run"
        );
        let line = db
            .run(&["run", "--model", model, "--resume"])
            .error_line()
            .to_owned();
        assert!(line.contains("nothing to resume"), "{line}");
    }
    // A user-scoped run stopped midway resumes within its scope.
    let user = db.users()[2].clone();
    let before = db.user_checksum("habits.checkins", &user);
    db.run(&[
        "run",
        "--model",
        "habits.checkins",
        "--user",
        &user,
        "--batch-size",
        "50",
        "--max-batches",
        "1",
    ])
    .ok();
    db.run(&["run", "--model", "habits.checkins", "--resume"])
        .ok();
    assert_eq!(db.user_checksum("habits.checkins", &user), before);
    assert_eq!(db.checksum("habits.checkins"), reference[0]);
}

fn versions_are_built_side_by_side_and_cut_over(postgres: bool) {
    let db = &Db::new(postgres);
    db.with(&binary("replay-notes-v1"), &["migrate"]).ok();
    db.with(
        &binary("replay-notes-v1"),
        &["generate", "--users", "6", "--events", "600", "--seed", "5"],
    )
    .ok();
    db.with(
        &binary("replay-notes-v1"),
        &["run", "--model", "test.notes", "--full"],
    )
    .ok();
    let v1 = checksum(&binary("replay-notes-v1"), &db.url, "test.notes");
    let status = db
        .with(&binary("replay-notes-v1"), &["--json", "status"])
        .json();
    assert_eq!(
        status[0]["active_version"], 1,
        "the first run activates its version"
    );

    let line = db
        .with(
            &binary("replay-notes-v2"),
            &["cutover", "--model", "test.notes", "--version", "2"],
        )
        .error_line()
        .to_owned();
    assert!(line.contains("has never completed a run"), "{line}");

    db.with(
        &binary("replay-notes-v2"),
        &["run", "--model", "test.notes", "--full"],
    )
    .ok();
    assert_eq!(
        checksum(&binary("replay-notes-v1"), &db.url, "test.notes"),
        v1,
        "building v2 changed v1's rows"
    );
    let v2 = checksum(&binary("replay-notes-v2"), &db.url, "test.notes");
    assert_ne!(v2, v1, "version 2 scores differently");
    let status = db
        .with(&binary("replay-notes-v2"), &["--json", "status"])
        .json();
    assert_eq!(
        status[0]["active_version"], 1,
        "building v2 must not switch readers"
    );

    // New events arrive: v2 is behind the log until it catches up.
    db.with(
        &binary("replay-notes-v1"),
        &["generate", "--users", "6", "--events", "60", "--seed", "77"],
    )
    .ok();
    let line = db
        .with(
            &binary("replay-notes-v2"),
            &["cutover", "--model", "test.notes", "--version", "2"],
        )
        .error_line()
        .to_owned();
    assert!(line.contains("is behind the log"), "{line}");
    db.with(
        &binary("replay-notes-v2"),
        &["run", "--model", "test.notes"],
    )
    .ok();
    let switched = db
        .with(
            &binary("replay-notes-v2"),
            &[
                "--json",
                "cutover",
                "--model",
                "test.notes",
                "--version",
                "2",
            ],
        )
        .json();
    assert_eq!(switched["previous_version"], 1);
    assert_eq!(
        query_texts(
            &db.url,
            "SELECT active_version || '' AS value FROM readmodels.model_versions \
             WHERE model = 'test.notes'"
        ),
        ["2"]
    );

    let line = db
        .with(
            &binary("replay-notes-v2"),
            &["drop", "--model", "test.notes", "--version", "2"],
        )
        .error_line()
        .to_owned();
    assert!(line.contains("it is the active version"), "{line}");
    let dropped = db
        .with(
            &binary("replay-notes-v2"),
            &["--json", "drop", "--model", "test.notes", "--version", "1"],
        )
        .json();
    assert_eq!(dropped["rows_deleted"], 6);
    assert_eq!(db.count("readmodels.test_notes WHERE model_version = 1"), 0);
    // The second batch of notes came from 6 more users.
    assert_eq!(
        db.count("readmodels.test_notes WHERE model_version = 2"),
        12
    );
}

fn verify_detects_a_row_tampered_with_by_sql(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "8", "--events", "2000", "--seed", "13",
    ])
    .ok();
    db.run(&["run", "--all", "--full"]).ok();
    let ok = db
        .run(&["--json", "verify", "--model", "habits.streaks"])
        .json();
    assert_eq!(ok["live"], ok["rebuilt"]);
    assert!(ok["first_difference"].is_null());

    let user = db.users()[5].clone();
    execute_sql(
        &db.url,
        &format!("UPDATE readmodels.habit_streaks SET longest_streak = longest_streak + 40 WHERE user_id = '{user}'"),
    );
    let run = db.run(&["verify", "--model", "habits.streaks"]);
    let line = run.error_line().to_owned();
    assert!(
        line.contains("habits.streaks v1 does not match a rebuild from the log"),
        "{line}"
    );
    assert!(line.contains("first differing key"), "{line}");
    assert!(run.stdout.contains("MISMATCH"), "{}", run.stdout);
    assert_eq!(
        db.count("readmodels.habit_streaks WHERE model_version < 0"),
        0,
        "verify left scratch rows"
    );
    assert_eq!(db.head(), 2000);
}

fn resume_redoes_a_deletion_that_never_committed(postgres: bool) {
    let db = &Db::new(postgres);
    db.run(&[
        "generate", "--users", "8", "--events", "6000", "--seed", "31",
    ])
    .ok();
    let half = (db.head() / 2).to_string();
    db.run(&["run", "--model", "habits.streaks", "--full", "--to", &half])
        .ok();
    let expected = db.checksum("habits.streaks");
    db.run(&["run", "--model", "habits.streaks"]).ok();
    assert_ne!(db.checksum("habits.streaks"), expected);
    // A `--full --to half` run that was killed after being recorded but before its
    // deletion committed: the checkpoint is the older, complete one.
    execute_sql(
        &db.url,
        &format!(
            "INSERT INTO readmodels.replay_runs (model, model_version, scope, full_rebuild, \
             from_event_id, to_event_id, started_at, status, plan) VALUES ('habits.streaks', 1, \
             'all', {}, 1, {half}, '2999-01-01T00:00:00.000000Z', 'running', \
             '{{\"full\":true,\"from\":null,\"to\":{half},\"user\":null}}')",
            if db.postgres { "true" } else { "1" }
        ),
    );
    let resumed = db
        .run(&["--json", "run", "--model", "habits.streaks", "--resume"])
        .json();
    assert_eq!(
        resumed[0]["full"], true,
        "the deletion was redone: {resumed}"
    );
    assert_eq!(
        db.checksum("habits.streaks"),
        expected,
        "resume trusted a checkpoint from an earlier run"
    );
}
