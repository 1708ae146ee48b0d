use std::time::Duration;

use leptos::prelude::*;

use super::layout::{short_time, tenant_param, ProblemBox, Shell};
use crate::api::list_deliveries;
use crate::models::DeliveryStatus;

/// The delivery log. It refreshes itself every second once hydrated, so a new delivery shows up
/// without a reload (and the status filter works only with the wasm running).
#[component]
pub fn DeliveriesPage() -> impl IntoView {
    let tenant = tenant_param();
    let status = RwSignal::new(None::<DeliveryStatus>);
    let tick = RwSignal::new(0u64);
    let deliveries = Resource::new(
        move || (tenant(), status.get(), tick.get()),
        |(tenant, status, _)| list_deliveries(tenant, status),
    );
    // Effects run only in the browser: this timer is proof that hydration happened.
    Effect::new(move |_| {
        let handle = set_interval_with_handle(
            move || tick.update(|t| *t += 1),
            Duration::from_secs(1),
        );
        on_cleanup(move || {
            if let Ok(handle) = handle {
                handle.clear();
            }
        });
    });
    let on_filter = move |ev| {
        let value = event_target_value(&ev);
        status.set(DeliveryStatus::parse(&value));
    };
    view! {
        <Shell>
            <h1>"Deliveries"</h1>
            <div class="toolbar">
                <label for="status-filter">"Status"</label>
                <select id="status-filter" on:change=on_filter>
                    <option value="">"all"</option>
                    {DeliveryStatus::ALL.into_iter().map(|s| view! {
                        <option value=s.as_str()>{s.as_str()}</option>
                    }).collect_view()}
                </select>
            </div>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || deliveries.get().map(|result| match result {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="deliveries">
                            <thead><tr>
                                <th>"Delivery"</th><th>"Event"</th><th>"Status"</th>
                                <th>"Attempts"</th><th>"Last response"</th><th>"Created"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|d| {
                                    let (row_id, event_id) = (d.id.clone(), d.event_id.clone());
                                    view! {
                                    <tr data-id=row_id data-event-id=event_id>
                                        <td><code>{d.id}</code></td>
                                        <td>{d.event_type}</td>
                                        <td><span class=format!("badge {}", d.status.as_str())>
                                            {d.status.as_str()}
                                        </span></td>
                                        <td>{d.attempt_count}</td>
                                        <td>{d.last_status_code.map(|c| c.to_string())
                                            .or(d.last_error).unwrap_or_default()}</td>
                                        <td>{short_time(&d.created_at)}</td>
                                    </tr>
                                }}).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </Shell>
    }
}
