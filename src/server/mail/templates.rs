//! The emails' words, from `templates/mail`: `<kind>.txt` and `<kind>.html` per kind, and the
//! HTML layout every HTML mail is wrapped in when it is sent (the brand's name and logo).
//!
//! The files are embedded at compile time (`tollgate serve` reads none at run time); HTML is
//! autoescaped (minijinja escapes `.html` templates), the text is not.

use std::sync::LazyLock;

use minijinja::{AutoEscape, Environment, UndefinedBehavior, Value};

use crate::domain::brand::Brand;
use crate::server::http::app_url::AppUrl;

/// A kind's two templates, each as (name, source).
type Pair = (&'static str, (&'static str, &'static str), (&'static str, &'static str));

macro_rules! kinds {
    ($($kind:literal),* $(,)?) => {
        &[$(($kind,
             (concat!($kind, ".txt"), include_str!(concat!("../../../templates/mail/", $kind, ".txt"))),
             (concat!($kind, ".html"), include_str!(concat!("../../../templates/mail/", $kind, ".html"))))),*]
    };
}

/// Every templated kind's text and HTML.
const TEMPLATES: &[Pair] = kinds!(
    "receipt",
    "payment_failed",
    "payment_urgent",
    "payment_final_notice",
    "dunning_outcome",
    "refund_issued",
    "action_required",
    "trial_ending",
    "checkout_payment_failed",
    "dispute_alert",
    "verify_email",
    "sign_up_attempt",
    "password_reset",
    "usage_alert",
    "payout_failed",
    "fraud_warning",
    "price_change_notice",
);

const LAYOUT: &str = include_str!("../../../templates/mail/layout.html");

static ENV: LazyLock<Environment<'static>> = LazyLock::new(|| {
    let mut env = Environment::new();
    // A missing variable is a bug the sample-data test catches, never an empty hole in a mail.
    env.set_undefined_behavior(UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_formatter(|out, state, value| {
        // minijinja's own escaping, except that `/` stays itself: a link reads as a link in
        // the mail's source (and in tests), and needs no escaping in HTML text or a quoted attribute.
        match value.as_str() {
            Some(text) if state.auto_escape() == AutoEscape::Html && !value.is_safe() => {
                out.write_str(&escape_html(text)).map_err(minijinja::Error::from)
            }
            _ => minijinja::escape_formatter(out, state, value),
        }
    });
    for (_, (text_name, text), (html_name, html)) in TEMPLATES {
        env.add_template(text_name, text).expect("a valid text template");
        env.add_template(html_name, html).expect("a valid HTML template");
    }
    env.add_template("layout.html", LAYOUT).expect("a valid layout");
    env
});

/// `text` safe in HTML text and in a quoted attribute.
fn escape_html(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => escaped.push_str("&amp;"),
            '<' => escaped.push_str("&lt;"),
            '>' => escaped.push_str("&gt;"),
            '"' => escaped.push_str("&quot;"),
            '\'' => escaped.push_str("&#x27;"),
            c => escaped.push(c),
        }
    }
    escaped
}

/// The kinds with templates, for the admin preview.
pub fn kinds() -> impl Iterator<Item = &'static str> {
    TEMPLATES.iter().map(|(kind, _, _)| *kind)
}

/// `kind`'s (text, HTML body) rendered with `data`.
///
/// # Panics
/// When a template is missing or uses a variable `data` lacks: the templates are built in, and
/// `every_kind_renders_with_its_sample` renders each with the data its constructor passes.
pub fn render(kind: &str, data: &Value) -> (String, String) {
    let one = |name: String| {
        ENV.get_template(&name)
            .and_then(|template| template.render(data))
            .unwrap_or_else(|err| panic!("rendering {name}: {err:#}"))
    };
    (one(format!("{kind}.txt")), one(format!("{kind}.html")))
}

/// What every mail carries besides its own words: the brand, and where its logo is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Letterhead {
    pub name: String,
    /// Absolute (from `APP_URL`): a mail client has no site to resolve a path against.
    pub logo_url: Option<String>,
    /// The text signature (`mail::signature`).
    pub signature: String,
}

impl Letterhead {
    pub fn new(brand: &Brand, app_url: &AppUrl) -> Self {
        Self {
            name: brand.name.clone(),
            logo_url: brand.logo_url.as_deref().map(|path| app_url.join(path)),
            signature: super::signature(brand),
        }
    }

    /// The full HTML document of a mail whose body is `html_body` (already escaped).
    pub fn wrap(&self, subject: &str, html_body: &str) -> String {
        let data = minijinja::context! {
            subject => subject,
            name => self.name,
            logo_url => self.logo_url,
            signature => self.signature.trim().trim_start_matches("--").trim(),
            body => Value::from_safe_string(html_body.to_owned()),
        };
        ENV.get_template("layout.html")
            .and_then(|layout| layout.render(data))
            .unwrap_or_else(|err| panic!("rendering the mail layout: {err:#}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn html_is_escaped_and_text_is_not() {
        let data =
            minijinja::context! { amount => "<b>$1</b>", url => "https://x/?a=1&b=2", next_attempt => Value::from(()) };
        let (text, html) = render("payment_failed", &data);
        assert!(text.contains("<b>$1</b>") && text.contains("a=1&b=2"), "{text}");
        assert!(html.contains("&lt;b&gt;$1&lt;/b&gt;") && html.contains("a=1&amp;b=2"), "{html}");
        assert!(!html.contains("<b>$1"), "{html}");
    }

    #[test]
    fn the_layout_carries_the_brand_and_an_absolute_logo() {
        let brand = Brand { name: "Acme & Co".into(), logo_url: Some("/acme.svg".into()), ..Brand::default() };
        let letterhead = Letterhead::new(&brand, &AppUrl::new("https://billing.acme.test/"));
        let page = letterhead.wrap("Receipt", "<p>Thanks</p>");
        assert!(page.contains(r#"src="https://billing.acme.test/acme.svg""#), "{page}");
        assert!(page.contains("Acme &amp; Co") && page.contains("<p>Thanks</p>"), "{page}");
    }
}
