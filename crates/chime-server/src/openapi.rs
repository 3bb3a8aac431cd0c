//! The OpenAPI 3 document served at `/openapi.json`, derived from the
//! handlers' annotations and the request and response types themselves.

use crate::routes::{health, instances, jobs, metrics, queues, schedules, workers};
use crate::wire::ErrorBody;
use serde_json::{json, Map, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{IntoResponses, Modify, OpenApi};

/// Every refusal an API call can meet; each body is `{"error": {…}}`.
#[derive(IntoResponses)]
#[allow(dead_code)]
pub enum Refusals {
    /// Bad input: `error.field` names the field at fault.
    #[response(status = 400)]
    Invalid(ErrorBody),
    /// No token, or not a valid one (with `--auth`).
    #[response(status = 401)]
    Unauthorized(ErrorBody),
    /// The token's role does not cover this call.
    #[response(status = 403)]
    Forbidden(ErrorBody),
    /// No such schedule, job or route.
    #[response(status = 404)]
    NotFound(ErrorBody),
    /// A version conflict, a lost lease, a state that does not allow this,
    /// or a schedule owned by the schedules file.
    #[response(status = 409)]
    Conflict(ErrorBody),
    /// The body is over 1 MiB.
    #[response(status = 413)]
    TooLarge(ErrorBody),
    /// The body is not `application/json`.
    #[response(status = 415)]
    UnsupportedMediaType(ErrorBody),
    /// The store cannot be reached; try again.
    #[response(status = 503)]
    Unavailable(ErrorBody),
}

#[derive(OpenApi)]
#[openapi(
    info(
        title = "chime",
        description = "A distributed cron and job scheduler: schedules, jobs, queues, external workers.",
    ),
    paths(
        schedules::create, schedules::list, schedules::get, schedules::patch, schedules::delete,
        schedules::pause, schedules::resume, schedules::trigger, schedules::occurrences,
        jobs::enqueue, jobs::list, jobs::get, jobs::delete, jobs::cancel, jobs::retry,
        queues::list, queues::pause, queues::resume,
        workers::claim, workers::heartbeat, workers::complete, workers::fail,
        instances::list,
        health::healthz, health::readyz, metrics::metrics,
    ),
    modifiers(&BearerAuth),
    security(("bearer" = [])),
)]
pub struct ApiDoc;

/// Bearer tokens (`chime token create`); asked for only with `--auth`.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
    }
}

/// The document as JSON, built once.
pub fn document() -> &'static str {
    static DOC: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
        let mut doc = serde_json::to_value(ApiDoc::openapi()).unwrap_or(Value::Null);
        refine(&mut doc);
        doc.to_string()
    });
    &DOC
}

/// Two things the derived document says differently from what the API does.
/// A record that flattens another (a job is its template plus state) comes
/// out as `allOf` with a part that forbids extra properties, which no stored
/// record could satisfy: such schemas are merged into one object. And
/// `misfire` also takes the policy alone (`"misfire": "skip"`).
fn refine(doc: &mut Value) {
    let Some(schemas) = doc.pointer("/components/schemas").cloned() else {
        return;
    };
    merge_all(doc, &schemas);
    if let Some(misfire) = doc.pointer_mut("/components/schemas/ScheduleSpec/properties/misfire") {
        *misfire = json!({"oneOf": [
            {"$ref": "#/components/schemas/MisfirePolicy"},
            {"$ref": "#/components/schemas/Misfire"},
        ]});
    }
}

/// Every `allOf`, wherever it is (generic pages inline theirs), merged.
fn merge_all(v: &mut Value, schemas: &Value) {
    if v.get("allOf").is_some() {
        *v = merged(v, schemas);
    }
    match v {
        Value::Object(m) => m.values_mut().for_each(|c| merge_all(c, schemas)),
        Value::Array(a) => a.iter_mut().for_each(|c| merge_all(c, schemas)),
        _ => {}
    }
}

/// One object with the properties and required names of every `allOf` part.
fn merged(schema: &Value, schemas: &Value) -> Value {
    let mut properties = Map::new();
    let mut required: Vec<Value> = Vec::new();
    let parts = schema["allOf"].as_array().cloned().unwrap_or_default();
    for part in parts {
        let part = match part["$ref"].as_str() {
            Some(r) => {
                let name = r.rsplit('/').next().unwrap_or_default();
                let target = &schemas[name];
                if target.get("allOf").is_some() {
                    merged(target, schemas)
                } else {
                    target.clone()
                }
            }
            None => part,
        };
        if let Some(Value::Object(p)) = part.get("properties") {
            properties.extend(p.clone());
        }
        if let Some(Value::Array(r)) = part.get("required") {
            required.extend(
                r.iter()
                    .filter(|n| !required.contains(n))
                    .cloned()
                    .collect::<Vec<_>>(),
            );
        }
    }
    let mut out = json!({"type": "object", "properties": properties, "required": required});
    if let Some(d) = schema.get("description") {
        out["description"] = d.clone();
    }
    out
}
