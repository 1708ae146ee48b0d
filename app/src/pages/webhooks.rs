use leptos::prelude::*;

use super::layout::{short_time, tenant_param, ProblemBox, Shell};
use crate::api::list_webhooks;

#[component]
pub fn WebhooksPage() -> impl IntoView {
    let tenant = tenant_param();
    let webhooks = Resource::new(tenant, list_webhooks);
    view! {
        <Shell>
            <h1>"Webhooks"</h1>
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || webhooks.get().map(|result| match result {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok(list) if list.is_empty() => view! {
                        <p class="muted">"No endpoint yet."</p>
                    }.into_any(),
                    Ok(list) => view! {
                        <table class="table" data-testid="webhooks">
                            <thead><tr>
                                <th>"URL"</th><th>"Events"</th><th>"State"</th><th>"Created"</th>
                            </tr></thead>
                            <tbody>
                                {list.into_iter().map(|w| view! {
                                    <tr data-id=w.id.clone()>
                                        <td><code>{w.url}</code></td>
                                        <td>{w.events.join(", ")}</td>
                                        <td>{if w.enabled { "enabled" } else { "disabled" }}</td>
                                        <td>{short_time(&w.created_at)}</td>
                                    </tr>
                                }).collect_view()}
                            </tbody>
                        </table>
                    }.into_any(),
                })}
            </Transition>
        </Shell>
    }
}
