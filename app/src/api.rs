//! Server functions: the UI's calls to the server. Each one reads the session cookie and
//! forwards to the [`AdminPort`](crate::port::AdminPort); authorisation happens behind the port.

use leptos::prelude::*;
use leptos::server_fn;

use crate::models::*;

/// The session cookie. HttpOnly and SameSite=Strict: scripts cannot read it and other sites
/// cannot make the browser send it.
pub const SESSION_COOKIE: &str = "ih_session";

/// The session token in a request's cookies.
#[cfg(feature = "ssr")]
pub fn session_cookie(headers: &http::HeaderMap) -> Option<String> {
    headers
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.to_string())
}

#[cfg(feature = "ssr")]
mod ssr {
    use super::*;
    use crate::port::Admin;

    pub fn admin() -> Result<Admin, Problem> {
        use_context::<Admin>().ok_or_else(|| Problem::new(500, "Internal error", "the admin port is not configured"))
    }

    fn parts() -> Option<http::request::Parts> {
        use_context::<http::request::Parts>()
    }

    /// This call as the port takes it: the session cookie and the client's address.
    pub fn request() -> crate::port::UiRequest {
        let parts = parts();
        crate::port::UiRequest {
            session: parts.as_ref().and_then(|parts| session_cookie(&parts.headers)),
            client_ip: parts.and_then(|p| p.extensions.get::<crate::port::ClientIp>().map(|ip| ip.0.to_string())),
        }
    }

    pub fn set_cookie(value: &str, max_age_seconds: i64) {
        if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
            let over_https = parts().is_some_and(|p| p.extensions.get::<crate::port::OverHttps>().is_some());
            let secure = if over_https { "; Secure" } else { "" };
            let cookie = format!(
                "{SESSION_COOKIE}={value}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{secure}"
            );
            if let Ok(value) = http::HeaderValue::from_str(&cookie) {
                response.append_header(http::header::SET_COOKIE, value);
            }
        }
    }
}

/// Signs in and goes to `next` (the page a "Sign in again" link came from), or to the start.
#[server(prefix = "/ui-api")]
pub async fn sign_in(token: String, next: Option<String>) -> Result<(), Problem> {
    let session = ssr::admin()?.0.sign_in(&ssr::request(), token.trim()).await?;
    ssr::set_cookie(&session, crate::models::SESSION_HOURS * 3600);
    leptos_axum::redirect(page_of_this_site(next.as_deref().unwrap_or_default()));
    Ok(())
}

