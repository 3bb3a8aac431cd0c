//! The instance registry's transaction, shared by the SQL backends: renew
//! this instance, forget expired ones, list the live ones. Each backend
//! passes its own three statements (the placeholders differ).

use crate::params::{Instance, InstanceBeat};
use crate::rows::{self, ms, Cols};
use crate::Result;
use jiff::Timestamp;

pub(crate) struct BeatSql {
    pub upsert: &'static str,
    pub expire: &'static str,
    pub live: &'static str,
}

pub(crate) async fn beat<DB>(
    conn: &mut DB::Connection,
    sql: &BeatSql,
    p: &InstanceBeat,
    now: Timestamp,
) -> Result<Vec<Instance>>
where
    DB: sqlx::Database,
    DB::Row: Cols,
    for<'c> &'c mut DB::Connection: sqlx::Executor<'c, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    DB::Arguments: sqlx::IntoArguments<DB>,
{
    let expires = now.saturating_add(p.ttl).unwrap_or(now);
    sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.upsert))
        .bind(p.id.clone())
        .bind(ms(now))
        .bind(ms(expires))
        .execute(&mut *conn)
        .await?;
    sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.expire))
        .bind(ms(now))
        .execute(&mut *conn)
        .await?;
    let live = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.live))
        .fetch_all(&mut *conn)
        .await?;
    live.iter().map(rows::instance).collect()
}
