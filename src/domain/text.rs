//! Small text helpers shared by server code and pages.

/// "visa" → "Visa": the first letter upper-cased, the rest left as it is.
pub fn capitalise(word: &str) -> String {
    let mut chars = word.chars();
    chars.next().map(|c| c.to_uppercase().chain(chars).collect()).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_first_letter_changes() {
        assert_eq!(capitalise("visa"), "Visa");
        assert_eq!(capitalise("american Express"), "American Express");
        assert_eq!(capitalise("élan"), "Élan");
        assert_eq!(capitalise(""), "");
    }
}
