//! When a reconciliation schedule fires: the one rule, shared by the engine (which fires it) and the console's
//! server functions (which show the next runs while an admin edits it).
//!
//! All times are UTC. Every frequency answers the first slot strictly after a given instant:
//! - hourly: the top of every hour (`hour_of_day` is not used);
//! - daily: `hour_of_day`:00 every day;
//! - weekly: `hour_of_day`:00 on `day_of_week` (0 = Sunday);
//! - monthly: `hour_of_day`:00 on `day_of_month`, or on the month's last day when it is shorter;
//! - cron: the next minute a five-field expression matches (minute hour day-of-month month day-of-week).
//!
//! The words a schedule is shown in ([`describe`]) are wasm-safe; the computation needs the `schedule` feature
//! (it brings the cron parser, which has no place in the browser's WASM).

use enums::ScheduleFrequency;

/// Weekday names by `day_of_week` (0 = Sunday).
pub const WEEKDAYS: [&str; 7] = [
    "Sunday",
    "Monday",
    "Tuesday",
    "Wednesday",
    "Thursday",
    "Friday",
    "Saturday",
];

/// How often a schedule fires, in words: "every day at 02:00 UTC".
pub fn describe(
    frequency: ScheduleFrequency,
    day_of_week: Option<u8>,
    day_of_month: Option<u8>,
    hour_of_day: u8,
    cron_expression: Option<&str>,
) -> String {
    let at = format!("{hour_of_day:02}:00 UTC");
    match frequency {
        ScheduleFrequency::Hourly => "every hour, on the hour".to_owned(),
        ScheduleFrequency::Daily => format!("every day at {at}"),
        ScheduleFrequency::Weekly => match day_of_week.and_then(|d| WEEKDAYS.get(usize::from(d))) {
            Some(day) => format!("every {day} at {at}"),
            None => format!("every week at {at}"),
        },
        ScheduleFrequency::Monthly => match day_of_month {
            Some(day) if day >= 29 => {
                format!("monthly on day {day} (or the month's last day) at {at}")
            }
            Some(day) => format!("monthly on day {day} at {at}"),
            None => format!("every month at {at}"),
        },
        ScheduleFrequency::Cron => match cron_expression {
            Some(expr) => format!("cron `{}` (UTC)", expr.trim()),
            None => "cron".to_owned(),
        },
    }
}

impl crate::ReconciliationSchedule {
    /// How often it fires, in words.
    pub fn describe(&self) -> String {
        describe(
            self.frequency,
            self.day_of_week,
            self.day_of_month,
            self.hour_of_day,
            self.cron_expression.as_deref(),
        )
    }
}

#[cfg(feature = "schedule")]
pub use rule::*;

#[cfg(feature = "schedule")]
mod rule {
    use chrono::{DateTime, Datelike, Duration, NaiveDate, TimeZone, Timelike, Utc};
    use croner::{
        parser::{CronParser, Seconds, Year},
        Cron,
    };
    use enums::ScheduleFrequency;

    use crate::{ErrorBody, UpsertSchedule};

    /// A checked schedule: answers its next slot after any instant.
    #[derive(Debug, Clone)]
    pub struct ScheduleRule {
        kind: Kind,
    }

    #[derive(Debug, Clone)]
    enum Kind {
        Hourly,
        Daily { hour: u32 },
        Weekly { weekday: u32, hour: u32 },
        Monthly { day: u32, hour: u32 },
        Cron(Box<Cron>),
    }

    /// Parses a five-field cron expression (no seconds, no year, no `@nicknames`), naming `cron_expression`
    /// when it is not one or never matches any time.
    pub fn parse_cron(expression: &str) -> Result<Cron, ErrorBody> {
        let invalid = |why: String| {
            ErrorBody::validation(
                "cron_expression",
                format!("cron_expression is not a valid five-field cron expression: {why}"),
            )
        };
        let expression = expression.trim();
        if expression.contains('@') {
            return Err(invalid("nicknames such as @daily are not accepted".into()));
        }
        let cron = CronParser::builder()
            .seconds(Seconds::Disallowed)
            .year(Year::Disallowed)
            .build()
            .parse(expression)
            .map_err(|err| invalid(err.to_string()))?;
        // A pattern such as `0 0 30 2 *` parses but never fires: refuse it rather than store a schedule
        // that waits forever. Leap days fire within four years of any start.
        let start = Utc.with_ymd_and_hms(2000, 1, 1, 0, 0, 0).single();
        match start.map(|start| cron.find_next_occurrence(&start, false)) {
            Some(Ok(_)) => Ok(cron),
            _ => Err(ErrorBody::validation(
                "cron_expression",
                "cron_expression never matches a date",
            )),
        }
    }

