//! Starts the hub: configuration from `IH_*`, JSON logs, the server and the delivery worker.

use integrations_hub::config::Config;

#[tokio::main]
async fn main() {
    let config = match Config::from_env() {
        Ok(config) => config,
        Err(e) => fail(&format!("bad configuration: {e}")),
    };
    integrations_hub::telemetry::init(&config.log_level);
    let listener = match tokio::net::TcpListener::bind(config.bind).await {
        Ok(listener) => listener,
        Err(e) => fail(&format!("IH_BIND: cannot listen on {}: {e}", config.bind)),
    };
    let app = match integrations_hub::build(config.clone(), listener).await {
        Ok(app) => app,
        Err(e) => fail(&e),
    };
    let addr = app.local_addr();
    let host = if addr.ip().is_unspecified() { "127.0.0.1".to_string() } else { addr.ip().to_string() };
    println!("Integrations Hub is running at http://{host}:{}", addr.port());
    match &app.generated_operator_token {
        Some(token) => println!("Operator token (shown once; keep it, or set IH_ADMIN_TOKEN): {token}"),
        None if config.admin_token.is_some() => println!("Operator token: the value of IH_ADMIN_TOKEN"),
        None => println!("Operator token: the one printed at the first start (or set IH_ADMIN_TOKEN)"),
    }
    let shutdown = app.shutdown_token();
    tokio::spawn(async move {
        wait_for_signal().await;
        tracing::info!("shutting down");
        shutdown.cancel();
    });
    if let Err(e) = app.run().await {
        fail(&format!("server error: {e}"));
    }
}

async fn wait_for_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).expect("signal handler");
        tokio::select! { _ = ctrl_c => {}, _ = term.recv() => {} }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}

fn fail(message: &str) -> ! {
    eprintln!("integrations-hub: {message}");
    std::process::exit(2);
}
