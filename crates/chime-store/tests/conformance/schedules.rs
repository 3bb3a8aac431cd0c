use super::*;
use chime_store::{ScheduleCreate, ScheduleList, ScheduleUpdate, SchedulesDue, StoreError};

async fn create(
    store: &Arc<dyn Store>,
    name: &str,
    bucket: u32,
    next: Option<Timestamp>,
) -> chime_core::model::Schedule {
    store
        .schedules_create(ScheduleCreate {
            id: new_id(),
            spec: spec(name),
            bucket,
            next_fire_at: next,
            now: None,
        })
        .await
        .expect("create")
}

pub async fn crud_with_optimistic_versions(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let s = create(&store, "nightly", 3, Some(t)).await;
    assert_eq!(
        (s.version, s.next_fire_at, s.spec.name.as_str()),
        (1, Some(t), "nightly")
    );
    assert_eq!(store.schedules_get(&s.id).await.unwrap(), Some(s.clone()));

    let mut changed = s.spec.clone();
    changed.name = "nightly-2".into();
    let updated = store
        .schedules_update(ScheduleUpdate {
            id: s.id.clone(),
            expected_version: Some(1),
            spec: changed.clone(),
            next_fire_at: Some(secs(t, 60)),
            occurrences: vec![],
            now: None,
        })
        .await
        .unwrap();
    assert_eq!(
        (updated.version, updated.spec.name.as_str()),
        (2, "nightly-2")
    );
    assert_eq!(updated.next_fire_at, Some(secs(t, 60)));

    // A writer that read version 1 loses.
    let stale = store
        .schedules_update(ScheduleUpdate {
            id: s.id.clone(),
            expected_version: Some(1),
            spec: changed.clone(),
            next_fire_at: None,
            occurrences: vec![],
            now: None,
        })
        .await;
    assert!(
        matches!(
            stale,
            Err(StoreError::Conflict {
                expected: 1,
                found: 2
            })
        ),
        "{stale:?}"
    );
    let missing = store
        .schedules_update(ScheduleUpdate {
            id: new_id(),
            expected_version: None,
            spec: changed,
            next_fire_at: None,
            occurrences: vec![],
            now: None,
        })
        .await;
    assert!(
        matches!(missing, Err(StoreError::NotFound(_))),
        "{missing:?}"
    );

    assert!(store.schedules_delete(&s.id).await.unwrap());
    assert_eq!(store.schedules_get(&s.id).await.unwrap(), None);
    assert!(!store.schedules_delete(&s.id).await.unwrap());
}