    impl ScheduleRule {
        /// The rule of a stored or requested schedule: checks it (naming the field) and parses the cron
        /// expression.
        pub fn new(
            frequency: ScheduleFrequency,
            day_of_week: Option<u8>,
            day_of_month: Option<u8>,
            hour_of_day: u8,
            cron_expression: Option<&str>,
        ) -> Result<Self, ErrorBody> {
            // The field checks are `UpsertSchedule::validate`'s, whatever the caller holds.
            UpsertSchedule {
                mode: enums::ReconciliationMode::Full,
                frequency,
                day_of_week,
                day_of_month,
                hour_of_day,
                cron_expression: cron_expression.map(str::to_owned),
                enabled: true,
            }
            .validate()?;
            let hour = u32::from(hour_of_day);
            let required = |value: Option<u8>, field: &str| {
                value
                    .map(u32::from)
                    .ok_or_else(|| ErrorBody::validation(field, format!("{field} is required")))
            };
            let kind = match frequency {
                ScheduleFrequency::Hourly => Kind::Hourly,
                ScheduleFrequency::Daily => Kind::Daily { hour },
                ScheduleFrequency::Weekly => Kind::Weekly {
                    weekday: required(day_of_week, "day_of_week")?,
                    hour,
                },
                ScheduleFrequency::Monthly => Kind::Monthly {
                    day: required(day_of_month, "day_of_month")?,
                    hour,
                },
                ScheduleFrequency::Cron => {
                    Kind::Cron(Box::new(parse_cron(cron_expression.unwrap_or_default())?))
                }
            };
            Ok(Self { kind })
        }

        /// The first slot strictly after `now`; none only if a cron expression stops matching (beyond the
        /// parser's search horizon).
        pub fn next_after(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
            let at = |date: NaiveDate, hour: u32| {
                date.and_hms_opt(hour, 0, 0)
                    .map(|t| Utc.from_utc_datetime(&t))
            };
            let today = now.date_naive();
            match &self.kind {
                Kind::Hourly => {
                    at(today, now.hour()).map(|this_hour| this_hour + Duration::hours(1))
                }
                Kind::Daily { hour } => {
                    let slot = at(today, *hour)?;
                    Some(if slot > now {
                        slot
                    } else {
                        slot + Duration::days(1)
                    })
                }
                Kind::Weekly { weekday, hour } => {
                    let ahead = (7 + weekday - today.weekday().num_days_from_sunday()) % 7;
                    let slot = at(today + Duration::days(i64::from(ahead)), *hour)?;
                    Some(if slot > now {
                        slot
                    } else {
                        slot + Duration::days(7)
                    })
                }
                Kind::Monthly { day, hour } => {
                    let (mut year, mut month) = (today.year(), today.month());
                    // This month's slot, else next month's (always later than now).
                    for _ in 0..2 {
                        let slot = at(day_in_month(year, month, *day)?, *hour)?;
                        if slot > now {
                            return Some(slot);
                        }
                        (year, month) = if month == 12 {
                            (year + 1, 1)
                        } else {
                            (year, month + 1)
                        };
                    }
                    None
                }
                Kind::Cron(cron) => cron.find_next_occurrence(&now, false).ok(),
            }
        }

        /// The next `n` slots after `now`, oldest first.
        pub fn upcoming(&self, now: DateTime<Utc>, n: usize) -> Vec<DateTime<Utc>> {
            let mut slots = Vec::with_capacity(n);
            let mut after = now;
            while slots.len() < n {
                match self.next_after(after) {
                    Some(slot) => {
                        slots.push(slot);
                        after = slot;
                    }
                    None => break,
                }
            }
            slots
        }
    }

    impl UpsertSchedule {
        /// Checks the request (naming the field) and answers its rule.
        pub fn rule(&self) -> Result<ScheduleRule, ErrorBody> {
            ScheduleRule::new(
                self.frequency,
                self.day_of_week,
                self.day_of_month,
                self.hour_of_day,
                self.cron_expression.as_deref(),
            )
        }
    }

