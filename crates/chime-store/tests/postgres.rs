//! The conformance suite against the real PostgreSQL (CHIME_TEST_POSTGRES,
//! default the local server's `test` database), one schema per test.

mod conformance;

use chime_store::postgres::PostgresStore;
use conformance::TestStore;
use std::sync::Arc;

fn server_url() -> String {
    std::env::var("CHIME_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

/// Drops the test's schema when the test ends.
struct Schema {
    name: String,
}

impl Drop for Schema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop runs outside any runtime, so the cleanup brings its own.
        let _ = std::thread::spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            rt.block_on(async {
                if let Ok(pool) = sqlx::PgPool::connect(&server_url()).await {
                    let sql = format!("DROP SCHEMA IF EXISTS {name} CASCADE");
                    let _ = sqlx::raw_sql(sqlx::AssertSqlSafe(sql)).execute(&pool).await;
                }
            });
        })
        .join();
    }
}

async fn postgres() -> TestStore {
    let name = format!("chime_test_{}", uuid::Uuid::now_v7().simple());
    let admin = sqlx::PgPool::connect(&server_url())
        .await
        .expect("PostgreSQL must be running (scripts/test starts it)");
    sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
        .execute(&admin)
        .await
        .expect("create schema");
    admin.close().await;
    let url = format!("{}?options=-csearch_path%3D{name}", server_url());
    let store = PostgresStore::open(&url).await.expect("open postgres");
    TestStore {
        store: Arc::new(store),
        _guard: Box::new(Schema { name }),
    }
}

conformance_suite!(postgres);
