//! Contacts and on-call (§10): kept by the tech lead, shown to everyone, on every open
//! incident as "who to call now", and alerts reach whoever is on call.
use crate::helpers::*;
use chrono::{Duration, Utc};

fn paris_local(at: chrono::DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Europe::Paris)
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_contact_book_and_who_to_call_now() {
    let app = spawn_app(test_database().await).await;
    let lead = app
        .signed_in_browser("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    // Bad input: the message by the field, what was typed kept.
    let (_, html) = lead
        .submit_and_follow(
            &app,
            "/contacts",
            "/api/add_contact",
            &[
                ("role", "sysadmin"),
                ("name", "Sophie Martin"),
                ("phone", " "),
                ("email", "sophie@taskflow.example"),
            ],
        )
        .await;
    assert!(html.contains("Saisissez un numéro de téléphone"), "{html}");
    assert_eq!(
        input_value(&html, "contact-name").as_deref(),
        Some("Sophie Martin")
    );
    for (role, name, phone, email) in [
        (
            "sysadmin",
            "Sophie Martin",
            "+33 6 12 34 56 78",
            "sophie@taskflow.example",
        ),
        (
            "senior_dev_oncall",
            "Thomas Petit",
            "+33 6 98 76 54 32",
            "thomas@taskflow.example",
        ),
    ] {
        let (_, html) = lead
            .submit_and_follow(
                &app,
                "/contacts",
                "/api/add_contact",
                &[
                    ("role", role),
                    ("name", name),
                    ("phone", phone),
                    ("email", email),
                ],
            )
            .await;
        assert!(html.contains(name), "{html}");
    }
    let ids: Vec<(uuid::Uuid, String)> =
        sqlx::query_as("SELECT id, name FROM contacts ORDER BY name")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    let (sophie, thomas) = (ids[0].0.to_string(), ids[1].0.to_string());
    // Sophie is on call until the next full hour, then Thomas for 12 hours (handover).
    let now = Utc::now();
    let handover = now + Duration::minutes(60);
    let (start, handover_local, end) = (
        paris_local(now - Duration::hours(2)),
        paris_local(handover),
        paris_local(handover + Duration::hours(12)),
    );
    for (who, from, to) in [
        (&sophie, &start, &handover_local),
        (&thomas, &handover_local, &end),
    ] {
        lead.submit_and_follow(
            &app,
            "/contacts",
            "/api/add_shift",
            &[("contact", who), ("starts_at", from), ("ends_at", to)],
        )
        .await;
    }
    let shifts: i64 = sqlx::query_scalar("SELECT count(*) FROM on_call_shifts")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(shifts, 2);
    // A time the spring change skips is refused, with what was typed kept.
    let (_, html) = lead
        .submit_and_follow(
            &app,
            "/contacts",
            "/api/add_shift",
            &[
                ("contact", &thomas),
                ("starts_at", "2026-03-29T02:30"),
                ("ends_at", "2026-03-29T08:00"),
            ],
        )
        .await;
    assert!(html.contains("Cette heure n'existe pas"), "{html}");
    lead.submit_and_follow(
        &app,
        "/contacts",
        "/api/save_hosting",
        &[
            ("provider", "OVHcloud"),
            ("phone", "+33 9 72 10 10 07"),
            ("email", "support@ovh.example"),
            ("portal", "https://www.ovh.com/manager"),
        ],
    )
    .await;

    // Everyone reads it: who is on call now, the hosting support.
    let qa = app
        .signed_in_browser("qa@taskflow.example", "Quentin QA", &["qa"])
        .await;
    let (_, html) = qa.page(&app, "/contacts").await;
    let now_box = &html[html.find("id=\"on-call-now\"").unwrap()..];
    let now_box = &now_box[..now_box.find("</div>").unwrap()];
    assert!(
        now_box.contains("Sophie Martin") && !now_box.contains("Thomas Petit"),
        "{now_box}"
    );
    assert!(now_box.contains("tel:+33 6 12 34 56 78"), "{now_box}");
    assert!(now_box.contains("OVHcloud"), "{now_box}");
    assert!(
        !html.contains("id=\"add-contact\""),
        "a QA tester reads, doesn't edit"
    );
    let (_, html) = qa
        .submit_and_follow(
            &app,
            "/contacts",
            "/api/add_contact",
            &[
                ("role", "dba"),
                ("name", "X"),
                ("phone", "1"),
                ("email", "x@taskflow.example"),
            ],
        )
        .await;
    assert!(html.contains("Seuls les administrateurs"), "{html}");

    // An open incident shows who to call and by when someone must be on it (critical: 15 min).
    let env = app.create_environment("TaskFlow production").await;
    let detected = now - Duration::minutes(5);
    let incident: i64 = sqlx::query_scalar(
        "INSERT INTO incidents (title, detected_at, severity, environment_id, created_by)
         SELECT 'Facturation', $1, 'critical', $2, id FROM users LIMIT 1 RETURNING id",
    )
    .bind(detected)
    .bind(env)
    .fetch_one(&app.pool)
    .await
    .unwrap();
    let (_, html) = qa.page(&app, &format!("/incidents/{incident}")).await;
    let call = &html[html.find("id=\"who-to-call\"").unwrap()..];
    let call = &call[..call.find("</section>").unwrap()];
    let by = (detected + Duration::minutes(15))
        .with_timezone(&chrono_tz::Europe::Paris)
        .format("%d/%m/%Y %H:%M")
        .to_string();
    assert!(
        call.contains(&format!("Quelqu'un doit être dessus avant le {by}")),
        "{call}"
    );
    assert!(call.contains("Sophie Martin"), "{call}");

    // An alert reaches the §2.2 roles and whoever is on call.
    let mut tx = app.pool.begin().await.unwrap();
    app::backend::emails::notify(
        &mut tx,
        incident,
        app::backend::emails::Automatic::DeadlinePassed,
    )
    .await
    .unwrap();
    tx.commit().await.unwrap();
    let recipients: Vec<String> =
        sqlx::query_scalar("SELECT recipient FROM outbox ORDER BY recipient")
            .fetch_all(&app.pool)
            .await
            .unwrap();
    assert_eq!(
        recipients,
        ["claire@taskflow.example", "sophie@taskflow.example"]
    );
}

/// A stored value the app does not know (a row written by a newer version, or by hand) is an
/// error on the page with a reference, never a contact silently left out of the list.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_stored_role_fails_the_page_loudly() {
    let app = spawn_app(test_database().await).await;
    let lead = app
        .signed_in_browser("claire@taskflow.example", "Claire Dubois", &["tech_lead"])
        .await;
    let (status, html) = lead.page(&app, "/contacts").await;
    assert_eq!(status, 200, "{html}");
    sqlx::query("ALTER TABLE contacts DROP CONSTRAINT contacts_role_check")
        .execute(&app.pool)
        .await
        .unwrap();
    sqlx::query(
        "INSERT INTO contacts (role, name, phone, email)
         VALUES ('release_manager', 'Inès Moreau', '+33 6 00 00 00 00', 'ines@taskflow.example')",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let (status, html) = lead.page(&app, "/contacts").await;
    assert_eq!(status, 500, "{html}");
    assert!(
        html.contains("Cette page n'a pas pu être chargée"),
        "{html}"
    );
    assert!(html.contains("référence"), "{html}");
    assert!(
        !html.contains("release_manager"),
        "no internal text: {html}"
    );
}
