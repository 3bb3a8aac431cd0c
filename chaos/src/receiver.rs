//! The HTTP target of every schedule: counts deliveries per job.

use axum::http::{HeaderMap, StatusCode};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};

#[derive(Clone, Default)]
pub struct Receiver {
    deliveries: Arc<Mutex<HashMap<String, u32>>>,
    pub port: u16,
}

impl Receiver {
    pub async fn start() -> anyhow::Result<Receiver> {
        let deliveries: Arc<Mutex<HashMap<String, u32>>> = Arc::default();
        let sink = deliveries.clone();
        let app = axum::Router::new().fallback(move |headers: HeaderMap| {
            let sink = sink.clone();
            async move {
                let id = headers
                    .get("chime-job-id")
                    .and_then(|v| v.to_str().ok())
                    .unwrap_or_default()
                    .to_string();
                if let Ok(mut d) = sink.lock() {
                    *d.entry(id).or_default() += 1;
                }
                StatusCode::OK
            }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let port = listener.local_addr()?.port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Ok(Receiver { deliveries, port })
    }

    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/hook", self.port)
    }

    /// Job id → how many times it was delivered.
    pub fn deliveries(&self) -> HashMap<String, u32> {
        self.deliveries
            .lock()
            .map(|d| d.clone())
            .unwrap_or_default()
    }
}