/// `next` when it is a path on this site, else `/`: the sign-in must not send a browser to
/// another site (`//evil.example` and `/\evil.example` are read by browsers as other hosts).
pub fn page_of_this_site(next: &str) -> &str {
    let local = next.starts_with('/') && !next.starts_with("//") && !next.chars().any(|c| c.is_control() || c == '\\');
    if local {
        next
    } else {
        "/"
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn sign_in_goes_only_to_pages_of_this_site() {
        use super::page_of_this_site;
        for local in ["/", "/tenants/t_1/deliveries", "/tenants/t_1/deliveries?status=failed&since=2026-11-22T10:00"] {
            assert_eq!(page_of_this_site(local), local);
        }
        for elsewhere in [
            "",
            "//evil.example",
            "/\\evil.example",
            "https://evil.example",
            "javascript:alert(1)",
            "/\tevil",
            "/a\\b",
            "tenants",
        ] {
            assert_eq!(page_of_this_site(elsewhere), "/", "{elsewhere:?}");
        }
    }
}

#[server(prefix = "/ui-api")]
pub async fn sign_out() -> Result<(), Problem> {
    ssr::admin()?.0.sign_out(&ssr::request()).await?;
    ssr::set_cookie("", 0);
    leptos_axum::redirect("/login");
    Ok(())
}

#[server(prefix = "/ui-api")]
pub async fn current_session() -> Result<Session, Problem> {
    ssr::admin()?.0.session(&ssr::request()).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn find_tenants(name: String) -> Result<Page<TenantOut>, Problem> {
    ssr::admin()?.0.find_tenants(&ssr::request(), &name).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn create_tenant(input: TenantIn) -> Result<TenantOut, Problem> {
    ssr::admin()?.0.create_tenant(&ssr::request(), input).await
}

#[server(prefix = "/ui-api")]
pub async fn rename_tenant(tenant_id: String, input: TenantIn) -> Result<TenantOut, Problem> {
    ssr::admin()?.0.rename_tenant(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api")]
pub async fn list_webhooks(tenant_id: String) -> Result<Vec<WebhookOut>, Problem> {
    ssr::admin()?.0.list_webhooks(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn list_deliveries(
    tenant_id: String,
    filter: DeliveryFilter,
    cursor: Option<String>,
) -> Result<Page<DeliveryOut>, Problem> {
    ssr::admin()?.0.list_deliveries(&ssr::request(), &tenant_id, filter, cursor).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn get_delivery(tenant_id: String, id: String) -> Result<DeliveryWithAttempts, Problem> {
    ssr::admin()?.0.get_delivery(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn replay_delivery(tenant_id: String, id: String) -> Result<DeliveryOut, Problem> {
    ssr::admin()?.0.replay_delivery(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn get_event(tenant_id: String, id: String) -> Result<EventOut, Problem> {
    ssr::admin()?.0.get_event(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn retry_delivery(tenant_id: String, id: String) -> Result<DeliveryOut, Problem> {
    ssr::admin()?.0.retry_delivery(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn bulk_replay(tenant_id: String, input: BulkReplayIn) -> Result<BulkReplayOut, Problem> {
    ssr::admin()?.0.bulk_replay(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn event_types(tenant_id: String) -> Result<Vec<String>, Problem> {
    ssr::admin()?.0.event_types(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn create_webhook(tenant_id: String, input: WebhookIn) -> Result<WebhookOut, Problem> {
    ssr::admin()?.0.create_webhook(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn update_webhook(tenant_id: String, id: String, patch: WebhookPatch) -> Result<WebhookOut, Problem> {
    ssr::admin()?.0.update_webhook(&ssr::request(), &tenant_id, &id, patch).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn delete_webhook(tenant_id: String, id: String) -> Result<(), Problem> {
    ssr::admin()?.0.delete_webhook(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn webhook_secret(tenant_id: String, id: String) -> Result<String, Problem> {
    ssr::admin()?.0.webhook_secret(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn rotate_webhook_secret(tenant_id: String, id: String, input: RotateSecretIn) -> Result<String, Problem> {
    ssr::admin()?.0.rotate_webhook_secret(&ssr::request(), &tenant_id, &id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn set_webhook_paused(tenant_id: String, id: String, paused: bool) -> Result<WebhookOut, Problem> {
    ssr::admin()?.0.set_webhook_paused(&ssr::request(), &tenant_id, &id, paused).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn test_webhook(tenant_id: String, id: String, input: TestSendIn) -> Result<DeliveryWithAttempts, Problem> {
    ssr::admin()?.0.test_webhook(&ssr::request(), &tenant_id, &id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn echo_requests(tenant_id: String) -> Result<(String, Vec<EchoRequestOut>), Problem> {
    ssr::admin()?.0.echo_requests(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn try_transformation(tenant_id: String, input: TransformTryIn) -> Result<Vec<TransformTryOut>, Problem> {
    ssr::admin()?.0.try_transformation(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn event_type_catalogue(tenant_id: String) -> Result<Vec<EventTypeOut>, Problem> {
    ssr::admin()?.0.event_type_catalogue(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn save_event_type(tenant_id: String, input: EventTypeIn, existing: bool) -> Result<EventTypeOut, Problem> {
    ssr::admin()?.0.save_event_type(&ssr::request(), &tenant_id, input, existing).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn archive_event_type(tenant_id: String, name: String, archived: bool) -> Result<EventTypeOut, Problem> {
    ssr::admin()?.0.archive_event_type(&ssr::request(), &tenant_id, &name, archived).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn tenant_stats(tenant_id: String, window: StatsWindow) -> Result<StatsOut, Problem> {
    ssr::admin()?.0.stats(&ssr::request(), &tenant_id, window).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn audit_log(
    tenant_id: String,
    filter: AuditFilter,
    cursor: Option<String>,
) -> Result<Page<AuditEntryOut>, Problem> {
    ssr::admin()?.0.audit_log(&ssr::request(), &tenant_id, filter, cursor).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn slack_connector(tenant_id: String) -> Result<Option<SlackConnectorOut>, Problem> {
    ssr::admin()?.0.slack_connector(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn save_slack_connector(tenant_id: String, input: SlackConnectorIn) -> Result<SlackConnectorOut, Problem> {
    ssr::admin()?.0.save_slack_connector(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn delete_slack_connector(tenant_id: String) -> Result<(), Problem> {
    ssr::admin()?.0.delete_slack_connector(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn test_slack(tenant_id: String, input: TestSendIn) -> Result<DeliveryWithAttempts, Problem> {
    ssr::admin()?.0.test_slack(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn list_api_keys(tenant_id: String) -> Result<Vec<ApiKeyView>, Problem> {
    ssr::admin()?.0.list_api_keys(&ssr::request(), &tenant_id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn create_api_key(tenant_id: String, input: ApiKeyIn) -> Result<ApiKeyCreated, Problem> {
    ssr::admin()?.0.create_api_key(&ssr::request(), &tenant_id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn rotate_api_key(tenant_id: String, id: String, input: RotateIn) -> Result<ApiKeyCreated, Problem> {
    ssr::admin()?.0.rotate_api_key(&ssr::request(), &tenant_id, &id, input).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn update_api_key(tenant_id: String, id: String, patch: ApiKeyPatch) -> Result<ApiKeyOut, Problem> {
    ssr::admin()?.0.update_api_key(&ssr::request(), &tenant_id, &id, patch).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn revoke_api_key(tenant_id: String, id: String) -> Result<(), Problem> {
    ssr::admin()?.0.revoke_api_key(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn api_key_usage(tenant_id: String, id: String) -> Result<UsageOut, Problem> {
    ssr::admin()?.0.api_key_usage(&ssr::request(), &tenant_id, &id).await
}

#[server(prefix = "/ui-api", input = server_fn::codec::Json)]
pub async fn delete_api_key(tenant_id: String, id: String) -> Result<(), Problem> {
    ssr::admin()?.0.delete_api_key(&ssr::request(), &tenant_id, &id).await
}