    impl crate::ReconciliationSchedule {
        /// Its rule; an error names the field that does not hold (a stored schedule always has one).
        pub fn rule(&self) -> Result<ScheduleRule, ErrorBody> {
            ScheduleRule::new(
                self.frequency,
                self.day_of_week,
                self.day_of_month,
                self.hour_of_day,
                self.cron_expression.as_deref(),
            )
        }
    }

    /// `day` of the month, or the month's last day when it has fewer.
    fn day_in_month(year: i32, month: u32, day: u32) -> Option<NaiveDate> {
        let first_of_next = if month == 12 {
            NaiveDate::from_ymd_opt(year + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(year, month + 1, 1)
        }?;
        let last = first_of_next.pred_opt()?.day();
        NaiveDate::from_ymd_opt(year, month, day.min(last))
    }

    #[cfg(test)]
    mod tests {
        use super::*;

        fn t(text: &str) -> DateTime<Utc> {
            DateTime::parse_from_rfc3339(text)
                .expect("time")
                .with_timezone(&Utc)
        }

        fn rule(
            frequency: ScheduleFrequency,
            dow: Option<u8>,
            dom: Option<u8>,
            hour: u8,
            cron: Option<&str>,
        ) -> ScheduleRule {
            ScheduleRule::new(frequency, dow, dom, hour, cron).expect("valid rule")
        }

        #[test]
        fn next_run_for_every_frequency() {
            use ScheduleFrequency::*;
            // (rule, now, expected next)
            let cases: Vec<(ScheduleRule, &str, &str)> = vec![
                // Hourly: the next top of the hour, strictly after.
                (
                    rule(Hourly, None, None, 0, None),
                    "2026-03-10T10:15:00Z",
                    "2026-03-10T11:00:00Z",
                ),
                (
                    rule(Hourly, None, None, 7, None),
                    "2026-03-10T10:00:00Z",
                    "2026-03-10T11:00:00Z",
                ),
                (
                    rule(Hourly, None, None, 0, None),
                    "2026-12-31T23:59:59Z",
                    "2027-01-01T00:00:00Z",
                ),
                // Daily: today if still ahead, else tomorrow; exactly at the slot → tomorrow.
                (
                    rule(Daily, None, None, 2, None),
                    "2026-03-10T01:59:59Z",
                    "2026-03-10T02:00:00Z",
                ),
                (
                    rule(Daily, None, None, 2, None),
                    "2026-03-10T02:00:00Z",
                    "2026-03-11T02:00:00Z",
                ),
                (
                    rule(Daily, None, None, 2, None),
                    "2026-03-10T02:00:00.000001Z",
                    "2026-03-11T02:00:00Z",
                ),
                (
                    rule(Daily, None, None, 23, None),
                    "2026-12-31T23:30:00Z",
                    "2027-01-01T23:00:00Z",
                ),
                (
                    rule(Daily, None, None, 0, None),
                    "2028-02-28T12:00:00Z",
                    "2028-02-29T00:00:00Z",
                ),
                // Weekly: 2026-03-10 is a Tuesday; 0 = Sunday.
                (
                    rule(Weekly, Some(0), None, 3, None),
                    "2026-03-10T12:00:00Z",
                    "2026-03-15T03:00:00Z",
                ),
                (
                    rule(Weekly, Some(2), None, 13, None),
                    "2026-03-10T12:00:00Z",
                    "2026-03-10T13:00:00Z",
                ),
                (
                    rule(Weekly, Some(2), None, 12, None),
                    "2026-03-10T12:00:00Z",
                    "2026-03-17T12:00:00Z",
                ),
                (
                    rule(Weekly, Some(6), None, 0, None),
                    "2026-12-30T00:00:00Z",
                    "2027-01-02T00:00:00Z",
                ),
                // Monthly: the day, or the month's last day when it is shorter.
                (
                    rule(Monthly, None, Some(15), 6, None),
                    "2026-03-10T00:00:00Z",
                    "2026-03-15T06:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(15), 6, None),
                    "2026-03-15T06:00:00Z",
                    "2026-04-15T06:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(31), 2, None),
                    "2026-04-01T00:00:00Z",
                    "2026-04-30T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(31), 2, None),
                    "2026-04-30T02:00:00Z",
                    "2026-05-31T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(31), 2, None),
                    "2026-01-31T02:00:00Z",
                    "2026-02-28T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(30), 2, None),
                    "2028-02-01T00:00:00Z",
                    "2028-02-29T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(29), 2, None),
                    "2027-02-01T00:00:00Z",
                    "2027-02-28T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(29), 2, None),
                    "2028-02-01T00:00:00Z",
                    "2028-02-29T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(31), 2, None),
                    "2026-12-31T02:00:00Z",
                    "2027-01-31T02:00:00Z",
                ),
                (
                    rule(Monthly, None, Some(1), 0, None),
                    "2026-12-15T00:00:00Z",
                    "2027-01-01T00:00:00Z",
                ),
                // Cron, strictly after.
                (
                    rule(Cron, None, None, 0, Some("0 2 * * *")),
                    "2026-03-10T02:00:00Z",
                    "2026-03-11T02:00:00Z",
                ),
                (
                    rule(Cron, None, None, 0, Some("*/15 * * * *")),
                    "2026-03-10T10:07:30Z",
                    "2026-03-10T10:15:00Z",
                ),
                (
                    rule(Cron, None, None, 0, Some("30 4 * * MON-FRI")),
                    "2026-03-13T05:00:00Z",
                    "2026-03-16T04:30:00Z",
                ),
                (
                    rule(Cron, None, None, 0, Some("0 0 29 2 *")),
                    "2026-01-01T00:00:00Z",
                    "2028-02-29T00:00:00Z",
                ),
                (
                    rule(Cron, None, None, 0, Some("0 0 1 1 *")),
                    "2026-06-01T00:00:00Z",
                    "2027-01-01T00:00:00Z",
                ),
            ];
            for (rule, now, expected) in cases {
                assert_eq!(
                    rule.next_after(t(now)),
                    Some(t(expected)),
                    "{rule:?} after {now}"
                );
            }
        }

        #[test]
        fn upcoming_runs_follow_each_other() {
            let monthly = rule(ScheduleFrequency::Monthly, None, Some(31), 2, None);
            let runs: Vec<String> = monthly
                .upcoming(t("2027-12-31T03:00:00Z"), 5)
                .into_iter()
                .map(|r| r.format("%Y-%m-%d %H:%M").to_string())
                .collect();
            assert_eq!(
                runs,
                [
                    "2028-01-31 02:00",
                    "2028-02-29 02:00",
                    "2028-03-31 02:00",
                    "2028-04-30 02:00",
                    "2028-05-31 02:00"
                ]
            );
        }

        #[test]
        fn bad_cron_expressions_name_the_field() {
            for bad in [
                "",
                "0 2 * *",
                "0 0 2 * * *",
                "0 2 * * * 2026",
                "61 * * * *",
                "0 24 * * *",
                "0 0 32 * *",
                "0 0 * 13 *",
                "0 0 * * 8",
                "0 0 30 2 *",
                "@daily",
                "a b c d e",
            ] {
                let err = ScheduleRule::new(ScheduleFrequency::Cron, None, None, 0, Some(bad))
                    .expect_err(bad);
                assert_eq!(err.field.as_deref(), Some("cron_expression"), "{bad}");
            }
        }

        #[test]
        fn other_fields_are_named_too() {
            use ScheduleFrequency::*;
            let field = |r: Result<ScheduleRule, ErrorBody>| r.err().and_then(|e| e.field);
            assert_eq!(
                field(ScheduleRule::new(Daily, None, None, 24, None)),
                Some("hour_of_day".into())
            );
            assert_eq!(
                field(ScheduleRule::new(Weekly, None, None, 1, None)),
                Some("day_of_week".into())
            );
            assert_eq!(
                field(ScheduleRule::new(Weekly, Some(7), None, 1, None)),
                Some("day_of_week".into())
            );
            assert_eq!(
                field(ScheduleRule::new(Monthly, None, Some(0), 1, None)),
                Some("day_of_month".into())
            );
            assert_eq!(
                field(ScheduleRule::new(Monthly, None, None, 1, None)),
                Some("day_of_month".into())
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frequencies_read_as_words() {
        use ScheduleFrequency::*;
        assert_eq!(
            describe(Daily, None, None, 2, None),
            "every day at 02:00 UTC"
        );
        assert_eq!(
            describe(Weekly, Some(0), None, 14, None),
            "every Sunday at 14:00 UTC"
        );
        assert_eq!(
            describe(Monthly, None, Some(31), 2, None),
            "monthly on day 31 (or the month's last day) at 02:00 UTC"
        );
        assert_eq!(
            describe(Hourly, None, None, 5, None),
            "every hour, on the hour"
        );
        assert_eq!(
            describe(Cron, None, None, 0, Some(" 0 3 * * 1 ")),
            "cron `0 3 * * 1` (UTC)"
        );
    }
}
