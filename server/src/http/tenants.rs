use axum::extract::State;
use axum::http::StatusCode;
use axum::response::Response;

use app::models::{Page, TenantIn, TenantOut, WhoAmIOut};

use super::route::Route;
use super::route::{schema, Auth, Op};
use super::{json_bytes, AppState, Json, Query, Tenant};
use crate::domain::auth::Actor;
use crate::error::Result;

pub fn routes() -> Vec<Route> {
    vec![
        Op::post("/api/v1/tenants", "Tenants", "Create a tenant")
            .auth(Auth::Operator)
            .body(schema::<TenantIn>)
            .answers(201, Some(schema::<TenantOut>))
            .to(create),
        Op::get("/api/v1/tenants", "Tenants", "List tenants")
            .auth(Auth::Operator)
            .query("name", "only the tenants whose name contains this text, ignoring case")
            .paged()
            .answers(200, Some(schema::<Page<TenantOut>>))
            .to(list),
        Op::get("/api/v1/tenants/{tenant_id}", "Tenants", "One tenant")
            .auth(Auth::Operator)
            .answers(200, Some(schema::<TenantOut>))
            .to(one),
        Op::patch("/api/v1/tenants/{tenant_id}", "Tenants", "Rename a tenant")
            .auth(Auth::Operator)
            .body(schema::<TenantIn>)
            .answers(200, Some(schema::<TenantOut>))
            .to(rename),
        Op::get("/api/v1/whoami", "Tenants", "Who the credential is")
            .answers(200, Some(schema::<WhoAmIOut>))
            .to(whoami),
    ]
}

/// Who the credential is: the operator, or a key with its tenant and scopes. No database work
/// and no serialising: see `Principal::identity`. This is the route the authentication
/// benchmark measures.
async fn whoami(who: Actor) -> Response {
    json_bytes(who.identity())
}

async fn create(
    State(s): State<AppState>,
    who: Actor,
    Json(input): Json<TenantIn>,
) -> Result<(StatusCode, Json<TenantOut>)> {
    let tenant = s.hub.create_tenant(&who, input).await?;
    Ok((StatusCode::CREATED, Json(tenant)))
}

/// The tenant list's query: paging, and a name to look for. `PageQuery`'s two fields are
/// repeated rather than `#[serde(flatten)]`ed: through a flatten, serde_urlencoded hands every
/// value over as a string, and `limit` would no longer parse as a number.
#[derive(Debug, Default, serde::Deserialize)]
struct TenantQuery {
    name: Option<String>,
    limit: Option<i64>,
    cursor: Option<String>,
}

async fn list(State(s): State<AppState>, who: Actor, Query(q): Query<TenantQuery>) -> Result<Json<Page<TenantOut>>> {
    Ok(Json(s.hub.list_tenants(&who, q.cursor.as_deref(), q.limit, q.name.as_deref()).await?))
}

async fn rename(
    State(s): State<AppState>,
    who: Actor,
    Tenant(tenant_id): Tenant,
    Json(input): Json<TenantIn>,
) -> Result<Json<TenantOut>> {
    Ok(Json(s.hub.rename_tenant(&who, &tenant_id, input).await?))
}

async fn one(State(s): State<AppState>, who: Actor, Tenant(tenant_id): Tenant) -> Result<Json<TenantOut>> {
    Ok(Json(s.hub.get_tenant(&who, &tenant_id).await?))
}
