//! Starts the hub: configuration from `IH_*`, JSON logs, the server and the delivery worker.

use integrations_hub::config::Config;

#[tokio::main]
async fn main() {
    match std::env::args().nth(1).as_deref() {
        Some("healthcheck") => std::process::exit(healthcheck()),
        // Runs tenants' transformations, apart from the hub (server/src/transform.rs).
        Some("transform-worker") => std::process::exit(integrations_hub::transform::worker_main()),
        _ => {}
    }
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
    let served = app.run().await;
    integrations_hub::telemetry::shutdown();
    if let Err(e) = served {
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

/// `integrations-hub healthcheck`: exits 0 when this hub's `/health` answers 200 on `IH_BIND`'s
/// port. The container image's HEALTHCHECK runs it: the image has no shell and no curl.
fn healthcheck() -> i32 {
    use std::io::{Read, Write};
    let port = std::env::var("IH_BIND")
        .ok()
        .and_then(|bind| bind.rsplit_once(':').and_then(|(_, port)| port.parse::<u16>().ok()))
        .unwrap_or(3000);
    let address = std::net::SocketAddr::from(([127, 0, 0, 1], port));
    let timeout = std::time::Duration::from_secs(3);
    let answer = (|| -> std::io::Result<String> {
        let mut stream = std::net::TcpStream::connect_timeout(&address, timeout)?;
        stream.set_read_timeout(Some(timeout))?;
        stream.write_all(b"GET /health HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n")?;
        let mut answer = String::new();
        stream.take(4096).read_to_string(&mut answer)?;
        Ok(answer)
    })();
    match answer {
        Ok(answer) if answer.starts_with("HTTP/1.0 200") || answer.starts_with("HTTP/1.1 200") => 0,
        Ok(answer) => {
            eprintln!("unhealthy: {}", answer.lines().next().unwrap_or(""));
            1
        }
        Err(e) => {
            eprintln!("unhealthy: {address}: {e}");
            1
        }
    }
}

fn fail(message: &str) -> ! {
    eprintln!("integrations-hub: {message}");
    std::process::exit(2);
}
