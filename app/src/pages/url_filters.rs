//! A list's filters kept in the URL's query (`…/deliveries?webhook_id=wh_…&status=failed`): read
//! when the page opens and written back when one changes, replacing the history entry, so a
//! filtered list can be linked to (from the Webhooks and API Keys pages, the Dashboard, Slack
//! messages), bookmarked and reloaded.

use leptos::prelude::*;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};
use leptos_router::params::ParamsMap;
use leptos_router::NavigateOptions;

/// The values the page was opened with: `given("status")` is `None` when absent or empty.
/// Read once, untracked: afterwards the page's own signals are the filters' truth.
pub fn opened_with() -> impl Fn(&str) -> Option<String> + Copy + Send + Sync + 'static {
    let query = use_query_map();
    move |name| query.with_untracked(|q| q.get(name)).filter(|v| !v.is_empty())
}

/// Writes `filters()` (name and value; empty values are left out) to the URL whenever they
/// change. Only the query changes, so the router keeps the page (and its state) as it is.
pub fn keep_in_url(filters: impl Fn() -> Vec<(&'static str, String)> + Send + Sync + 'static) {
    let navigate = use_navigate();
    let location = use_location();
    Effect::watch(
        move || filters().into_iter().filter(|(_, value)| !value.is_empty()).collect::<ParamsMap>().to_query_string(),
        move |query, _, _| {
            let options = NavigateOptions { replace: true, scroll: false, ..Default::default() };
            navigate(&format!("{}{query}", location.pathname.get_untracked()), options);
        },
        false,
    );
}
