//! What came of a start (a run, a resume, a retry, a remediation, a bulk remediation): the start gate's four
//! answers in one vocabulary, the same words and colours on every surface, readable in ten seconds — was it
//! accepted, if not why, what to do next, and where the work is.

use leptos::prelude::*;

/// The gate's answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum OutcomeKind {
    /// Queued: the new work.
    Accepted,
    /// Nothing new: the same work is already active.
    Deduped,
    /// Nothing started: other work holds the connector.
    ScopeBusy,
    /// Nothing started: the connector cannot take work.
    Blocked,
}

impl OutcomeKind {
    /// The word every surface leads with.
    pub const fn title(self) -> &'static str {
        match self {
            Self::Accepted => "Accepted",
            Self::Deduped => "Already in progress",
            Self::ScopeBusy => "Connector busy",
            Self::Blocked => "Blocked",
        }
    }

    const fn classes(self) -> &'static str {
        match self {
            Self::Accepted => "border-emerald-300 bg-emerald-50 text-emerald-900",
            Self::Deduped => "border-sky-300 bg-sky-50 text-sky-900",
            Self::ScopeBusy => "border-amber-300 bg-amber-50 text-amber-900",
            Self::Blocked => "border-red-300 bg-red-50 text-red-900",
        }
    }

    /// The machine name (`data-outcome`), as the API spells it.
    pub const fn code(self) -> &'static str {
        match self {
            Self::Accepted => "accepted",
            Self::Deduped => "deduped",
            Self::ScopeBusy => "scope_busy",
            Self::Blocked => "blocked",
        }
    }
}

/// One start's outcome, ready to show.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// Which answer.
    pub kind: OutcomeKind,
    /// What happened, for people.
    pub message: String,
    /// What to do about it (blocked starts).
    pub next_step: Option<String>,
    /// Where the work is: the new one, the one already doing it, or the one holding the connector.
    pub link: Option<(String, String)>,
}

impl Outcome {
    /// Accepted, with a link to the new work.
    pub fn accepted(message: impl Into<String>, link: Option<(String, String)>) -> Self {
        Self {
            kind: OutcomeKind::Accepted,
            message: message.into(),
            next_step: None,
            link,
        }
    }

    /// The outcome in one sentence (toasts, logs): the same words as [`StartOutcome`].
    pub fn sentence(&self) -> String {
        let mut text = format!(
            "{}: {}",
            self.kind.title(),
            self.message.trim_end_matches('.')
        );
        text.push('.');
        if let Some(step) = &self.next_step {
            text.push_str(&format!(" {}", next_step_text(step)));
        }
        text
    }

    /// The start gate's refusal as the console shows it; `connector` lets a run be linked.
    #[cfg(feature = "ssr")]
    pub fn refused(refused: client::StartRefused, connector: Option<dto::ConnectorId>) -> Self {
        use client::StartRefused;
        let run_link = |run: dto::RunId, text: &str| {
            connector.map(|c| {
                (
                    format!("/connectors/{c}/reconciliation/runs/{run}"),
                    text.to_owned(),
                )
            })
        };
        let op_link = |op: dto::OperationId, text: &str| {
            (format!("/connectors/operations/{op}"), text.to_owned())
        };
        match refused {
            StartRefused::Deduped {
                message,
                run,
                operation,
            } => Self {
                kind: OutcomeKind::Deduped,
                message,
                next_step: None,
                link: run
                    .and_then(|r| run_link(r, "Open the run already doing this"))
                    .or_else(|| {
                        operation.map(|o| op_link(o, "Open the operation already doing this"))
                    }),
            },
            StartRefused::ScopeBusy {
                message,
                run,
                operation,
            } => Self {
                kind: OutcomeKind::ScopeBusy,
                message,
                next_step: Some("wait until it is over, or stop it".to_owned()),
                link: run
                    .and_then(|r| run_link(r, "Open the run holding the connector"))
                    .or_else(|| {
                        operation.map(|o| op_link(o, "Open the operation holding the connector"))
                    }),
            },
            StartRefused::Blocked {
                message, next_step, ..
            } => Self {
                kind: OutcomeKind::Blocked,
                message,
                next_step,
                link: None,
            },
        }
    }
}

