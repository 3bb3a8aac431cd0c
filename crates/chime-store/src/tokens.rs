//! API tokens in the SQL backends: four statements each, run the same way
//! (the placeholders differ, so each backend passes its own text).

use crate::params::TokenCreate;
use crate::rows::{self, ms, Cols};
use crate::Result;
use chime_core::model::Token;
use jiff::Timestamp;

pub(crate) struct TokenSql {
    /// id, name, role, namespace, hash, created_at
    pub insert: &'static str,
    /// hash
    pub find: &'static str,
    pub list: &'static str,
    /// id
    pub delete: &'static str,
}

pub(crate) async fn create<'e, DB, E>(
    exec: E,
    sql: &TokenSql,
    p: TokenCreate,
    now: Timestamp,
) -> Result<Token>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'e, Database = DB>,
    for<'q> i64: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
{
    sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.insert))
        .bind(p.id.clone())
        .bind(p.name.clone())
        .bind(p.role.as_str().to_string())
        .bind(p.namespace.clone())
        .bind(p.hash)
        .bind(ms(now))
        .execute(exec)
        .await?;
    Ok(Token {
        id: p.id,
        name: p.name,
        role: p.role,
        namespace: p.namespace,
        created_at: now,
    })
}

pub(crate) async fn find<'e, DB, E>(exec: E, sql: &TokenSql, hash: &str) -> Result<Option<Token>>
where
    DB: sqlx::Database,
    DB::Row: Cols,
    E: sqlx::Executor<'e, Database = DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
{
    let row = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.find))
        .bind(hash.to_string())
        .fetch_optional(exec)
        .await?;
    row.as_ref().map(rows::token).transpose()
}

pub(crate) async fn list<'e, DB, E>(exec: E, sql: &TokenSql) -> Result<Vec<Token>>
where
    DB: sqlx::Database,
    DB::Row: Cols,
    E: sqlx::Executor<'e, Database = DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
{
    let rows = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.list))
        .fetch_all(exec)
        .await?;
    rows.iter().map(rows::token).collect()
}

pub(crate) async fn delete<'e, DB, E>(exec: E, sql: &TokenSql, id: &str) -> Result<bool>
where
    DB: sqlx::Database,
    E: sqlx::Executor<'e, Database = DB>,
    for<'q> String: sqlx::Encode<'q, DB> + sqlx::Type<DB>,
    for<'q> DB::Arguments: sqlx::IntoArguments<DB>,
    <DB as sqlx::Database>::QueryResult: RowsAffected,
{
    let done = sqlx::query::<DB>(sqlx::AssertSqlSafe(sql.delete))
        .bind(id.to_string())
        .execute(exec)
        .await?;
    Ok(done.rows() > 0)
}

/// `rows_affected` is inherent on each backend's result type, not a trait.
pub(crate) trait RowsAffected {
    fn rows(&self) -> u64;
}

impl RowsAffected for sqlx::sqlite::SqliteQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}

impl RowsAffected for sqlx::postgres::PgQueryResult {
    fn rows(&self) -> u64 {
        self.rows_affected()
    }
}
