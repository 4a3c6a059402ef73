//! The text format of the log, with a fast path for the one line written per
//! request.
//!
//! Why: at the default level every proxied request logs a line, and
//! tracing-subscriber's formatter writes it through `core::fmt` piece by
//! piece (the timestamp's seven numbers, each field's `Debug`), which cost
//! about a fifth of a proxied request's instructions (`bench/instructions.sh`
//! with `BENCH_RUST_LOG=info`). The request line is written here byte for
//! byte as that formatter writes it (`Format<Full>` without colours): the
//! timestamp's date and time are formatted once a second, numbers with
//! `itoa`/`ryu`. Every other event, and the request line on a colour
//! terminal, goes to tracing-subscriber's own formatter.

use std::cell::RefCell;
use std::fmt::{self, Write};
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::fmt::format::{Format, Full, Writer};
use tracing_subscriber::fmt::time::SystemTime as SystemTimer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

use crate::logging::REQUEST_LOG_TARGET;

/// tracing-subscriber's default text format, with the request line's fast path.
#[derive(Debug, Default)]
pub(crate) struct TextFormat {
    full: Format<Full, SystemTimer>,
}

impl<S, N> FormatEvent<S, N> for TextFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let meta = event.metadata();
        if writer.has_ansi_escapes()
            || meta.target() != REQUEST_LOG_TARGET
            || ctx.lookup_current().is_some()
        {
            return self.full.format_event(ctx, writer, event);
        }
        write_timestamp(&mut writer, SystemTime::now())?;
        writer.write_str(level_str(meta.level()))?;
        writer.write_char(' ')?;
        writer.write_str(meta.target())?;
        writer.write_str(": ")?;
        let mut fields = Fields {
            writer: writer.by_ref(),
            first: true,
            result: Ok(()),
        };
        event.record(&mut fields);
        fields.result?;
        writer.write_char('\n')
    }
}

/// The level as tracing-subscriber pads it.
fn level_str(level: &Level) -> &'static str {
    match *level {
        Level::TRACE => "TRACE",
        Level::DEBUG => "DEBUG",
        Level::INFO => " INFO",
        Level::WARN => " WARN",
        Level::ERROR => "ERROR",
    }
}

/// `2026-12-06T11:02:08.123456Z ` (RFC 3339, UTC, microseconds, then a space).
fn write_timestamp(writer: &mut impl Write, now: SystemTime) -> fmt::Result {
    thread_local! {
        /// The last second formatted, and its `YYYY-MM-DDTHH:MM:SS.`.
        static SECOND: RefCell<(u64, String)> = const { RefCell::new((u64::MAX, String::new())) };
    }
    let Ok(since_epoch) = now.duration_since(UNIX_EPOCH) else {
        return writer.write_str("<unknown time> ");
    };
    let secs = since_epoch.as_secs();
    let micros = since_epoch.subsec_micros();
    SECOND.with_borrow_mut(|(second, prefix)| {
        if *second != secs {
            *second = secs;
            prefix.clear();
            write_second(prefix, secs)?;
        }
        writer.write_str(prefix)
    })?;
    let mut digits = [b'0'; 6];
    let mut rest = micros;
    for digit in digits.iter_mut().rev() {
        *digit = b'0' + (rest % 10) as u8;
        rest /= 10;
    }
    // Six ASCII digits.
    writer.write_str(std::str::from_utf8(&digits).map_err(|_| fmt::Error)?)?;
    writer.write_str("Z ")
}

/// `YYYY-MM-DDTHH:MM:SS.` of a Unix time, in UTC.
fn write_second(out: &mut String, secs: u64) -> fmt::Result {
    let days = (secs / 86_400) as i64;
    let of_day = secs % 86_400;
    let (year, month, day) = civil_from_days(days);
    write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.",
        of_day / 3600,
        of_day / 60 % 60,
        of_day % 60
    )
}

/// The proleptic Gregorian date of a day count since 1970-01-01
/// (Howard Hinnant's `civil_from_days`).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Writes fields as tracing-subscriber's default visitor does: the message as
/// it is, others as `name=value` with `Debug` values, separated by spaces.
struct Fields<'a> {
    writer: Writer<'a>,
    first: bool,
    result: fmt::Result,
}

impl Fields<'_> {
    /// The separator and `name=`, unless this is the message.
    fn start(&mut self, field: &Field) -> bool {
        if self.result.is_err() {
            return false;
        }
        if !std::mem::take(&mut self.first) {
            self.result = self.writer.write_char(' ');
        }
        if field.name() != "message" {
            self.result = self
                .result
                .and_then(|()| self.writer.write_str(field.name()))
                .and_then(|()| self.writer.write_char('='));
        }
        self.result.is_ok()
    }
}

