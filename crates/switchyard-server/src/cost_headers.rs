//! `x-litellm-response-cost` and its parts: what a complete answer cost,
//! in USD, from its reported usage and the deployment's prices, written as
//! LiteLLM writes them (Python's `repr` of a float: `7.25e-05`).

use switchyard_router::Deployment;
use switchyard_router::pricing::answer_cost;

use crate::answer::HeaderLines;

/// Adds the cost headers of a complete answer (nothing when its usage or
/// the deployment's prices are unknown).
pub(crate) fn write(lines: &mut HeaderLines, deployment: &Deployment, json: &[u8]) {
    let Some((input, output)) = answer_cost(&deployment.price, json) else {
        return;
    };
    let total = py_float_repr(input + output);
    lines.push("x-litellm-response-cost", total.as_bytes());
    lines.push("x-litellm-response-cost-original", total.as_bytes());
    lines.push(
        "x-litellm-response-cost-input",
        py_float_repr(input).as_bytes(),
    );
    lines.push(
        "x-litellm-response-cost-output",
        py_float_repr(output).as_bytes(),
    );
}

/// Python's `repr(float)`: the shortest digits that read back as `x`, in
/// fixed notation for decimal exponents from -4 to 15, else scientific with
/// a signed exponent of at least two digits.
fn py_float_repr(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .to_owned();
    }
    let mut buffer = ryu::Buffer::new();
    let shortest = buffer.format_finite(x);
    let (negative, unsigned) = match shortest.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, shortest),
    };
    // The significant digits d1 d2 d3... and the exponent e of d1.d2d3 × 10^e.
    let (digits, exponent) = match unsigned.split_once('e') {
        Some((mantissa, exp)) => (mantissa.replace('.', ""), exp.parse::<i32>().unwrap_or(0)),
        None => {
            let (int, frac) = unsigned.split_once('.').unwrap_or((unsigned, ""));
            if int.trim_start_matches('0').is_empty() {
                let zeros = frac.len() - frac.trim_start_matches('0').len();
                (frac[zeros..].to_owned(), -(zeros as i32) - 1)
            } else {
                let int = int.trim_start_matches('0');
                (format!("{int}{frac}"), int.len() as i32 - 1)
            }
        }
    };
    let digits = digits.trim_end_matches('0');
    let digits = if digits.is_empty() { "0" } else { digits };
    let mut out = String::with_capacity(24);
    if negative {
        out.push('-');
    }
    if digits == "0" {
        out.push_str("0.0");
    } else if (-4..16).contains(&exponent) {
        if exponent >= 0 {
            let int_len = exponent as usize + 1;
            if digits.len() > int_len {
                out.push_str(&digits[..int_len]);
                out.push('.');
                out.push_str(&digits[int_len..]);
            } else {
                out.push_str(digits);
                out.extend(std::iter::repeat_n('0', int_len - digits.len()));
                out.push_str(".0");
            }
        } else {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-exponent - 1) as usize));
            out.push_str(digits);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        let magnitude = exponent.unsigned_abs();
        if magnitude < 10 {
            out.push('0');
        }
        out.push_str(itoa::Buffer::new().format(magnitude));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn floats_are_written_as_python_writes_them() {
        // `repr()` of each, from CPython 3.11.
        let cases = [
            (7.25e-05, "7.25e-05"),
            (2.25e-05, "2.25e-05"),
            (5e-05, "5e-05"),
            (0.0, "0.0"),
            (1.0, "1.0"),
            (0.0001, "0.0001"),
            (0.00001234, "1.234e-05"),
            (0.0001234, "0.0001234"),
            (1e15, "1000000000000000.0"),
            (1e16, "1e+16"),
            (1.5e16, "1.5e+16"),
            (123.456, "123.456"),
            (3e-07, "3e-07"),
            (0.000123, "0.000123"),
            (0.0025, "0.0025"),
            (1234567.0, "1234567.0"),
            (0.1 + 0.2, "0.30000000000000004"),
            (-2.5e-06, "-2.5e-06"),
        ];
        for (x, python) in cases {
            assert_eq!(py_float_repr(x), python, "{x:e}");
        }
    }
}