fn next_step_text(step: &str) -> String {
    format!("Next step: {}.", step.trim().trim_end_matches('.'))
}

impl From<Outcome> for crate::error::AppError {
    /// A refusal as an error (surfaces that show it in a toast): its code and its sentence.
    fn from(outcome: Outcome) -> Self {
        Self::NotStarted {
            outcome: outcome.kind.code().to_owned(),
            message: outcome.sentence(),
        }
    }
}

/// The outcome of a start, as every start surface shows it.
#[component]
pub fn StartOutcome(outcome: Outcome) -> impl IntoView {
    let Outcome {
        kind,
        message,
        next_step,
        link,
    } = outcome;
    view! {
        <div class=format!("rounded border px-3 py-2 text-sm {}", kind.classes()) data-outcome=kind.code()>
            <p><span class="font-semibold">{format!("{}: ", kind.title())}</span>{message}</p>
            {next_step.map(|step| view! { <p>{next_step_text(&step)}</p> })}
            {link.map(|(href, text)| view! { <a class="font-medium underline" href=href>{text}</a> })}
        </div>
    }
}

#[cfg(all(test, feature = "ssr"))]
mod tests {
    use super::*;

    fn html(outcome: Outcome) -> String {
        let owner = Owner::new();
        owner.with(|| view! { <StartOutcome outcome/> }.to_html())
    }

    #[test]
    fn the_four_outcomes_read_the_same_everywhere() {
        let connector: dto::ConnectorId = "00000000-0000-4000-8000-00000000c001".parse().unwrap();
        let run: dto::RunId = "00000000-0000-4000-8000-0000000000e1".parse().unwrap();
        let op: dto::OperationId = "00000000-0000-4000-8000-0000000000f1".parse().unwrap();
        let cases = [
            (
                Outcome::accepted(
                    "the run is queued",
                    Some(("/r".into(), "Follow the new run".into())),
                ),
                "Accepted: ",
                Some("Follow the new run"),
            ),
            (
                Outcome::refused(
                    client::StartRefused::Deduped {
                        message: "same run".into(),
                        run: Some(run),
                        operation: None,
                    },
                    Some(connector),
                ),
                "Already in progress: ",
                Some("Open the run already doing this"),
            ),
            (
                Outcome::refused(
                    client::StartRefused::Deduped {
                        message: "same change".into(),
                        run: None,
                        operation: Some(op),
                    },
                    None,
                ),
                "Already in progress: ",
                Some("Open the operation already doing this"),
            ),
            (
                Outcome::refused(
                    client::StartRefused::ScopeBusy {
                        message: "a run holds it".into(),
                        run: Some(run),
                        operation: None,
                    },
                    Some(connector),
                ),
                "Connector busy: ",
                Some("Open the run holding the connector"),
            ),
            (
                Outcome::refused(
                    client::StartRefused::Blocked {
                        message: "Legacy HR is disabled".into(),
                        reason_code: Some("connector_disabled".into()),
                        next_step: Some("enable the connector".into()),
                    },
                    Some(connector),
                ),
                "Blocked: ",
                None,
            ),
        ];
        for (outcome, title, link) in cases {
            let sentence = outcome.sentence();
            let page = html(outcome.clone());
            assert!(page.contains(title), "{page}");
            assert!(sentence.starts_with(title), "{sentence}");
            assert!(page.contains(&format!(r#"data-outcome="{}""#, outcome.kind.code())));
            match link {
                Some(text) => assert!(page.contains(text) && page.contains("href="), "{page}"),
                None => assert!(!page.contains("href="), "{page}"),
            }
        }
        let blocked = Outcome::refused(
            client::StartRefused::Blocked {
                message: "Legacy HR is disabled".into(),
                reason_code: None,
                next_step: Some("enable the connector".into()),
            },
            None,
        );
        assert_eq!(
            blocked.sentence(),
            "Blocked: Legacy HR is disabled. Next step: enable the connector."
        );
        assert!(html(blocked).contains("Next step: enable the connector."));
    }
}
