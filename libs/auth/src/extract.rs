//! `Caller` as an actix extractor: a handler that takes one never runs for an unauthenticated request.

use actix_web::dev::Payload;
use actix_web::http::header::AUTHORIZATION;
use actix_web::{FromRequest, HttpRequest, web};
use futures::future::LocalBoxFuture;
use trustsafe_problem::{Kind, Problem};

use crate::{AuthError, Authenticator, Caller};

impl FromRequest for Caller {
    type Error = Problem;
    type Future = LocalBoxFuture<'static, Result<Self, Problem>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let authenticator = req.app_data::<web::Data<Authenticator>>().cloned();
        let token = bearer_token(req).map(str::to_owned);
        Box::pin(async move {
            let authenticator = authenticator
                .ok_or_else(|| Problem::new(Kind::Internal, "no authenticator is configured"))?;
            let token = token.ok_or(AuthError::Missing)?;
            Ok(authenticator.authenticate(&token).await?)
        })
    }
}

/// The token of an `Authorization: Bearer …` header.
pub fn bearer_token(req: &HttpRequest) -> Option<&str> {
    let value = req.headers().get(AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then_some(token.trim())
        .filter(|token| !token.is_empty())
}