pub async fn list_filters_and_pages(store: Arc<dyn Store>) {
    let mut ids = Vec::new();
    for name in ["alpha report", "beta", "Gamma report", "delta"] {
        ids.push(create(&store, name, 0, None).await.id);
    }
    let all = store
        .schedules_list(ScheduleList {
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(all.iter().map(|s| s.id.clone()).collect::<Vec<_>>(), ids);
    let page1 = store
        .schedules_list(ScheduleList {
            limit: 2,
            ..Default::default()
        })
        .await
        .unwrap();
    let page2 = store
        .schedules_list(ScheduleList {
            limit: 2,
            after_id: Some(page1[1].id.clone()),
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(page1.len() + page2.len(), 4);
    assert_eq!(page2[0].id, ids[2]);
    let found = store
        .schedules_list(ScheduleList {
            search: Some("REPORT".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert_eq!(found.len(), 2);
    let other_ns = store
        .schedules_list(ScheduleList {
            namespace: Some("other".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap();
    assert!(other_ns.is_empty());
}

/// Pages walk schedules spread over many buckets in id order, each once,
/// with and without a name filter.
pub async fn list_pages_across_buckets(store: Arc<dyn Store>) {
    let mut all = Vec::new();
    let mut kept = Vec::new();
    for i in 0..23u32 {
        let name = if i % 3 == 0 {
            format!("keep {i}")
        } else {
            format!("drop {i}")
        };
        let s = create(&store, &name, i % 7 * 31, None).await;
        if i % 3 == 0 {
            kept.push(s.id.clone());
        }
        all.push(s.id);
    }
    all.sort();
    kept.sort();
    let walk = |search: Option<&'static str>, limit: u32| {
        let store = store.clone();
        async move {
            let mut seen = Vec::new();
            let mut after = None;
            loop {
                let page = store
                    .schedules_list(ScheduleList {
                        search: search.map(String::from),
                        after_id: after.clone(),
                        limit,
                        ..Default::default()
                    })
                    .await
                    .unwrap();
                assert!(page.len() <= limit as usize);
                let Some(last) = page.last() else { break };
                after = Some(last.id.clone());
                seen.extend(page.into_iter().map(|s| s.id));
            }
            seen
        }
    };
    assert_eq!(walk(None, 4).await, all);
    assert_eq!(walk(Some("KEEP"), 3).await, kept);
    assert_eq!(walk(None, 500).await, all);
}

pub async fn due_respects_buckets_pause_and_time(store: Arc<dyn Store>) {
    let t = base(&store).await;
    let due = create(&store, "due", 1, Some(t)).await;
    let _later = create(&store, "later", 1, Some(secs(t, 10))).await;
    let other_bucket = create(&store, "other", 2, Some(t)).await;
    let _no_fire = create(&store, "done", 1, None).await;
    let mut paused_spec = spec("paused");
    paused_spec.paused = true;
    store
        .schedules_create(ScheduleCreate {
            id: new_id(),
            spec: paused_spec,
            bucket: 1,
            next_fire_at: Some(t),
            now: None,
        })
        .await
        .unwrap();
    let due_by = |buckets: Vec<u32>, until: i64, limit: u32| {
        let store = store.clone();
        async move {
            store
                .schedules_due(SchedulesDue {
                    buckets,
                    until: secs(t, until),
                    limit,
                })
                .await
                .unwrap()
        }
    };
    let got = due_by(vec![1], 5, 100).await;
    assert_eq!(
        got.iter().map(|s| s.id.as_str()).collect::<Vec<_>>(),
        vec![due.id.as_str()]
    );
    let wider = due_by(vec![1, 2], 10, 100).await;
    assert_eq!(wider.len(), 3);
    // Ordered by next fire.
    assert!(wider
        .windows(2)
        .all(|w| w[0].next_fire_at <= w[1].next_fire_at));
    // More due than the limit: the earliest, whatever their buckets.
    let first = due_by(vec![2, 1], 10, 2).await;
    let mut ids: Vec<&str> = first.iter().map(|s| s.id.as_str()).collect();
    ids.sort();
    let mut want = vec![due.id.as_str(), other_bucket.id.as_str()];
    want.sort();
    assert_eq!(ids, want);
}

/// For stores shared by several instances: a schedule created, edited or
/// deleted is announced to every watcher by its id, so that each scheduler
/// reads that schedule alone.
pub async fn changes_are_announced_by_schedule_id(store: Arc<dyn Store>) {
    use chime_store::{ScheduleChanges, Wakers};
    let changes = Arc::new(ScheduleChanges::default());
    store
        .watch(Wakers {
            jobs: Default::default(),
            schedules: changes.clone(),
        })
        .await
        .expect("watch");
    let next = || async {
        tokio::time::timeout(std::time::Duration::from_secs(10), changes.notified())
            .await
            .expect("a change announced within 10 s");
        changes.take()
    };
    // Once listening, everything may have changed while it was not.
    assert!(next().await.all);
    let announced = |c: chime_store::Changed| {
        assert!(!c.all, "named, not everything");
        c.ids.into_iter().collect::<Vec<_>>()
    };
    let id = new_id();
    let created = store
        .schedules_create(ScheduleCreate {
            id: id.clone(),
            spec: spec("announced"),
            bucket: 1,
            next_fire_at: Some(Timestamp::now()),
            now: None,
        })
        .await
        .expect("create");
    assert_eq!(announced(next().await), vec![id.clone()], "created");
    let mut edited = created.spec.clone();
    edited.paused = true;
    store
        .schedules_update(ScheduleUpdate {
            id: id.clone(),
            expected_version: None,
            spec: edited,
            next_fire_at: None,
            occurrences: vec![],
            now: None,
        })
        .await
        .expect("update");
    assert_eq!(announced(next().await), vec![id.clone()], "edited");
    assert!(store.schedules_delete(&id).await.expect("delete"));
    assert_eq!(announced(next().await), vec![id], "deleted");
}
