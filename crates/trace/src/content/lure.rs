//! Credential-lure wording (`data/lures.txt`).

use std::sync::LazyLock;

static LURES: LazyLock<Vec<String>> = LazyLock::new(|| {
    include_str!("../../data/lures.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_lowercase)
        .collect()
});

/// Link texts that ask for a sign-in or a check of account details.
const ACTION_TEXTS: &[&str] = &[
    "verify",
    "verify now",
    "verify account",
    "verify your account",
    "verify email",
    "confirm",
    "confirm now",
    "confirm account",
    "sign in",
    "sign in now",
    "log in",
    "login",
    "log in now",
    "login now",
    "update",
    "update now",
    "update account",
    "update payment",
    "unlock account",
    "restore account",
    "reactivate",
    "validate",
    "validate now",
    "keep password",
    "access document",
    "view document",
    "review document",
    "open document",
    "view shared file",
    "acessar",
    "acesse",
    "atualizar",
    "verificar",
    "confirmar",
    "regularizar",
    "iniciar sesión",
    "verificar cuenta",
    "anmelden",
    "bestätigen",
    "vérifier",
    "se connecter",
];

/// The first lure phrase in `text` (any case).
pub fn lure_in(text: &str) -> Option<&'static str> {
    if text.is_empty() {
        return None;
    }
    let lower = text.to_lowercase();
    LURES
        .iter()
        .find(|p| memchr::memmem::find(lower.as_bytes(), p.as_bytes()).is_some())
        .map(String::as_str)
}

/// True when a link's whole text is a sign-in or verification call to action.
pub fn action_text(text: &str) -> bool {
    let t = text
        .trim()
        .trim_matches(|c: char| !c.is_alphanumeric())
        .to_lowercase();
    !t.is_empty() && ACTION_TEXTS.contains(&t.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lures_and_actions() {
        assert_eq!(
            lure_in("Your Account Has Been Suspended today"),
            Some("account has been suspended")
        );
        assert_eq!(lure_in("Your order has shipped"), None);
        assert!(action_text(" Verify Now » "));
        assert!(!action_text("Read more"));
    }
}