impl Visit for Fields<'_> {
    fn record_str(&mut self, field: &Field, value: &str) {
        if !self.start(field) {
            return;
        }
        let plain = value
            .bytes()
            .all(|b| (b' '..=b'~').contains(&b) && b != b'"' && b != b'\\');
        self.result = if field.name() == "message" {
            write!(self.writer, "{value}")
        } else if plain {
            // What `Debug` writes for a string with nothing to escape.
            self.writer
                .write_char('"')
                .and_then(|()| self.writer.write_str(value))
                .and_then(|()| self.writer.write_char('"'))
        } else {
            write!(self.writer, "{value:?}")
        };
    }

    fn record_u64(&mut self, field: &Field, value: u64) {
        if self.start(field) {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_i64(&mut self, field: &Field, value: i64) {
        if self.start(field) {
            self.result = self.writer.write_str(itoa::Buffer::new().format(value));
        }
    }

    fn record_f64(&mut self, field: &Field, value: f64) {
        if self.start(field) {
            self.result = write_f64(&mut self.writer, value);
        }
    }

    fn record_bool(&mut self, field: &Field, value: bool) {
        if self.start(field) {
            self.result = self.writer.write_str(if value { "true" } else { "false" });
        }
    }

    fn record_debug(&mut self, field: &Field, value: &dyn fmt::Debug) {
        if self.start(field) {
            self.result = write!(self.writer, "{value:?}");
        }
    }
}

/// `value` as `{:?}` writes it. Where `Debug` writes plain decimals (no
/// exponent), `ryu`'s shortest form is the same text, without `core::fmt`'s
/// slower float formatting; elsewhere `Debug` itself.
fn write_f64(writer: &mut impl Write, value: f64) -> fmt::Result {
    if value == 0.0 || (value.is_finite() && (1e-4..1e15).contains(&value.abs())) {
        let mut buffer = ryu::Buffer::new();
        let text = buffer.format_finite(value);
        if !text.contains('e') {
            return writer.write_str(text);
        }
    }
    write!(writer, "{value:?}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::{Arc, Mutex};
    use std::time::Duration;
    use tracing_subscriber::fmt::MakeWriter;

    #[test]
    fn dates_match_known_ones() {
        let cases = [
            (0, "1970-01-01T00:00:00."),
            (951_782_400, "2000-02-29T00:00:00."),
            (1_709_251_199, "2024-02-29T23:59:59."),
            (1_796_554_928, "2026-12-06T11:02:08."),
            (4_102_444_800, "2100-01-01T00:00:00."),
        ];
        for (secs, want) in cases {
            let mut out = String::new();
            write_second(&mut out, secs).unwrap();
            assert_eq!(out, want, "{secs}");
        }
        let mut out = String::new();
        write_timestamp(
            &mut out,
            UNIX_EPOCH + Duration::from_micros(1_796_554_928_000_042),
        )
        .unwrap();
        assert_eq!(out, "2026-12-06T11:02:08.000042Z ");
    }

    #[test]
    fn floats_are_written_as_debug_writes_them() {
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            0.1,
            12.5,
            1e-4,
            9.99e-5,
            1e15,
            1e16,
            123_456.789,
        ];
        let mut x = 0.000_123_f64;
        while x < 1e17 {
            values.push(x);
            values.push(x * 1.000_37);
            x *= 7.3;
        }
        values.extend([f64::NAN, f64::INFINITY, f64::MIN_POSITIVE]);
        for value in values {
            let mut ours = String::new();
            write_f64(&mut ours, value).unwrap();
            assert_eq!(ours, format!("{value:?}"), "{value:e}");
        }
    }

    #[derive(Clone, Default)]
    struct Captured(Arc<Mutex<Vec<u8>>>);

    impl std::io::Write for Captured {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Captured {
        type Writer = Captured;
        fn make_writer(&'a self) -> Captured {
            self.clone()
        }
    }

    fn request_line() {
        tracing::info!(
            target: REQUEST_LOG_TARGET,
            method = %"POST",
            path = %"/v1/chat/completions",
            model_group = Some(tracing::field::display("gpt-4o")),
            deployment_id = Some(tracing::field::display("a1b2")),
            status = 200u16,
            duration_ms = 1.25f64,
            "request"
        );
    }

    /// What a subscriber with `format` writes for [`request_line`] and for a
    /// line with quoting to do, timestamps cut off.
    fn lines_with<F>(format: F) -> Vec<String>
    where
        F: FormatEvent<
                tracing_subscriber::Registry,
                tracing_subscriber::fmt::format::DefaultFields,
            > + Send
            + Sync
            + 'static,
    {
        let out = Captured::default();
        let subscriber = tracing_subscriber::fmt()
            .with_ansi(false)
            .with_writer(out.clone())
            .event_format(format)
            .finish();
        tracing::subscriber::with_default(subscriber, || {
            request_line();
            tracing::info!(target: REQUEST_LOG_TARGET, path = "a \"quoted\"\tpath", n = -3i64, ok = true, "request");
        });
        let text = String::from_utf8(out.0.lock().unwrap().clone()).unwrap();
        text.lines()
            .map(|line| {
                // `2026-12-06T11:02:08.123456Z` is 27 bytes.
                assert_eq!(&line[26..27], "Z", "{line}");
                line[27..].to_owned()
            })
            .collect()
    }

    #[test]
    fn the_request_line_is_what_tracing_subscriber_writes() {
        let ours = lines_with(TextFormat::default());
        let theirs = lines_with(Format::<Full, SystemTimer>::default());
        assert_eq!(ours, theirs);
        assert_eq!(
            ours[0],
            "  INFO switchyard_server::logging: request method=POST path=/v1/chat/completions model_group=gpt-4o deployment_id=a1b2 status=200 duration_ms=1.25"
        );
    }
}
