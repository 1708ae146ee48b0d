//! The Slack page: the tenant's Slack connector (bot token, channel, which events it posts,
//! alerts), a test message with Slack's answer, and removal.

use leptos::prelude::*;

use super::layout::{EventChoices, FieldMessage, FormProblem, ProblemBox, Shell};
use crate::api::{slack_connector, DeleteSlackConnector, SaveSlackConnector, TestSlack};
use crate::models::*;

#[component]
pub fn SlackPage() -> impl IntoView {
    let tenant = super::layout::tenant_param();
    let refresh = RwSignal::new(0u32);
    // Kept here: the form is rebuilt when the connector reloads after a save.
    let saved_note = RwSignal::new(false);
    // A signal is Copy, so the view's closures can each read it.
    let tenant = Signal::derive(tenant);
    let connector = LocalResource::new(move || {
        refresh.track();
        slack_connector(tenant.get())
    });
    // Keeps the form on screen while a reload is on its way (after a save).
    let shown = super::layout::latest(connector);
    view! {
        <Shell>
            <div class="toolbar"><h1>"Slack"</h1></div>
            <p class="muted">
                "Posts the events you pick to a Slack channel through the delivery engine: retried, "
                "recorded and replayable like any webhook. Pick the alert events to hear about failing endpoints."
            </p>
            // A plain closure, not <Transition>: see the audit page.
            {move || match shown.get() {
                None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                Some(Err(problem)) => view! { <ProblemBox problem/> }.into_any(),
                Some(Ok(existing)) => view! {
                    <SlackForm tenant=tenant.get() existing saved_note on_changed=move || refresh.update(|n| *n += 1)/>
                }.into_any(),
            }}
        </Shell>
    }
}

fn source_text(source: SettingSource, what: &str) -> String {
    match source {
        SettingSource::Connector => format!("{what}: set on this connector"),
        SettingSource::Default => format!("{what}: the hub's default"),
        SettingSource::Missing => format!("{what}: missing"),
    }
}

