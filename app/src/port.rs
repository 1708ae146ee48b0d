//! The operations the admin UI needs, declared here and implemented by the server's domain
//! service. Server functions call this trait and never see SQL, so the UI and the REST API run
//! the same code and cannot disagree.

use std::sync::Arc;

use crate::models::*;

/// Rows per page of the admin UI's paged lists (the delivery log and the audit log).
pub const PAGE_SIZE: i64 = 50;

#[async_trait::async_trait]
pub trait AdminPort: Send + Sync + 'static {
    /// Checks an operator token or a tenant admin key and opens a session; returns the session
    /// token to put in the cookie.
    async fn sign_in(&self, cx: &UiRequest, secret: &str) -> Result<String, Problem>;
    async fn sign_out(&self, cx: &UiRequest) -> Result<(), Problem>;
    async fn session(&self, cx: &UiRequest) -> Result<Session, Problem>;
    /// The first `PAGE_SIZE` tenants whose name contains `name` (the operator's alone): the
    /// session lists 500, this finds any of them.
    async fn find_tenants(&self, cx: &UiRequest, name: &str) -> Result<Page<TenantOut>, Problem>;
    /// Creates a tenant: the operator's alone, as on the REST API.
    async fn create_tenant(&self, cx: &UiRequest, input: TenantIn) -> Result<TenantOut, Problem>;
    /// Renames a tenant: the operator's alone, as on the REST API.
    async fn rename_tenant(&self, cx: &UiRequest, tenant_id: &str, input: TenantIn) -> Result<TenantOut, Problem>;
    async fn list_webhooks(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<WebhookOut>, Problem>;
    async fn list_api_keys(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<ApiKeyView>, Problem>;
    async fn create_api_key(&self, cx: &UiRequest, tenant_id: &str, input: ApiKeyIn) -> Result<ApiKeyCreated, Problem>;
    async fn rotate_api_key(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        input: RotateIn,
    ) -> Result<ApiKeyCreated, Problem>;
    /// Changes a key's settings (never the key itself).
    async fn update_api_key(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        patch: ApiKeyPatch,
    ) -> Result<ApiKeyOut, Problem>;
    async fn revoke_api_key(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<(), Problem>;
    async fn delete_api_key(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<(), Problem>;
    /// A key's requests per hour and outcome over the last 7 days.
    async fn api_key_usage(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<UsageOut, Problem>;
    /// A page of the delivery log, newest first, as `audit_log` pages.
    async fn list_deliveries(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        filter: DeliveryFilter,
        cursor: Option<String>,
    ) -> Result<Page<DeliveryOut>, Problem>;
    async fn get_delivery(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<DeliveryWithAttempts, Problem>;
    async fn replay_delivery(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<DeliveryOut, Problem>;
    /// An event, with its payload and its deliveries.
    async fn get_event(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<EventOut, Problem>;
    /// Sends a delivery waiting for its retry at once.
    async fn retry_delivery(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<DeliveryOut, Problem>;
    async fn bulk_replay(&self, cx: &UiRequest, tenant_id: &str, input: BulkReplayIn)
        -> Result<BulkReplayOut, Problem>;
    /// The event-type catalogue the tenant's endpoints may subscribe to.
    async fn event_types(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<String>, Problem>;
    /// Runs a transformation on the tenant's latest events (the endpoint form's "Try it").
    async fn try_transformation(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: TransformTryIn,
    ) -> Result<Vec<TransformTryOut>, Problem>;
    /// The catalogue with schemas: built-in types, then the tenant's (archived ones too).
    async fn event_type_catalogue(&self, cx: &UiRequest, tenant_id: &str) -> Result<Vec<EventTypeOut>, Problem>;
    /// Registers a type (`existing`: false) or replaces an existing one's description, schema,
    /// example and `validate` (a built-in type: `validate` only).
    async fn save_event_type(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: EventTypeIn,
        existing: bool,
    ) -> Result<EventTypeOut, Problem>;
    /// Archives a type (`archived`: true) or restores it.
    async fn archive_event_type(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        name: &str,
        archived: bool,
    ) -> Result<EventTypeOut, Problem>;
    async fn create_webhook(&self, cx: &UiRequest, tenant_id: &str, input: WebhookIn) -> Result<WebhookOut, Problem>;
    async fn update_webhook(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        patch: WebhookPatch,
    ) -> Result<WebhookOut, Problem>;
    async fn delete_webhook(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<(), Problem>;
    async fn webhook_secret(&self, cx: &UiRequest, tenant_id: &str, id: &str) -> Result<String, Problem>;
    async fn rotate_webhook_secret(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        input: RotateSecretIn,
    ) -> Result<String, Problem>;
    /// Pauses the endpoint until resumed (`paused`), or resumes it.
    async fn set_webhook_paused(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        paused: bool,
    ) -> Result<WebhookOut, Problem>;
    /// Sends a sample event now and answers with the delivery and its attempt.
    async fn test_webhook(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        id: &str,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts, Problem>;
    /// What the echo inspector received, newest first, and a fresh echo URL to use.
    async fn echo_requests(&self, cx: &UiRequest, tenant_id: &str) -> Result<(String, Vec<EchoRequestOut>), Problem>;
    /// The delivery analytics over a window.
    async fn stats(&self, cx: &UiRequest, tenant_id: &str, window: StatsWindow) -> Result<StatsOut, Problem>;
    /// A page of the audit log, newest first: `PAGE_SIZE` entries that match, older than
    /// `cursor` (a `next_cursor` of the same filter) when given.
    async fn audit_log(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        filter: AuditFilter,
        cursor: Option<String>,
    ) -> Result<Page<AuditEntryOut>, Problem>;
    /// The tenant's Slack connector, `None` when it has none; and the event-type catalogue.
    async fn slack_connector(&self, cx: &UiRequest, tenant_id: &str) -> Result<Option<SlackConnectorOut>, Problem>;
    async fn save_slack_connector(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: SlackConnectorIn,
    ) -> Result<SlackConnectorOut, Problem>;
    async fn delete_slack_connector(&self, cx: &UiRequest, tenant_id: &str) -> Result<(), Problem>;
    /// Posts a sample message now and answers with the delivery and its attempt.
    async fn test_slack(
        &self,
        cx: &UiRequest,
        tenant_id: &str,
        input: TestSendIn,
    ) -> Result<DeliveryWithAttempts, Problem>;
}

/// One call of a server function as the port sees it: the session cookie (absent before
/// signing in) and the client's address for the audit log, read once per call.
#[derive(Clone, Debug, Default)]
pub struct UiRequest {
    pub session: Option<String>,
    pub client_ip: Option<String>,
}

/// What the server hands to Leptos as context.
#[derive(Clone)]
pub struct Admin(pub Arc<dyn AdminPort>);

/// The client's address, put into the request's extensions by the server so that sign-ins can be
/// audited with their source: the peer, or the client a trusted proxy names.
#[derive(Clone, Copy, Debug)]
pub struct ClientIp(pub std::net::IpAddr);

/// Put into the request's extensions by the server when the client came over HTTPS (through a
/// trusted proxy that says so): the session cookie is then `Secure`, never sent over plain HTTP.
#[derive(Clone, Copy, Debug)]
pub struct OverHttps;
