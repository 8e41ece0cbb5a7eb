//! `/docs`: the operators' API's documentation page, Swagger UI reading the API's own
//! OpenAPI document. Its files are built into the binary (feature `admin-docs`); the page
//! loads nothing from elsewhere (1C servers often have no internet access) and sends nothing
//! to a validator.

use std::sync::{Arc, OnceLock};

use hyper::StatusCode;
use hyper::header::{CONTENT_SECURITY_POLICY, CONTENT_TYPE, HeaderValue, LOCATION};
use serde_json::Value;
use utoipa_swagger_ui::Config;

use super::super::answer::{Answer, Style, answer, failure, not_found};
use crate::config::ADMIN_PATH;

/// Where the page is served.
pub(crate) const DOCS_PATH: &str = "/docs";

/// Same-origin only; Swagger UI sets inline styles.
const POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
                      img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'";

/// The page's settings: the API's document, no online validator.
fn config() -> Arc<Config<'static>> {
    static CONFIG: OnceLock<Arc<Config<'static>>> = OnceLock::new();
    Arc::clone(CONFIG.get_or_init(|| {
        Arc::new(Config::new([format!("{ADMIN_PATH}/openapi.json")]).validator_url("none"))
    }))
}

/// Answers `GET /docs…`: `/docs` redirects to `/docs/`, which is the page; the rest are its
/// files.
pub(crate) fn serve(path: &str) -> Answer {
    let Some(file) = path.strip_prefix(DOCS_PATH) else {
        return not_found();
    };
    if file.is_empty() {
        let mut moved = answer(
            StatusCode::MOVED_PERMANENTLY,
            "text/plain; charset=utf-8",
            "",
        );
        moved
            .headers_mut()
            .insert(LOCATION, HeaderValue::from_static("/docs/"));
        return moved;
    }
    match utoipa_swagger_ui::serve(file.trim_start_matches('/'), config()) {
        Ok(Some(found)) => {
            let mut page = answer(StatusCode::OK, "text/html", found.bytes.into_owned());
            let headers = page.headers_mut();
            if let Ok(kind) = HeaderValue::from_str(&found.content_type) {
                headers.insert(CONTENT_TYPE, kind);
            }
            headers.insert(CONTENT_SECURITY_POLICY, HeaderValue::from_static(POLICY));
            page
        }
        Ok(None) => not_found(),
        Err(e) => failure(
            Style::Json,
            StatusCode::INTERNAL_SERVER_ERROR,
            &format!("the documentation page could not be made: {e}"),
            Value::Null,
        ),
    }
}
