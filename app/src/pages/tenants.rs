use leptos::prelude::*;

use super::layout::Shell;
use crate::api::current_session;

/// The landing page: the tenants this session may manage.
#[component]
pub fn TenantsPage() -> impl IntoView {
    view! {
        <Shell>
            <h1>"Tenants"</h1>
            <TenantList/>
        </Shell>
    }
}

#[component]
fn TenantList() -> impl IntoView {
    let session = Resource::new(|| (), |_| current_session());
    view! {
        <Suspense fallback=|| ()>
            {move || session.get().and_then(|s| s.ok()).map(|s| {
                if s.tenants.is_empty() {
                    return view! {
                        <p class="muted">"No tenant yet. Create one with "
                        <code>"POST /api/v1/tenants"</code>"."</p>
                    }.into_any();
                }
                view! {
                    <ul class="cards">
                        {s.tenants.into_iter().map(|t| view! {
                            <li class="card">
                                <strong>{t.name}</strong>
                                <code class="muted">{t.id.clone()}</code>
                                <a href=format!("/tenants/{}/webhooks", t.id)>"Webhooks"</a>
                                <a href=format!("/tenants/{}/deliveries", t.id)>"Deliveries"</a>
                                <a href=format!("/tenants/{}/api-keys", t.id)>"API keys"</a>
                            </li>
                        }).collect_view()}
                    </ul>
                }.into_any()
            })}
        </Suspense>
    }
}
