//! Small charts drawn as inline SVG: a stacked horizontal bar and a donut, each
//! with a legend that spells out the numbers, so they read without colour (and
//! on a phone whose screen washes out in the sun). No chart library: a few
//! hundred bytes of SVG beat a download on 2G.
//!
//! Colours come from `charts.css` through the segment's `tone` class
//! (`tone-on_time`, `tone-late`, …), so the same tone is the same colour in the
//! bar, the donut, the legend swatch and a status chip.

use leptos::prelude::*;

/// One part of a chart.
#[derive(Clone, Debug, PartialEq)]
pub struct Segment {
    pub value: u32,
    /// The colour class suffix: `on_time`, `late`, `returned`, `missing`, `not_due`,
    /// `done` (see `charts.css`).
    pub tone: &'static str,
    pub label: String,
}

impl Segment {
    pub fn new(value: u32, tone: &'static str, label: impl Into<String>) -> Segment {
        Segment { value, tone, label: label.into() }
    }
}

fn total(segments: &[Segment]) -> u32 {
    segments.iter().map(|s| s.value).sum()
}

/// "Đúng hạn 3, Trễ hạn 1, …": what the chart shows, for screen readers.
fn describe(segments: &[Segment]) -> String {
    segments.iter().map(|s| format!("{} {}", s.label, s.value)).collect::<Vec<_>>().join(", ")
}

/// A horizontal bar split in proportion to the segments (empty ones left out).
/// Nothing is drawn for a total of zero but an empty track.
#[component]
pub fn StackedBar(segments: Vec<Segment>) -> impl IntoView {
    let sum = total(&segments);
    let label = describe(&segments);
    let mut x = 0.0_f64;
    let rects = segments
        .into_iter()
        .filter(|s| s.value > 0 && sum > 0)
        .map(|s| {
            let width = f64::from(s.value) * 100.0 / f64::from(sum);
            let rect = view! {
                <rect class=format!("tone-{}", s.tone) x=format!("{x:.3}") y="0" width=format!("{width:.3}") height="10"/>
            };
            x += width;
            rect
        })
        .collect_view();
    view! {
        <svg class="stacked-bar" viewBox="0 0 100 10" preserveAspectRatio="none" role="img" aria-label=label>
            <rect class="chart-track" x="0" y="0" width="100" height="10"/>
            {rects}
        </svg>
    }
}

/// A ring split in proportion to the segments, with `center` (e.g. "82 %")
/// written in the middle.
#[component]
pub fn Donut(segments: Vec<Segment>, center: String) -> impl IntoView {
    // r = 100 / 2π: the circumference is 100, so dash lengths are percentages.
    const R: &str = "15.9155";
    let sum = total(&segments);
    let label = describe(&segments);
    let mut start = 0.0_f64;
    let arcs = segments
        .into_iter()
        .filter(|s| s.value > 0 && sum > 0)
        .map(|s| {
            let length = f64::from(s.value) * 100.0 / f64::from(sum);
            // Starts at 12 o'clock (offset 25) and runs clockwise.
            let offset = 25.0 - start;
            start += length;
            view! {
                <circle class=format!("donut-arc tone-{}", s.tone) cx="21" cy="21" r=R fill="none" stroke-width="6"
                    stroke-dasharray=format!("{length:.3} {:.3}", 100.0 - length)
                    stroke-dashoffset=format!("{offset:.3}")/>
            }
        })
        .collect_view();
    view! {
        <div class="donut" role="img" aria-label=label>
            <svg viewBox="0 0 42 42" width="120" height="120" aria-hidden="true">
                <circle class="donut-track" cx="21" cy="21" r=R fill="none" stroke-width="6"/>
                {arcs}
            </svg>
            <span class="donut-center">{center}</span>
        </div>
    }
}

/// The numbers behind a chart: a swatch, the label and the count per segment.
/// `testid_prefix` gives each count `data-testid="<prefix><tone>"` (e.g.
/// `total-on_time`), its text being the number alone.
#[component]
pub fn Legend(segments: Vec<Segment>, #[prop(optional)] testid_prefix: Option<&'static str>) -> impl IntoView {
    let items = segments
        .into_iter()
        .map(|s| {
            let testid = testid_prefix.map(|p| format!("{p}{}", s.tone));
            view! {
                <li class="legend-item" data-tone=s.tone>
                    <span class=format!("legend-swatch tone-{}", s.tone) aria-hidden="true"></span>
                    <span class="legend-label">{s.label}</span>
                    <span class="legend-value" data-testid=testid>{s.value}</span>
                </li>
            }
        })
        .collect_view();
    view! { <ul class="legend">{items}</ul> }
}
