//! Inline SVG charts for the HTML report: a score ring, a stacked status bar and a bar chart
//! of failures by severity. Plain SVG with a `<title>` each, so they render without script,
//! print, and read out in a screen reader.

use std::f64::consts::PI;

use maud::{html, Markup};

/// A colour class and a count, for the stacked bar and the bar chart.
pub(super) struct Segment<'a> {
    pub label: &'a str,
    pub class: &'a str,
    pub count: usize,
}

/// The CSS class of a score: good from 90 %, fair from 70 %, poor below, none without one.
pub(super) fn score_class(score: Option<f64>) -> &'static str {
    match score {
        Some(s) if s >= 90.0 => "good",
        Some(s) if s >= 70.0 => "fair",
        Some(_) => "poor",
        None => "none",
    }
}

/// `78%`, rounded down so 99.6 % never shows as 100 %; `–` without a score.
pub(super) fn percent(score: Option<f64>) -> String {
    match score {
        Some(score) => format!("{:.0}%", score.floor()),
        None => "–".to_string(),
    }
}

/// A ring gauge `size` pixels wide with the score in its middle.
pub(super) fn ring(score: Option<f64>, size: u32, label: &str) -> Markup {
    let stroke = f64::from(size) * 0.11;
    let centre = f64::from(size) / 2.0;
    let radius = centre - stroke / 2.0 - 1.0;
    let circumference = 2.0 * PI * radius;
    let filled = circumference * score.unwrap_or(0.0).clamp(0.0, 100.0) / 100.0;
    let font = f64::from(size) * 0.26;
    html! {
        svg.ring width=(size) height=(size) viewBox={ "0 0 " (size) " " (size) } role="img"
            aria-label={ (label) ": " (percent(score)) } {
            title { (label) ": " (percent(score)) }
            circle.track cx=(centre) cy=(centre) r=(fmt(radius)) fill="none"
                stroke-width=(fmt(stroke)) {}
            // No arc at 0 %: a round cap on an empty dash would still draw a dot.
            @if filled >= 0.5 {
                circle class={ "arc " (score_class(score)) } cx=(centre) cy=(centre) r=(fmt(radius))
                    fill="none" stroke-width=(fmt(stroke)) stroke-linecap="round"
                    stroke-dasharray={ (fmt(filled)) " " (fmt(circumference)) }
                    transform={ "rotate(-90 " (centre) " " (centre) ")" } {}
            }
            text.ring-value x=(centre) y=(fmt(centre + font * 0.35)) text-anchor="middle"
                font-size=(fmt(font)) { (percent(score)) }
        }
    }
}

/// A horizontal bar split into segments proportional to their counts.
pub(super) fn stacked_bar(segments: &[Segment<'_>], label: &str) -> Markup {
    const WIDTH: f64 = 600.0;
    const HEIGHT: f64 = 28.0;
    let total: usize = segments.iter().map(|s| s.count).sum();
    let mut x = 0.0;
    let mut placed = Vec::new();
    for segment in segments.iter().filter(|s| s.count > 0) {
        let width = WIDTH * segment.count as f64 / total.max(1) as f64;
        placed.push((x, width, segment));
        x += width;
    }
    html! {
        svg.stacked viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } preserveAspectRatio="none"
            role="img" aria-label=(label) {
            title { (label) }
            rect.empty x="0" y="0" width=(WIDTH) height=(HEIGHT) rx="6" {}
            @for (x, width, segment) in &placed {
                rect class={ "seg " (segment.class) } x=(fmt(*x)) y="0" width=(fmt(*width))
                    height=(HEIGHT) {
                    title { (segment.label) ": " (segment.count) }
                }
            }
        }
    }
}

/// A vertical bar chart of counts with the count above each bar and the label below.
pub(super) fn bar_chart(bars: &[Segment<'_>], label: &str) -> Markup {
    const WIDTH: f64 = 360.0;
    const HEIGHT: f64 = 180.0;
    const PLOT: f64 = 120.0;
    const TOP: f64 = 24.0;
    let max = bars.iter().map(|b| b.count).max().unwrap_or(0).max(1) as f64;
    let slot = WIDTH / bars.len().max(1) as f64;
    let bar_width = slot * 0.56;
    html! {
        svg.bars viewBox={ "0 0 " (WIDTH) " " (HEIGHT) } role="img" aria-label=(label) {
            title { (label) }
            line.axis x1="0" y1=(TOP + PLOT) x2=(WIDTH) y2=(TOP + PLOT) {}
            @for (n, bar) in bars.iter().enumerate() {
                @let height = PLOT * bar.count as f64 / max;
                @let x = slot * n as f64 + (slot - bar_width) / 2.0;
                @let centre = slot * n as f64 + slot / 2.0;
                rect class={ "bar " (bar.class) } x=(fmt(x)) y=(fmt(TOP + PLOT - height))
                    width=(fmt(bar_width)) height=(fmt(height)) rx="3" {
                    title { (bar.label) ": " (bar.count) }
                }
                text.bar-value x=(fmt(centre)) y=(fmt(TOP + PLOT - height - 6.0))
                    text-anchor="middle" { (bar.count) }
                text.bar-label x=(fmt(centre)) y=(fmt(TOP + PLOT + 20.0)) text-anchor="middle" {
                    (bar.label)
                }
            }
        }
    }
}

/// A coordinate with at most two decimals, so the markup stays short and stable.
fn fmt(value: f64) -> String {
    let text = format!("{value:.2}");
    let text = text.trim_end_matches('0').trim_end_matches('.');
    if text == "-0" {
        "0".to_string()
    } else {
        text.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn coordinates_are_short() {
        assert_eq!(fmt(12.0), "12");
        assert_eq!(fmt(12.345), "12.35");
        assert_eq!(fmt(0.1), "0.1");
        assert_eq!(fmt(-0.001), "0");
    }

    #[test]
    fn a_ring_draws_an_arc_proportional_to_the_score() {
        let half = ring(Some(50.0), 100, "Overall").into_string();
        assert!(half.contains(">50%</text>"), "{half}");
        // r = 50 - 5.5 - 1 = 43.5, circumference 273.32, half of it 136.66.
        assert!(
            half.contains("stroke-dasharray=\"136.66 273.32\""),
            "{half}"
        );
        let zero = ring(Some(0.0), 100, "Overall").into_string();
        assert!(
            !zero.contains("class=\"arc") && zero.contains(">0%</text>"),
            "{zero}"
        );
        let none = ring(None, 100, "Overall").into_string();
        assert!(
            !none.contains("class=\"arc") && none.contains(">–</text>"),
            "{none}"
        );
    }

    #[test]
    fn stacked_segments_fill_the_bar_in_proportion() {
        let segments = [
            Segment {
                label: "Pass",
                class: "pass",
                count: 3,
            },
            Segment {
                label: "Fail",
                class: "fail",
                count: 1,
            },
            Segment {
                label: "Unknown",
                class: "unknown",
                count: 0,
            },
        ];
        let svg = stacked_bar(&segments, "Results").into_string();
        assert!(svg.contains("x=\"0\" y=\"0\" width=\"450\""), "{svg}");
        assert!(svg.contains("x=\"450\" y=\"0\" width=\"150\""), "{svg}");
        assert!(
            !svg.contains("Unknown: 0"),
            "empty segments are not drawn: {svg}"
        );
    }
}
