/// A fresh schema on the test PostgreSQL (CHIME_TEST_POSTGRES, default the
/// local server's `test` database), dropped when the value is dropped.
pub struct PgSchema {
    pub name: String,
    /// A connection URL whose search_path is the schema.
    pub url: String,
}

pub fn server_url() -> String {
    std::env::var("CHIME_TEST_POSTGRES")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".into())
}

impl PgSchema {
    pub async fn create() -> PgSchema {
        let name = format!("chime_test_{}", uuid::Uuid::now_v7().simple());
        let admin = sqlx::PgPool::connect(&server_url())
            .await
            .expect("PostgreSQL must be running (scripts/services starts it)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(format!("CREATE SCHEMA {name}")))
            .execute(&admin)
            .await
            .expect("create schema");
        admin.close().await;
        let url = format!("{}?options=-csearch_path%3D{name}", server_url());
        PgSchema { name, url }
    }

    pub async fn pool(&self) -> sqlx::PgPool {
        sqlx::PgPool::connect(&self.url).await.expect("connect")
    }
}

impl Drop for PgSchema {
    fn drop(&mut self) {
        let name = self.name.clone();
        // Drop may run inside a test's runtime: the cleanup brings its own.
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
