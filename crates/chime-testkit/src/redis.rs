/// A fresh key prefix on the test Redis (CHIME_TEST_REDIS, default the
/// local server); its keys are deleted when the value is dropped.
pub struct RedisSpace {
    pub prefix: String,
    /// A `--db` URL that uses the prefix.
    pub url: String,
}

pub fn server_url() -> String {
    std::env::var("CHIME_TEST_REDIS").unwrap_or_else(|_| "redis://127.0.0.1:6379/0".into())
}

impl RedisSpace {
    pub fn create() -> RedisSpace {
        // Short, as a deployment's prefix would be: it is part of every key.
        let id = uuid::Uuid::now_v7().simple().to_string();
        let prefix = format!("t{}", &id[id.len() - 12..]);
        let url = format!("{}?prefix={prefix}", server_url());
        RedisSpace { prefix, url }
    }

    /// Deletes every key of the space (its hash tag is `{prefix}`).
    pub fn clear(&self) {
        let Ok(client) = redis::Client::open(server_url()) else {
            return;
        };
        let Ok(mut conn) = client.get_connection() else {
            return;
        };
        let pattern = format!("{{{}}}:*", self.prefix);
        let keys: Vec<String> = redis::cmd("KEYS")
            .arg(&pattern)
            .query(&mut conn)
            .unwrap_or_default();
        for chunk in keys.chunks(500) {
            let _: redis::RedisResult<()> = redis::cmd("DEL").arg(chunk).query(&mut conn);
        }
    }
}

impl Drop for RedisSpace {
    fn drop(&mut self) {
        self.clear();
    }
}
