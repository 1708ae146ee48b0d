//! JSON logs on stdout, one object a line, at `IH_LOG_LEVEL`.

pub fn init(level: &str) {
    let filter =
        tracing_subscriber::EnvFilter::new(format!("{level},sqlx=warn,hyper=warn,leptos=warn,tower_http=warn"));
    let _ = tracing_subscriber::fmt().json().with_env_filter(filter).with_current_span(false).try_init();
}
