//! The gateway's HTTP server: the API routes, operations endpoints and the headers every answer gets.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use actix_web::dev::{Service, ServiceResponse};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, get, web};
use anyhow::{Context, Result};
use serde_json::json;
use trustsafe_problem::{Kind, Problem};
use trustsafe_servicekit::operations;
use utoipa_swagger_ui::SwaggerUi;

use crate::config::GatewayConfig;
use crate::metrics::REQUESTS;
use crate::openapi::{gateway_document, merged_document};
use crate::proxy::{self, Proxy};
use crate::{identity, pages, trusts};

pub struct RunningGateway {
    pub address: SocketAddr,
    server: actix_web::dev::ServerHandle,
    task: tokio::task::JoinHandle<()>,
}

impl RunningGateway {
    pub async fn stop(self) {
        self.server.stop(true).await;
        let _ = self.task.await;
    }
}

pub async fn start(config: GatewayConfig) -> Result<RunningGateway> {
    let bind = config.bind;
    let authenticator = web::Data::from(config.authenticator.clone());
    let tenancy = web::Data::from(config.tenancy.clone());
    let settings = web::Data::new(config.clone());
    let proxy = web::Data::new(Proxy::new(config)?);
    let server = HttpServer::new(move || {
        App::new()
            .app_data(authenticator.clone())
            .app_data(tenancy.clone())
            .app_data(settings.clone())
            .app_data(proxy.clone())
            .wrap(security_headers())
            .wrap_fn(|req, service| {
                let started = Instant::now();
                let route = req.match_pattern().unwrap_or_else(|| "unmatched".into());
                let response = service.call(req);
                async move {
                    let response: ServiceResponse = response.await?;
                    let status = response.status().as_u16().to_string();
                    REQUESTS
                        .with_label_values(&[&route, &status])
                        .observe(started.elapsed().as_secs_f64());
                    Ok(response)
                }
            })
            .service(operations::healthz)
            .service(operations::metrics)
            .service(readyz)
            .service(identity::jwks)
            .service(identity::demo_users)
            .service(trusts::get_trust)
            .route(
                "/openapi.json",
                web::get().to(|| async { HttpResponse::Ok().json(gateway_document()) }),
            )
            .route("/api/openapi.json", web::get().to(api_document))
            .configure(pages::configure)
            .service(
                SwaggerUi::new("/api/docs/{_:.*}")
                    .config(utoipa_swagger_ui::Config::from("/api/openapi.json")),
            )
            .route(
                "/api/v1/schools/{school_id}/{rest:.+}",
                web::route().to(proxy::school),
            )
            .route(
                "/api/v1/trusts/{trust_id}/{rest:.+}",
                web::route().to(proxy::trust),
            )
            .default_service(web::route().to(|| async { Err::<HttpResponse, _>(Problem::not_found()) }))
    })
    .workers(2)
    .on_connect(trustsafe_servicekit::no_delay)
    .disable_signals()
    .bind(bind)
    .with_context(|| format!("gateway: binding {bind}"))?;
    let address = server.addrs()[0];
    let (handle, task) = trustsafe_servicekit::spawn_server(server.run(), "gateway");
    Ok(RunningGateway {
        address,
        server: handle,
        task,
    })
}

/// Answers carry sensitive records: never cached, never framed, never sniffed.
fn security_headers() -> DefaultHeaders {
    DefaultHeaders::new()
        .add(("X-Content-Type-Options", "nosniff"))
        .add(("X-Frame-Options", "DENY"))
        .add(("Referrer-Policy", "no-referrer"))
        .add(("Cache-Control", "no-store"))
        .add((
            "Content-Security-Policy",
            "default-src 'none'; frame-ancestors 'none'",
        ))
}

/// Ready when every service behind the gateway says it is ready (database and broker included).
#[get("/readyz")]
async fn readyz(config: web::Data<GatewayConfig>) -> HttpResponse {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(2))
        .build()
        .expect("a client");
    let checks = futures::future::join_all(config.upstreams.iter().map(|upstream| {
        let url = format!("{}/readyz", upstream.base_url.trim_end_matches('/'));
        let client = client.clone();
        async move {
            let ready =
                matches!(client.get(url).send().await, Ok(response) if response.status().is_success());
            (upstream.name, if ready { "ok" } else { "unavailable" })
        }
    }))
    .await;
    let ready = checks.iter().all(|(_, state)| *state == "ok");
    let body = json!({
        "status": if ready { "ready" } else { "not_ready" },
        "checks": checks.into_iter().map(|(name, state)| (name.to_owned(), json!(state))).collect::<serde_json::Map<_, _>>()
    });
    if ready {
        HttpResponse::Ok().json(body)
    } else {
        HttpResponse::ServiceUnavailable().json(body)
    }
}

/// The whole public API: each service's document, fetched now, merged with the gateway's.
async fn api_document(config: web::Data<GatewayConfig>) -> Result<HttpResponse, Problem> {
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(5))
        .build()
        .expect("a client");
    let fetches = config.upstreams.iter().map(|upstream| {
        let url = format!("{}/openapi.json", upstream.base_url.trim_end_matches('/'));
        let client = client.clone();
        async move {
            let unavailable = || {
                Problem::new(
                    Kind::BadGateway,
                    format!("The {} service's API document is unavailable.", upstream.name),
                )
            };
            let response = client.get(url).send().await.map_err(|_| unavailable())?;
            response
                .json::<utoipa::openapi::OpenApi>()
                .await
                .map_err(|_| unavailable())
        }
    });
    let documents = futures::future::try_join_all(fetches).await?;
    Ok(HttpResponse::Ok().json(merged_document(documents)))
}
