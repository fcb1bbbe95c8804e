//! The pages people open: the GraphQL playground (`GET /graphql`), the dashboards
//! (`GET /dashboards`) and the cohort report (`GET /reports`). Every script, style and font they use is served from this
//! binary under `/assets/` (GraphiQL, its Explorer plugin, React and uPlot vendored from
//! the npm registry at pinned versions by `api/web/vendor.sh`, their licences beside
//! them), so the pages work on a hospital network without internet access; their
//! Content-Security-Policy lets them reach nothing but this origin.
//!
//! The pages ask for a token (or offer sign-in when an identity provider is set up)
//! and keep it in the page's memory only: GraphiQL gets a fetcher that adds it and a
//! storage in memory, so neither its tabs nor its history ever write the token to the
//! browser's storage. Both pages ask the API like any client, through the same release
//! step: a withheld value is drawn as withheld, never as zero.

use poem::http::{header, HeaderValue, StatusCode};
use poem::web::{Data, Path};
use poem::{handler, IntoResponse, Response};
use serde_json::json;

/// What the pages offer on this service.
#[derive(Debug, Clone, Copy)]
pub struct Pages {
    /// Whether an identity provider is set up for sign-in (`/auth/login`).
    pub sign_in: bool,
}

/// Only this origin, for scripts, styles, fonts, images and requests.
const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; \
     img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'";

/// A file served under `/assets/`.
struct Asset {
    path: &'static str,
    content_type: &'static str,
    body: &'static [u8],
}

macro_rules! asset {
    ($path:literal, $type:literal) => {
        Asset { path: $path, content_type: $type, body: include_bytes!(concat!("../web/", $path)) }
    };
}

const ASSETS: &[Asset] = &[
    asset!("site.css", "text/css; charset=utf-8"),
    asset!("session.js", "text/javascript; charset=utf-8"),
    asset!("playground.js", "text/javascript; charset=utf-8"),
    asset!("released.js", "text/javascript; charset=utf-8"),
    asset!("results.js", "text/javascript; charset=utf-8"),
    asset!("exporter.js", "text/javascript; charset=utf-8"),
    asset!("dashboards.js", "text/javascript; charset=utf-8"),
    asset!("reports.js", "text/javascript; charset=utf-8"),
    asset!("vendor/graphiql/graphiql.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/graphiql/graphiql.min.css", "text/css; charset=utf-8"),
    asset!("vendor/graphiql/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/plugin-explorer/index.umd.js", "text/javascript; charset=utf-8"),
    asset!("vendor/plugin-explorer/style.css", "text/css; charset=utf-8"),
    asset!("vendor/plugin-explorer/package.json", "application/json"),
    asset!("vendor/react/react.production.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/react/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/react-dom/react-dom.production.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/react-dom/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/uplot/uPlot.iife.min.js", "text/javascript; charset=utf-8"),
    asset!("vendor/uplot/uPlot.min.css", "text/css; charset=utf-8"),
    asset!("vendor/uplot/LICENSE", "text/plain; charset=utf-8"),
    asset!("vendor/VERSIONS", "text/plain; charset=utf-8"),
];

const PLAYGROUND: &str = include_str!("../web/playground.html");
const DASHBOARDS: &str = include_str!("../web/dashboards.html");
const REPORTS: &str = include_str!("../web/reports.html");
/// The pages' shared header: the navigation and the token form.
const HEADER: &str = include_str!("../web/header.html");

/// The pages, each with the header marking it as the current one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Playground,
    Dashboards,
    Reports,
}

impl Page {
    fn template(self) -> &'static str {
        match self {
            Page::Playground => PLAYGROUND,
            Page::Dashboards => DASHBOARDS,
            Page::Reports => REPORTS,
        }
    }

    fn header(self) -> String {
        let current = |page| if self == page { " aria-current=\"page\"" } else { "" };
        HEADER
            .replace("__PLAYGROUND__", current(Page::Playground))
            .replace("__DASHBOARDS__", current(Page::Dashboards))
            .replace("__REPORTS__", current(Page::Reports))
    }
}

/// The asset at `/assets/{path}`: the vendored libraries are addressed without
/// `vendor/` (`/assets/graphiql/graphiql.min.js`).
fn find(path: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.path == path || a.path.strip_prefix("vendor/") == Some(path))
}

/// `GET /assets/*path`.
#[handler]
pub async fn asset(Path(path): Path<String>) -> Response {
    match find(&path) {
        Some(asset) => Response::builder()
            .content_type(asset.content_type)
            .header(header::CACHE_CONTROL, "public, max-age=3600")
            .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
            .body(asset.body),
        None => (StatusCode::NOT_FOUND, "no such asset").into_response(),
    }
}

/// `page` with its header and its configuration (whether sign-in is offered, a token
/// from sign-in) in the JSON block no script runs; `<` is escaped, so no value ends it.
fn render(page: Page, sign_in: bool, token: Option<&str>) -> String {
    let config = json!({ "signIn": sign_in, "token": token }).to_string().replace('<', "\\u003c");
    page.template().replace("__HEADER__", &page.header()).replace("__CONFIG__", &config)
}

/// A page, with the HTTP headers that keep it to this origin.
fn page(page: Page, sign_in: bool, token: Option<&str>) -> Response {
    let mut response = Response::builder()
        .content_type("text/html; charset=utf-8")
        .header(header::X_CONTENT_TYPE_OPTIONS, "nosniff")
        .header(header::REFERRER_POLICY, "no-referrer")
        .body(render(page, sign_in, token));
    response.headers_mut().insert(header::CONTENT_SECURITY_POLICY, HeaderValue::from_static(CONTENT_SECURITY_POLICY));
    if token.is_some() {
        response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    response
}

/// The playground, opened with `token` when sign-in just issued one.
pub fn playground_page(sign_in: bool, token: Option<&str>) -> Response {
    page(Page::Playground, sign_in, token)
}

/// `GET /dashboards`: the dashboards.
#[handler]
pub async fn dashboards(pages: Data<&Pages>) -> Response {
    page(Page::Dashboards, pages.sign_in, None)
}

/// `GET /reports`: the cohort report (see [`crate::report`]).
#[handler]
pub async fn reports(pages: Data<&Pages>) -> Response {
    page(Page::Reports, pages.sign_in, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_script_and_style_is_an_asset() {
        for page in [Page::Playground, Page::Dashboards, Page::Reports] {
            let html = render(page, true, None);
            assert!(html
                .contains(&format!("href=\"/{}\" aria-current", ["graphql", "dashboards", "reports"][page as usize])));
            for reference in html.split("\"/assets/").skip(1) {
                let path = reference.split('"').next().unwrap_or_default();
                assert!(find(path).is_some(), "{path} is referenced but not served");
            }
            assert!(!html.contains("http://") && !html.contains("https://"), "a page refers elsewhere");
        }
    }

    #[test]
    fn a_token_cannot_break_out_of_the_configuration() {
        let token = "</script><script>alert(1)</script>";
        let response = playground_page(false, Some(token));
        assert_eq!(response.headers().get(header::CACHE_CONTROL).and_then(|v| v.to_str().ok()), Some("no-store"));
        let html = render(Page::Playground, true, Some(token));
        assert_eq!(html.matches("</script>").count(), PLAYGROUND.matches("</script>").count());
        let config = html.split("type=\"application/json\">").nth(1).and_then(|c| c.split("</script>").next());
        let config: serde_json::Value = serde_json::from_str(config.expect("the block")).expect("JSON");
        assert_eq!(config, json!({ "signIn": true, "token": token }));
    }
}
