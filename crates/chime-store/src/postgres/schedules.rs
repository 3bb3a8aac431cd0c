use super::{notify_schedule, PostgresStore};
use crate::firing::occurrence_row;
use crate::params::*;
use crate::rows::{self, ms, spec_json, to_json};
use crate::sql_shared::{schedules_list_query, update_refused};
use crate::Result;
use chime_core::model::Schedule;

impl PostgresStore {
    pub(super) async fn schedule_create(&self, p: ScheduleCreate) -> Result<Schedule> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, p.now).await?;
        let row = sqlx::query(include_str!("sql/schedule_insert.sql"))
            .bind(&p.id)
            .bind(&p.spec.namespace)
            .bind(&p.spec.name)
            .bind(i64::from(p.bucket))
            .bind(spec_json(&p.spec)?)
            .bind(p.spec.paused)
            .bind(p.next_fire_at.map(ms))
            .bind(ms(now))
            .fetch_one(&mut *tx)
            .await?;
        notify_schedule(&mut tx, &p.id).await?;
        tx.commit().await?;
        rows::schedule(&row)
    }

    pub(super) async fn schedule_get(&self, id: &str) -> Result<Option<Schedule>> {
        let row = sqlx::query("SELECT * FROM schedules WHERE id = $1")
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(rows::schedule).transpose()
    }

    pub(super) async fn schedule_list(&self, p: ScheduleList) -> Result<Vec<Schedule>> {
        let rows = schedules_list_query::<sqlx::Postgres>(p, "strpos")
            .build()
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::schedule).collect()
    }

    pub(super) async fn schedule_update(&self, p: ScheduleUpdate) -> Result<Schedule> {
        let mut tx = self.pool.begin().await?;
        let now = self.now_or(&mut tx, p.now).await?;
        let row = sqlx::query(include_str!("sql/schedule_update.sql"))
            .bind(&p.id)
            .bind(p.expected_version.map(|v| v as i64))
            .bind(&p.spec.namespace)
            .bind(&p.spec.name)
            .bind(spec_json(&p.spec)?)
            .bind(p.spec.paused)
            .bind(p.next_fire_at.map(ms))
            .bind(ms(now))
            .fetch_optional(&mut *tx)
            .await?;
        let Some(row) = row else {
            let found: Option<i64> =
                sqlx::query_scalar("SELECT version FROM schedules WHERE id = $1")
                    .bind(&p.id)
                    .fetch_optional(&mut *tx)
                    .await?;
            return Err(update_refused(&p.id, found, p.expected_version));
        };
        if !p.occurrences.is_empty() {
            let rows: Vec<_> = p
                .occurrences
                .iter()
                .map(|occ| occurrence_row(&p.id, occ))
                .collect();
            sqlx::query(include_str!("sql/occurrences_insert_batch.sql"))
                .bind(to_json(&rows)?)
                .bind(ms(now))
                .execute(&mut *tx)
                .await?;
        }
        notify_schedule(&mut tx, &p.id).await?;
        tx.commit().await?;
        rows::schedule(&row)
    }

    pub(super) async fn schedule_delete(&self, id: &str) -> Result<bool> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query("DELETE FROM schedules WHERE id = $1")
            .bind(id)
            .execute(&mut *tx)
            .await?;
        notify_schedule(&mut tx, id).await?;
        tx.commit().await?;
        Ok(done.rows_affected() == 1)
    }

    pub(super) async fn schedule_due(&self, p: SchedulesDue) -> Result<Vec<Schedule>> {
        let buckets: Vec<i64> = p.buckets.iter().map(|b| i64::from(*b)).collect();
        let rows = sqlx::query(include_str!("sql/schedules_due.sql"))
            .bind(buckets)
            .bind(ms(p.until))
            .bind(i64::from(p.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::schedule).collect()
    }

    pub(super) async fn occurrence_list(
        &self,
        p: OccurrencesList,
    ) -> Result<Vec<chime_core::model::Occurrence>> {
        let rows = sqlx::query(include_str!("sql/occurrences_list.sql"))
            .bind(&p.schedule_id)
            .bind(p.before.map(ms))
            .bind(i64::from(p.limit))
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(rows::occurrence).collect()
    }
}
