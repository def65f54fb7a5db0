//! The schedule and trend methods against a real embedded engine (temporary SQLite, real HTTP on loopback):
//! what each sends is what the engine reads, and its answers decode; refusals are typed errors naming the
//! field.

use client::{ApiClient, Caller, ClientError, Timeouts};
use dto::{
    enums::{ReconciliationMode, ScheduleFrequency},
    TrendQuery, UpsertSchedule,
};
use engine::demo::{CORPORATE_DIRECTORY, LEGACY_HR, OTHER_DIRECTORY};

mod common;

use common::{engine, login};

async fn token(api: &ApiClient, demo: &engine::DemoLogin) -> String {
    login(api, demo).await.access_token
}

fn status_and_field(err: ClientError) -> (u16, Option<String>) {
    match err {
        ClientError::Api { status, body } => (status, body.field),
        other => panic!("not an API error: {other:?}"),
    }
}

#[tokio::test]
async fn schedules_are_read_saved_toggled_and_deleted() {
    let dir = tempfile::tempdir().unwrap();
    let running = engine(&dir).await;
    let demo = running.demo.clone().expect("demo login");
    let api = ApiClient::new(&running.base_url(), Timeouts::default()).unwrap();
    let token = token(&api, &demo).await;
    let caller = Caller {
        token: &token,
        tenant: demo.tenant_id,
    };

    let list = api.list_schedules(caller).await.unwrap();
    assert_eq!(list.schedules.len(), 3);
    assert!(list.schedules.iter().all(|s| s.connector_name.is_some()));
    let nightly = api.get_schedule(caller, CORPORATE_DIRECTORY).await.unwrap();
    assert_eq!(nightly.frequency, ScheduleFrequency::Daily);
    assert!(nightly.next_run_at.is_some());

    let monthly = UpsertSchedule {
        mode: ReconciliationMode::Delta,
        frequency: ScheduleFrequency::Monthly,
        day_of_week: None,
        day_of_month: Some(31),
        hour_of_day: 5,
        cron_expression: None,
        enabled: true,
    };
    let saved = api
        .put_schedule(caller, CORPORATE_DIRECTORY, &monthly)
        .await
        .unwrap();
    assert_eq!(
        (
            saved.mode,
            saved.frequency,
            saved.day_of_month,
            saved.hour_of_day
        ),
        (
            ReconciliationMode::Delta,
            ScheduleFrequency::Monthly,
            Some(31),
            5
        )
    );
    assert!(saved.next_run_at.is_some());

    api.set_schedule_enabled(caller, CORPORATE_DIRECTORY, false)
        .await
        .unwrap();
    let off = api.get_schedule(caller, CORPORATE_DIRECTORY).await.unwrap();
    assert!(!off.enabled && off.next_run_at.is_none());
    api.set_schedule_enabled(caller, CORPORATE_DIRECTORY, true)
        .await
        .unwrap();
    assert!(
        api.get_schedule(caller, CORPORATE_DIRECTORY)
            .await
            .unwrap()
            .enabled
    );

    // A bad cron expression is a 400 naming the field; another tenant's connector a 404.
    let bad = UpsertSchedule {
        frequency: ScheduleFrequency::Cron,
        cron_expression: Some("0 2 * * 9".into()),
        ..monthly.clone()
    };
    let err = api
        .put_schedule(caller, CORPORATE_DIRECTORY, &bad)
        .await
        .unwrap_err();
    assert_eq!(status_and_field(err), (400, Some("cron_expression".into())));
    let err = api.get_schedule(caller, OTHER_DIRECTORY).await.unwrap_err();
    assert_eq!(status_and_field(err).0, 404);

    api.delete_schedule(caller, LEGACY_HR).await.unwrap();
    let err = api.get_schedule(caller, LEGACY_HR).await.unwrap_err();
    assert_eq!(status_and_field(err).0, 404);
    assert_eq!(api.list_schedules(caller).await.unwrap().schedules.len(), 2);

    running.shutdown().await;
}

#[tokio::test]
async fn the_trend_is_read_with_its_filters() {
    let dir = tempfile::tempdir().unwrap();
    let running = engine(&dir).await;
    let demo = running.demo.clone().expect("demo login");
    let api = ApiClient::new(&running.base_url(), Timeouts::default()).unwrap();
    let token = token(&api, &demo).await;
    let caller = Caller {
        token: &token,
        tenant: demo.tenant_id,
    };

    let all = api
        .discrepancy_trend(caller, &TrendQuery::default())
        .await
        .unwrap();
    assert_eq!(all.data_points.len(), 30);
    assert!(all.data_points.iter().map(|p| p.total).sum::<u64>() > 0);

    let now = chrono::Utc::now();
    let query = TrendQuery {
        connector_id: Some(CORPORATE_DIRECTORY),
        from: Some(now - chrono::Duration::days(6)),
        to: Some(now),
    };
    let week = api.discrepancy_trend(caller, &query).await.unwrap();
    assert_eq!(week.data_points.len(), 7);
    assert_eq!(week.connector_id, Some(CORPORATE_DIRECTORY));

    let backwards = TrendQuery {
        from: Some(now),
        to: Some(now - chrono::Duration::days(1)),
        ..TrendQuery::default()
    };
    let err = api.discrepancy_trend(caller, &backwards).await.unwrap_err();
    assert_eq!(status_and_field(err), (400, Some("from".into())));

    running.shutdown().await;
}
