//! The echo inspector page: a URL to point an endpoint at, and what arrived there, each request
//! with its headers, body and whether its signature verified. Updates live.

use leptos::prelude::*;

use super::layout::{copy_to_clipboard, live_updates, short_time, tenant_param, LiveBadge, ProblemBox, Shell};
use crate::api::echo_requests;

#[component]
pub fn EchoPage() -> impl IntoView {
    let tenant = tenant_param();
    let live = live_updates(tenant.clone());
    let received = Resource::new(move || (tenant(), live.tick.get()), |(t, _)| echo_requests(t));
    // The URL offered is the first one fetched: it must not change under the user's feet.
    let offered = RwSignal::new(None::<String>);
    Effect::new(move |_| {
        if offered.get_untracked().is_none() {
            if let Some(Ok((url, _))) = received.get() {
                offered.set(Some(url));
            }
        }
    });
    view! {
        <Shell>
            <div class="toolbar">
                <h1>"Echo inspector"</h1>
                <span class="spacer"></span>
                <LiveBadge live/>
            </div>
            <p class="muted">
                "A receiver built into the hub. Point an endpoint at an echo URL (the endpoint form's "
                "\u{201c}Use the built-in echo inspector\u{201d} does it), send a test event, and see here what arrived "
                "and whether its signature verified with the endpoint's secret."
            </p>
            {move || offered.get().map(|url| {
                let copy = url.clone();
                view! {
                    <div class="toolbar">
                        <input type="text" readonly class="key" data-testid="echo-url" prop:value=url/>
                        <button on:click=move |_| copy_to_clipboard(&copy)>"Copy"</button>
                    </div>
                }
            })}
            <Transition fallback=|| view! { <p class="muted">"Loading…"</p> }>
                {move || received.get().map(|result| match result {
                    Err(problem) => view! { <ProblemBox problem/> }.into_any(),
                    Ok((_, list)) if list.is_empty() => view! { <p class="muted">"Nothing received yet."</p> }.into_any(),
                    Ok((_, list)) => view! {
                        <ul class="cards" data-testid="echo-requests">
                            {list.into_iter().map(|r| view! {
                                <li class="card column" data-id=r.id.clone()>
                                    <div class="toolbar">
                                        <strong>{r.headers.get("x-webhook-event").cloned().unwrap_or_else(|| "request".into())}</strong>
                                        <code>{r.path.clone()}</code>
                                        <span class="muted">{short_time(&r.received_at)}</span>
                                        <span class=if r.signature_verified { "badge delivered" } else { "badge dead_letter" } data-testid="echo-verified">
                                            {if r.signature_verified { "signature verified" } else { "signature NOT verified" }}
                                        </span>
                                    </div>
                                    <details>
                                        <summary>"Headers and body"</summary>
                                        <pre class="headers">{r.headers.iter().map(|(k, v)| format!("{k}: {v}\n")).collect::<String>()}</pre>
                                        <pre class="body">{r.body.clone()}</pre>
                                    </details>
                                </li>
                            }).collect_view()}
                        </ul>
                    }.into_any(),
                })}
            </Transition>
        </Shell>
    }
}
