use leptos::prelude::*;

use crate::api::SignIn;

#[component]
pub fn LoginPage() -> impl IntoView {
    let sign_in = ServerAction::<SignIn>::new();
    // Where a "Sign in again" link came from: the sign-in returns there (a page of this site only).
    let next = leptos_router::hooks::use_query_map().with_untracked(|q| q.get("next")).unwrap_or_default();
    let error = move || {
        sign_in
            .value()
            .get()
            .and_then(|result| result.err())
            .map(|problem| view! { <p class="field-error" role="alert">{problem.detail}</p> })
    };
    view! {
        <main class="page narrow">
            <h1>"Sign in"</h1>
            <p class="muted">"Use the operator token, or an admin API key of a tenant."</p>
            <ActionForm action=sign_in>
                <label for="token">"Token or API key"</label>
                <input id="token" name="token" type="password" autocomplete="off" required/>
                <input type="hidden" name="next" value=next/>
                {error}
                <button type="submit" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </ActionForm>
        </main>
    }
}
