//! Kubernetes resource quantities (`100m`, `1.5Gi`, `1e3`), compared exactly as the
//! API server would.

use std::cmp::Ordering;

use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

pub(super) fn quantity_is_zero(q: Option<&Quantity>) -> bool {
    match q {
        None => true,
        Some(q) => parse_quantity(&q.0) == Some(0),
    }
}

/// Compares two optional quantities; a missing quantity is zero, and quantities that do
/// not parse compare by their trimmed text.
pub(super) fn quantity_cmp(a: Option<&Quantity>, b: Option<&Quantity>) -> Ordering {
    let value = |q: Option<&Quantity>| q.map_or(Some(0), |q| parse_quantity(&q.0));
    match (value(a), value(b)) {
        (Some(x), Some(y)) => x.cmp(&y),
        _ => {
            let text = |q: Option<&Quantity>| q.map_or("", |q| q.0.trim()).to_string();
            text(a).cmp(&text(b))
        }
    }
}

/// Parses a Kubernetes resource quantity (`100m`, `1.5`, `128Mi`, `1e3`, `2G`) into
/// nano-units (value × 10⁹), rounding up like Kubernetes does on precision loss.
/// Returns `None` for malformed input or overflow.
fn parse_quantity(text: &str) -> Option<i128> {
    let s = text.trim();
    let (negative, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let number_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (number, suffix) = s.split_at(number_end);
    let (int_part, frac_part) = number.split_once('.').unwrap_or((number, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return None;
    }
    let digits: String = [int_part, frac_part].concat();
    if digits.len() > 30 {
        return None;
    }
    let mut mantissa: i128 = digits.parse().ok()?;
    let (binary_shift, decimal_exp): (u32, i32) = match suffix {
        "" => (0, 0),
        "Ki" => (10, 0),
        "Mi" => (20, 0),
        "Gi" => (30, 0),
        "Ti" => (40, 0),
        "Pi" => (50, 0),
        "Ei" => (60, 0),
        "n" => (0, -9),
        "u" => (0, -6),
        "m" => (0, -3),
        "k" => (0, 3),
        "M" => (0, 6),
        "G" => (0, 9),
        "T" => (0, 12),
        "P" => (0, 15),
        "E" => (0, 18),
        other => {
            let exp = other.strip_prefix(['e', 'E'])?;
            let exp: i32 = exp.parse().ok()?;
            if !(-40..=40).contains(&exp) {
                return None;
            }
            (0, exp)
        }
    };
    mantissa = mantissa.checked_mul(1i128.checked_shl(binary_shift)?)?;
    let frac_len = i32::try_from(frac_part.len()).ok()?;
    let exp10 = decimal_exp + 9 - frac_len;
    let mut value = if exp10 >= 0 {
        mantissa.checked_mul(10i128.checked_pow(exp10.unsigned_abs())?)?
    } else {
        let divisor = 10i128.checked_pow(exp10.unsigned_abs())?;
        let quotient = mantissa / divisor;
        if mantissa % divisor != 0 {
            quotient + 1
        } else {
            quotient
        }
    };
    if negative {
        value = -value;
    }
    Some(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quantity_parsing() {
        let cases: &[(&str, Option<i128>)] = &[
            ("0", Some(0)),
            ("1", Some(1_000_000_000)),
            ("100m", Some(100_000_000)),
            ("0.5", Some(500_000_000)),
            (".5", Some(500_000_000)),
            ("1.5Gi", Some(1_610_612_736_000_000_000)),
            ("1Ki", Some(1_024_000_000_000)),
            ("2k", Some(2_000_000_000_000)),
            ("1e3", Some(1_000_000_000_000)),
            ("1E3", Some(1_000_000_000_000)),
            ("1E", Some(1_000_000_000_000_000_000_000_000_000)),
            ("5n", Some(5)),
            ("1.5n", Some(2)),
            ("3u", Some(3_000)),
            ("-1", Some(-1_000_000_000)),
            (" 2 ", Some(2_000_000_000)),
            ("", None),
            ("abc", None),
            ("1Xi", None),
            ("1.2.3", None),
        ];
        for (text, want) in cases {
            assert_eq!(parse_quantity(text), *want, "{text:?}");
        }
    }
}
