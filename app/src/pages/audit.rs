//! The audit log: who changed what and when, newest first, a page at a time, filtered by actor,
//! action, target and time.

use leptos::prelude::*;

use super::layout::{latest, local_input_to_utc, short_time, tenant_param, Kept, KeptFor, ProblemBox, Shell};
use super::pager::{Pager, PagerBar};
use super::url_filters::{keep_in_url, opened_with};
use crate::api::audit_log;
use crate::models::{AuditFilter, AUDIT_ACTIONS};

#[component]
pub fn AuditPage() -> impl IntoView {
    let tenant = tenant_param();
    // In the URL, as the delivery log's: the API Keys page links a key to its entries.
    let given = opened_with();
    let [actor, action, target, since, until] =
        ["actor", "action", "target", "since", "until"].map(|name| RwSignal::new(given(name).unwrap_or_default()));
    keep_in_url(move || {
        vec![
            ("actor", actor.get()),
            ("action", action.get()),
            ("target", target.get()),
            ("since", since.get()),
            ("until", until.get()),
        ]
    });
    let pager = Pager::default();
    let present = |s: RwSignal<String>| Some(s.get().trim().to_string()).filter(|s| !s.is_empty());
    let entries = LocalResource::new(move || {
        let filter = AuditFilter {
            actor: present(actor),
            action: present(action),
            target: present(target),
            since: local_input_to_utc(since.get()),
            until: local_input_to_utc(until.get()),
        };
        audit_log(tenant(), filter, pager.cursor())
    });
    // Through `latest`, never `entries.get()` in the view: see there. The last list stays on
    // screen while a new filter's answer is on its way.
    let shown = latest(entries);
    let next = Signal::derive(move || shown.with(|s| s.as_ref().and_then(|r| r.as_ref().ok()?.next_cursor.clone())));
    // A new filter starts again from its newest entries.
    let set = move |signal: RwSignal<String>, value: String| {
        pager.reset();
        signal.set(value);
    };
    let text_filter = move |id: &'static str,
                            label: &'static str,
                            placeholder: &'static str,
                            signal: RwSignal<String>| {
        view! {
            <span class="filter">
                <label for=id>{label}</label>
                <input id=id type="search" placeholder=placeholder prop:value=move || signal.get() on:change=move |ev| set(signal, event_target_value(&ev))/>
            </span>
        }
    };
    let time_filter = move |id: &'static str, label: &'static str, signal: RwSignal<String>| {
        view! {
            <span class="filter">
                <label for=id>{label}</label>
                <input id=id type="datetime-local" prop:value=move || signal.get() on:change=move |ev| set(signal, event_target_value(&ev))/>
            </span>
        }
    };
    view! {
        <Shell>
            <div class="toolbar"><h1>"Audit log"</h1></div>
            <div class="toolbar filters">
                {text_filter("actor-filter", "Actor", "operator, key_…, system", actor)}
                <span class="filter"><label for="action-filter">"Action"</label>
                <select id="action-filter" on:change=move |ev| set(action, event_target_value(&ev))>
                    <option value="">"all"</option>
                    {["tenant", "api_key", "webhook", "delivery", "session", "connector"].into_iter().map(|area| view! {
                        <option value=area selected=move || action.get() == area>{format!("{area}.*")}</option>
                    }).collect_view()}
                    {AUDIT_ACTIONS.iter().map(|a| view! { <option value=*a selected=move || action.get() == *a>{*a}</option> }).collect_view()}
                </select></span>
                {text_filter("target-filter", "Target", "wh_…, key_…", target)}
                {time_filter("audit-since", "Since (UTC)", since)}
                {time_filter("audit-until", "Until (UTC)", until)}
            </div>
            // No <Suspense> here: around a LocalResource in server-rendered content it kept its
            // fallback after hydration (seen in Chromium); a plain closure updates reliably.
            {move || match shown.get() {
                    None => view! { <p class="muted">"Loading…"</p> }.into_any(),
                    Some(Err(problem)) => view! { <ProblemBox problem/> }.into_any(),
                    Some(Ok(page)) if page.data.is_empty() => view! { <p class="muted" data-testid="audit-empty">"No entry matches these filters."</p> }.into_any(),
                    Some(Ok(page)) => view! {
                        <table class="table" data-testid="audit-log">
                            <thead><tr><th>"Time (UTC)"</th><th>"Actor"</th><th>"Action"</th><th>"Target"</th><th>"Source IP"</th></tr></thead>
                            <tbody>
                                {page.data.into_iter().map(|e| {
                                    let action = e.action.clone();
                                    view! {
                                    <tr data-action=action>
                                        <td>{short_time(&e.created_at)}</td>
                                        <td class="mono">{e.actor}</td>
                                        <td>{e.action}</td>
                                        <td class="mono">{e.target.unwrap_or_default()}</td>
                                        <td class="mono">{e.source_ip.unwrap_or_default()}</td>
                                    </tr>
                                    }
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
            }}
            <PagerBar pager next/>
            <KeptFor rows=Kept::AuditEntries/>
        </Shell>
    }
}