#[component]
fn SlackForm(
    tenant: String,
    existing: Option<SlackConnectorOut>,
    saved_note: RwSignal<bool>,
    on_changed: impl Fn() + Copy + Send + Sync + 'static,
) -> impl IntoView {
    let save = ServerAction::<SaveSlackConnector>::new();
    let test = ServerAction::<TestSlack>::new();
    let remove = ServerAction::<DeleteSlackConnector>::new();
    let own_channel =
        existing.as_ref().filter(|c| c.channel_source == SettingSource::Connector).and_then(|c| c.channel.clone());
    let default_channel =
        existing.as_ref().filter(|c| c.channel_source == SettingSource::Default).and_then(|c| c.channel.clone());
    let channel = RwSignal::new(own_channel.unwrap_or_default());
    let token = RwSignal::new(String::new());
    let enabled = RwSignal::new(existing.as_ref().is_none_or(|c| c.enabled));
    let events = RwSignal::new(
        existing.as_ref().map(|c| c.events.clone()).unwrap_or_else(|| vec!["request_submitted".to_string()]),
    );
    Effect::new(move |_| {
        if matches!(save.value().get(), Some(Ok(_))) {
            token.set(String::new());
            saved_note.set(true);
            on_changed();
        }
    });
    Effect::new(move |_| {
        if matches!(remove.value().get(), Some(Ok(_))) {
            on_changed();
        }
    });
    let problem = Signal::derive(move || save.value().get().and_then(|r| r.err()));
    let submit = {
        let tenant = tenant.clone();
        move |ev: leptos::ev::SubmitEvent| {
            ev.prevent_default();
            saved_note.set(false);
            let input = SlackConnectorIn {
                enabled: Some(enabled.get_untracked()),
                // Left empty, the stored token is kept.
                bot_token: Some(token.get_untracked().trim().to_string()).filter(|t| !t.is_empty()),
                channel: Some(channel.get_untracked().trim().to_string()),
                events: Some(events.get_untracked()),
            };
            save.dispatch(SaveSlackConnector { tenant_id: tenant.clone(), input });
        }
    };
    let token_placeholder = match existing.as_ref().map(|c| c.token_source) {
        Some(SettingSource::Connector) => "set (encrypted); type a new one to replace it",
        Some(SettingSource::Default) => "using the hub's default token; type one to override",
        _ => "xoxb-…",
    };
    let channel_placeholder = default_channel.map(|c| format!("default: {c}")).unwrap_or_else(|| "#channel".into());
    let status = existing.clone().map(|c| view! {
        <div class="panel" data-testid="slack-status">
            <p>
                <span class=if c.enabled { "badge delivered" } else { "badge dead_letter" }>{if c.enabled { "enabled" } else { "disabled" }}</span>" "
                {c.channel.clone().map(|ch| format!("posting to {ch}")).unwrap_or_else(|| "no channel".into())}
            </p>
            <p class="muted">{source_text(c.token_source, "Token")}" · "{source_text(c.channel_source, "Channel")}</p>
            {c.disabled_reason.clone().map(|r| view! { <p class="warning" data-testid="slack-disabled-reason">{format!("Disabled: {r}")}</p> })}
        </div>
    });
    let has_connector = existing.is_some();
    let confirming = RwSignal::new(false);
    let (test_tenant, remove_tenant) = (tenant.clone(), tenant.clone());
    view! {
        {status}
        <form class="panel form" on:submit=submit aria-label="Slack connector">
            <label class="inline">
                <input type="checkbox" id="slack-enabled" prop:checked=move || enabled.get() on:change=move |ev| enabled.set(event_target_checked(&ev))/>
                "Enabled"
            </label>
            <label for="slack-token">"Bot token"</label>
            <input id="slack-token" type="password" autocomplete="off" placeholder=token_placeholder
                prop:value=move || token.get() on:input=move |ev| token.set(event_target_value(&ev))/>
            <FieldMessage problem field="bot_token"/>
            <label for="slack-channel">"Channel"</label>
            <input id="slack-channel" type="text" placeholder=channel_placeholder
                prop:value=move || channel.get() on:input=move |ev| channel.set(event_target_value(&ev))/>
            <FieldMessage problem field="channel"/>
            <fieldset class="events">
                <legend>"Events to post"</legend>
                <EventChoices tenant=tenant.clone() events/>
            </fieldset>
            <FieldMessage problem field="events"/>
            <div class="toolbar">
                <button type="submit" disabled=move || save.pending().get()>
                    {move || if save.pending().get() { "Saving…" } else if has_connector { "Save" } else { "Connect Slack" }}
                </button>
                {move || saved_note.get().then(|| view! { <span class="field-ok" data-testid="slack-saved">"Saved"</span> })}
            </div>
            <FormProblem problem fields=&["bot_token", "channel", "events"]/>
        </form>
        {has_connector.then(|| view! {
            <div class="panel">
                <div class="toolbar">
                    <button type="button" disabled=move || test.pending().get()
                        on:click=move |_| { test.dispatch(TestSlack { tenant_id: test_tenant.clone(), input: TestSendIn::default() }); }>
                        {move || if test.pending().get() { "Sending…" } else { "Send a test message" }}
                    </button>
                    <span class="spacer"></span>
                    {move || if confirming.get() {
                        let tenant = remove_tenant.clone();
                        view! {
                            <span>"Remove the connector? Its delivery history stays. "</span>
                            <button type="button" class="danger" on:click=move |_| {
                                remove.dispatch(DeleteSlackConnector { tenant_id: tenant.clone() });
                                confirming.set(false);
                            }>"Remove"</button>
                            <button type="button" class="secondary" on:click=move |_| confirming.set(false)>"Cancel"</button>
                        }.into_any()
                    } else {
                        view! { <button type="button" class="secondary danger" on:click=move |_| confirming.set(true)>"Remove…"</button> }.into_any()
                    }}
                </div>
                {move || test.value().get().map(|result| match result {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok(sent) => view! { <SlackTestResult sent/> }.into_any(),
                })}
            </div>
        })}
    }
}

#[component]
fn SlackTestResult(sent: DeliveryWithAttempts) -> impl IntoView {
    let attempt = sent.attempts.last().cloned();
    let summary = attempt.as_ref().map(|a| match (&a.error_kind, a.status_code) {
        (Some(kind), _) => format!(
            "Slack refused it: {kind}{}",
            a.error_message.as_ref().map(|m| format!(" ({m})")).unwrap_or_default()
        ),
        (None, Some(code)) => format!("Posted: HTTP {code} in {} ms", a.duration_ms),
        (None, None) => "No answer".to_string(),
    });
    view! {
        <div class="test-result" data-testid="slack-test-result">
            <p>
                <span class=format!("badge {}", sent.delivery.status.as_str())>{sent.delivery.status.as_str()}</span>" "
                {summary}
            </p>
            {attempt.and_then(|a| a.response_body).filter(|b| !b.is_empty()).map(|body| view! { <pre class="body">{body}</pre> })}
        </div>
    }
}
