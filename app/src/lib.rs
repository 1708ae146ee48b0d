//! The admin UI (Leptos, rendered on the server and hydrated in the browser) and the typed models
//! it shares with the REST API.

// Leptos views are deeply nested types; the webhooks table row exceeds the default limit.
#![recursion_limit = "256"]

pub mod api;
pub mod ids;
pub mod models;
mod pages;
#[cfg(feature = "ssr")]
pub mod port;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Link, MetaTags, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around the app, rendered on the server.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8"/>
                <meta name="viewport" content="width=device-width, initial-scale=1"/>
                <HydrationScripts options/>
                <MetaTags/>
            </head>
            <body>
                <App/>
            </body>
        </html>
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/integrations-hub.css"/>
        // Without an icon of its own, every page load asks for /favicon.ico and logs a 404.
        <Link rel="icon" type_="image/svg+xml" href="/favicon.svg"/>
        <Title text="Integrations Hub"/>
        <Router>
            <Routes fallback=|| view! { <main class="page"><h1>"Not found"</h1></main> }>
                <Route path=path!("/login") view=pages::login::LoginPage/>
                <Route path=path!("/") view=pages::tenants::TenantsPage/>
                <Route path=path!("/tenants/:tid/dashboard") view=pages::dashboard::DashboardPage/>
                <Route path=path!("/tenants/:tid/webhooks") view=pages::webhooks::WebhooksPage/>
                <Route path=path!("/tenants/:tid/event-types") view=pages::event_types::EventTypesPage/>
                <Route path=path!("/tenants/:tid/deliveries") view=pages::deliveries::DeliveriesPage/>
                <Route path=path!("/tenants/:tid/dead-letters") view=pages::deliveries::DeadLettersPage/>
                <Route path=path!("/tenants/:tid/echo") view=pages::echo::EchoPage/>
                <Route path=path!("/tenants/:tid/api-keys") view=pages::keys::KeysPage/>
                <Route path=path!("/tenants/:tid/audit") view=pages::audit::AuditPage/>
                <Route path=path!("/tenants/:tid/slack") view=pages::slack::SlackPage/>
            </Routes>
        </Router>
    }
}
