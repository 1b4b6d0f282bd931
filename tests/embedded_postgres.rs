//! The app's own PostgreSQL, used when DATABASE_URL is unset.
use server::embedded_postgres::EmbeddedPostgres;
use sqlx::Connection;

#[tokio::test]
async fn keeps_its_data_across_a_stop_and_a_start() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");

    let pg = EmbeddedPostgres::start(&data, None).await.expect("starts");
    assert!(
        data.join("postgres/PG_VERSION").exists(),
        "cluster created in the data folder"
    );
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    sqlx::query("CREATE TABLE kept (note text)")
        .execute(&mut conn)
        .await
        .unwrap();
    sqlx::query("INSERT INTO kept VALUES ('v1.2.0 rolled back')")
        .execute(&mut conn)
        .await
        .unwrap();
    conn.close().await.unwrap();
    let first_port = pg.port();
    pg.stop().await.expect("stops cleanly");
    assert!(
        !data.join("postgres/postmaster.pid").exists(),
        "a clean stop removes the lock file"
    );
    assert!(
        sqlx::PgConnection::connect(&format!("postgres://x@127.0.0.1:{first_port}/postgres"))
            .await
            .is_err(),
        "nothing listens any more"
    );

    let pg = EmbeddedPostgres::start(&data, None)
        .await
        .expect("starts again");
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    let note: String = sqlx::query_scalar("SELECT note FROM kept")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(note, "v1.2.0 rolled back");
    conn.close().await.unwrap();
    pg.stop().await.unwrap();
}

#[tokio::test]
async fn a_server_left_running_by_a_crashed_run_is_stopped_and_restarted() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let pg = EmbeddedPostgres::start(&data, None).await.expect("starts");
    let orphan = pg.url();
    // The app dies without stopping it: no Drop, no signal.
    std::mem::forget(pg);
    assert!(
        sqlx::PgConnection::connect(&orphan).await.is_ok(),
        "still running"
    );

    let pg = EmbeddedPostgres::start(&data, None)
        .await
        .expect("starts despite the orphan");
    let mut conn = sqlx::PgConnection::connect(&pg.url()).await.unwrap();
    let one: i32 = sqlx::query_scalar("SELECT 1")
        .fetch_one(&mut conn)
        .await
        .unwrap();
    assert_eq!(one, 1);
    conn.close().await.unwrap();
    assert!(
        sqlx::PgConnection::connect(&orphan).await.is_err(),
        "the orphan was stopped"
    );
    pg.stop().await.unwrap();
}

#[test]
fn a_missing_installation_is_named_in_one_line() {
    let dir = tempfile::tempdir().unwrap();
    let err = EmbeddedPostgres::find_binaries(Some(dir.path())).unwrap_err();
    let message = err.to_string();
    assert!(message.contains("apt-get install postgresql"), "{message}");
    assert!(!message.contains('\n'));
}

#[test]
fn finds_the_installed_server() {
    let bin = EmbeddedPostgres::find_binaries(None).expect("PostgreSQL is installed here");
    assert!(bin.join("postgres").is_file());
}
