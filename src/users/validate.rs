//! Input rules for user fields.
//!
//! Names are 1-64 ASCII letters, digits, '.', '_' or '-' starting with a letter
//! or digit, and unique without
//! regard to case: one rule on every database, whatever its collation.

/// Longest user name.
pub const MAX_NAME_LEN: usize = 64;
/// Shortest password, in characters (Unicode scalar values, as JSON Schema's
/// `minLength` counts them, so a multi-byte password is not "long" sooner).
pub const MIN_PASSWORD_LEN: usize = 8;
/// Longest password, in characters (at most 4 KiB: bounds the hashing work one
/// request can ask for).
pub const MAX_PASSWORD_LEN: usize = 1024;
/// Longest e-mail address (RFC 5321 path limit).
pub const MAX_EMAIL_LEN: usize = 254;

/// Checks a user name.
pub fn validate_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("must not be empty".into());
    }
    if name.len() > MAX_NAME_LEN {
        return Err(format!("must be at most {MAX_NAME_LEN} characters"));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
    {
        return Err("may contain only letters, digits, '.', '_' and '-'".into());
    }
    // A name made of dots alone would read as a relative path in REST URLs.
    if !name.as_bytes()[0].is_ascii_alphanumeric() {
        return Err("must start with a letter or digit".into());
    }
    Ok(())
}

/// The unique key of a name: names differ only if they differ in more than case.
pub fn name_key(name: &str) -> String {
    name.to_ascii_lowercase()
}

/// Checks an e-mail address.
pub fn validate_email(email: &str) -> Result<(), String> {
    if email.is_empty() {
        return Err("must not be empty".into());
    }
    if email.len() > MAX_EMAIL_LEN {
        return Err(format!("must be at most {MAX_EMAIL_LEN} characters"));
    }
    if !email_address::EmailAddress::is_valid(email) || !email.contains('@') {
        return Err("is not a valid e-mail address".into());
    }
    Ok(())
}

/// Checks a new password.
pub fn validate_password(password: &str) -> Result<(), String> {
    let length = password.chars().count();
    if length < MIN_PASSWORD_LEN {
        return Err(format!("must be at least {MIN_PASSWORD_LEN} characters"));
    }
    if length > MAX_PASSWORD_LEN {
        return Err(format!("must be at most {MAX_PASSWORD_LEN} characters"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_follow_the_alphabet_and_length_rules() {
        for ok in ["a", "alice", "Bob.Smith", "x_y-z.1", &"n".repeat(64)] {
            assert!(validate_name(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            " ",
            "a b",
            "ä",
            "a/b",
            "a%",
            "..",
            ".x",
            "-x",
            &"n".repeat(65),
        ] {
            assert!(validate_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn emails_are_checked() {
        assert!(validate_email("alice@example.com").is_ok());
        for bad in ["", "alice", "@example.com", "alice@", "a b@example.com"] {
            assert!(validate_email(bad).is_err(), "{bad}");
        }
        let long = format!("{}@example.com", "a".repeat(250));
        assert!(validate_email(&long).is_err());
    }

    #[test]
    fn passwords_are_8_to_1024_characters() {
        assert!(validate_password("1234567").is_err());
        // Seven characters are too short however many bytes they take.
        assert!(validate_password("ééééééé").is_err());
        assert!(validate_password(&"é".repeat(1024)).is_ok());
        assert!(validate_password("12345678").is_ok());
        assert!(validate_password(&"p".repeat(1024)).is_ok());
        assert!(validate_password(&"p".repeat(1025)).is_err());
    }

    #[test]
    fn name_keys_ignore_case() {
        assert_eq!(name_key("Alice"), name_key("aLICE"));
    }
}
