//! `/connectors/reconciliation/trend`: discrepancies found per day, by type, as a chart and a table; the
//! connector and the date range are in the URL (a GET filter form).

use chrono::{NaiveDate, NaiveTime};
use dto::{Connector, TrendQuery};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::{hooks::use_query_map, params::ParamsMap};

use crate::api::{discrepancy_trend, list_connectors};
use crate::components::{
    common::{AutoSubmit, ConnectorSelect, ErrorPanel, Loading},
    dialog::BUTTON,
    live::LiveRegion,
    schedules::TrendChart,
};
use crate::error::AppError;

const INPUT: &str = "rounded border border-slate-300 px-2 py-1";
/// The last instant of a day.
const END_OF_DAY: NaiveTime = match NaiveTime::from_hms_micro_opt(23, 59, 59, 999_999) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// The trend's filters from the URL: `connector_id` (a uuid), `from` and `to` (days, `YYYY-MM-DD`; `to`
/// includes its day). Bad values are refused here, naming the parameter.
pub fn trend_query(params: &ParamsMap) -> Result<TrendQuery, AppError> {
    let value = |key: &str| params.get_str(key).map(str::trim).filter(|v| !v.is_empty());
    let day = |key: &str| -> Result<Option<NaiveDate>, AppError> {
        value(key)
            .map(|raw| {
                NaiveDate::parse_from_str(raw, "%Y-%m-%d").map_err(|_| {
                    AppError::invalid(key, format!("`{raw}` is not a date (YYYY-MM-DD)."))
                })
            })
            .transpose()
    };
    let connector_id = value("connector_id")
        .map(|raw| {
            raw.parse().map_err(|_| {
                AppError::invalid("connector_id", format!("`{raw}` is not a connector id."))
            })
        })
        .transpose()?;
    let query = TrendQuery {
        connector_id,
        from: day("from")?.map(|d| d.and_time(NaiveTime::MIN).and_utc()),
        // `to` includes its day: its last instant, so an upstream comparing times keeps the day's findings.
        to: day("to")?.map(|d| d.and_time(END_OF_DAY).and_utc()),
    };
    query.validate()?;
    Ok(query)
}

/// The trend page: server rendered; the filter bar applies in place.
#[component]
pub fn TrendPage() -> impl IntoView {
    let query = use_query_map();
    let filters = Memo::new(move |_| trend_query(&query.read()));
    let trend = Resource::new(
        move || filters.get(),
        |q| async move { discrepancy_trend(q?).await },
    );
    let connectors = Resource::new(|| (), |_| list_connectors());
    view! {
        <Title text="Discrepancy trend"/>
        <nav aria-label="Breadcrumb" class="mb-2 text-sm">
            <a href="/connectors/reconciliation" class="underline">"Reconciliation"</a>
            " / "<span aria-current="page">"Trend"</span>
        </nav>
        <h1 class="mb-1 text-2xl font-semibold">"Discrepancy trend"</h1>
        <p class="mb-4 text-sm text-slate-600">
            "What reconciliation runs found, day by day (UTC), by type: each discrepancy counts on the day its run found it."
        </p>
        <Transition fallback=|| view! { <Loading what="the trend"/> }>
            {move || Suspend::new(async move {
                let connectors = connectors.await.map(|l| l.connectors).unwrap_or_default();
                let current = filters.get_untracked().unwrap_or_default();
                let body = match trend.await {
                    Ok(trend) => view! {
                        <p class="mb-2 text-sm text-slate-600">
                            {format!("From {} to {}.", trend.from.format("%Y-%m-%d"), trend.to.format("%Y-%m-%d"))}
                        </p>
                        <TrendChart trend/>
                    }.into_any(),
                    Err(error) => view! { <ErrorPanel error/> }.into_any(),
                };
                view! {
                    <LiveRegion id="trend">
                        <Filters connectors current/>
                        {body}
                    </LiveRegion>
                }
            })}
        </Transition>
    }
}

#[component]
fn Filters(connectors: Vec<Connector>, current: TrendQuery) -> impl IntoView {
    let selected = current
        .connector_id
        .map(|c| c.to_string())
        .unwrap_or_default();
    let day = |d: Option<chrono::DateTime<chrono::Utc>>| {
        d.map(|d| d.format("%Y-%m-%d").to_string())
            .unwrap_or_default()
    };
    let (from, to) = (day(current.from), day(current.to));
    view! {
        <AutoSubmit>
        <form method="get" action="/connectors/reconciliation/trend" aria-label="Trend filters">
            <div class="mb-4 flex flex-wrap items-end gap-3 rounded-lg border border-slate-200 bg-white p-3 text-sm">
                <ConnectorSelect connectors selected/>
                <label class="flex flex-col gap-1">
                    "From"
                    <input type="date" name="from" value=from class=INPUT/>
                </label>
                <label class="flex flex-col gap-1">
                    "To"
                    <input type="date" name="to" value=to class=INPUT/>
                </label>
                <button type="submit" class=BUTTON>"Apply"</button>
                <a href="/connectors/reconciliation/trend" class="py-1 underline">"Last 30 days, all connectors"</a>
            </div>
        </form>
        </AutoSubmit>
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> ParamsMap {
        let mut map = ParamsMap::new();
        for (k, v) in pairs {
            map.insert(k.to_string(), (*v).to_owned());
        }
        map
    }

    #[test]
    fn filters_are_read_and_bad_ones_named() {
        let q = trend_query(&params(&[
            ("from", "2026-11-01"),
            ("to", "2026-11-30"),
            ("connector_id", ""),
        ]))
        .unwrap();
        assert_eq!(
            q.from.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-11-01T00:00:00+00:00")
        );
        // `to` takes in its whole day (an upstream comparing instants must keep that day's findings).
        assert_eq!(
            q.to.map(|d| d.to_rfc3339()).as_deref(),
            Some("2026-11-30T23:59:59.999999+00:00")
        );
        assert!(q.connector_id.is_none());
        let field = |pairs: &[(&str, &str)]| match trend_query(&params(pairs)) {
            Err(AppError::Validation { field, .. }) => field,
            other => panic!("{other:?}"),
        };
        assert_eq!(field(&[("from", "yesterday")]).as_deref(), Some("from"));
        assert_eq!(
            field(&[("connector_id", "x")]).as_deref(),
            Some("connector_id")
        );
        assert_eq!(
            field(&[("from", "2026-11-30"), ("to", "2026-11-01")]).as_deref(),
            Some("from")
        );
    }
}
