//! The operator's brand: product name, logo, accent colour and support address, shown by the
//! pages, the emails and (in sandbox mode) the hosted Checkout page.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Brand {
    pub name: String,
    /// A path on this site (`/logo.svg`, served from `public/`): the pages' CSP allows only
    /// same-origin images.
    pub logo_url: Option<String>,
    pub accent: Accent,
    pub support_email: Option<String>,
}

impl Default for Brand {
    fn default() -> Self {
        Self {
            name: "tollgate".into(),
            logo_url: None,
            accent: Accent::parse(Accent::DEFAULT).expect("the default accent is valid"),
            support_email: None,
        }
    }
}

impl Brand {
    /// A logo path: starts with one `/`, no scheme, no quotes or spaces.
    pub fn check_logo_path(raw: &str) -> Result<String, String> {
        let ok = raw.starts_with('/')
            && !raw.starts_with("//")
            && raw.len() <= 200
            && raw.bytes().all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'<' | b'>' | b'\\'));
        if ok {
            Ok(raw.to_string())
        } else {
            Err("expected a path on this site, like /logo.svg (put the file in public/)".into())
        }
    }
}

/// A `#rrggbb` colour dark enough for white text on it (WCAG AA, 4.5:1): buttons carry white
/// text and links are drawn in it on white.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accent(String);

impl Accent {
    pub const DEFAULT: &'static str = "#3451b2";
    const MIN_CONTRAST_WITH_WHITE: f64 = 4.5;

    pub fn parse(raw: &str) -> Result<Self, String> {
        let hex = raw.strip_prefix('#').filter(|h| h.len() == 6 && h.bytes().all(|b| b.is_ascii_hexdigit()));
        let Some(hex) = hex else { return Err("expected a colour like #3451b2".into()) };
        let channel = |i: usize| u8::from_str_radix(&hex[i..i + 2], 16).expect("checked hex");
        let contrast = contrast_with_white([channel(0), channel(2), channel(4)]);
        if contrast < Self::MIN_CONTRAST_WITH_WHITE {
            return Err(format!(
                "{raw} has a contrast of {contrast:.1}:1 with white; choose a darker colour (4.5:1 at least)"
            ));
        }
        Ok(Self(format!("#{}", hex.to_ascii_lowercase())))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// WCAG 2 contrast ratio of an sRGB colour against white.
fn contrast_with_white(rgb: [u8; 3]) -> f64 {
    let linear = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.040_45 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    let luminance = 0.2126 * linear(rgb[0]) + 0.7152 * linear(rgb[1]) + 0.0722 * linear(rgb[2]);
    1.05 / (luminance + 0.05)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_must_carry_white_text_legibly() {
        assert_eq!(Accent::parse("#3451B2").unwrap().as_str(), "#3451b2");
        assert_eq!(Accent::parse("#000000").unwrap().as_str(), "#000000");
        // Stripe's blurple, #635bff, is 4.7:1: just enough.
        assert!(Accent::parse("#635bff").is_ok());
        let pale = Accent::parse("#ffcc00").unwrap_err();
        assert!(pale.contains("choose a darker colour"), "{pale}");
        assert!(Accent::parse("3451b2").is_err());
        assert!(Accent::parse("#3451b").is_err());
        assert!(Accent::parse("#zzzzzz").is_err());
    }

    #[test]
    fn contrast_matches_wcag_reference_values() {
        assert!((contrast_with_white([0, 0, 0]) - 21.0).abs() < 0.01);
        assert!((contrast_with_white([255, 255, 255]) - 1.0).abs() < 0.01);
        // #767676 is the classic lightest grey that passes AA on white (4.54:1).
        assert!((contrast_with_white([0x76, 0x76, 0x76]) - 4.54).abs() < 0.01);
    }

    #[test]
    fn logos_are_paths_on_this_site() {
        assert_eq!(Brand::check_logo_path("/logo.svg").unwrap(), "/logo.svg");
        assert!(Brand::check_logo_path("https://cdn.example.com/logo.svg").is_err());
        assert!(Brand::check_logo_path("//cdn.example.com/logo.svg").is_err());
        assert!(Brand::check_logo_path("/a\"onerror=x").is_err());
    }
}
