//! Writing one section of BENCHMARKS.md, shared by the benchmark examples
//! (`#[path]`-included: Cargo builds no example from this folder).

use std::path::Path;

/// Replaces the section that starts with the heading line `heading` (up to the next
/// `## ` heading) with `section`, or appends it.
pub fn write_section(path: &Path, heading: &str, section: &str) {
    let text = std::fs::read_to_string(path).unwrap_or_else(|_| "# Benchmarks\n".into());
    let section = format!("{}\n", section.trim_end());
    let new = match text.find(&format!("{heading}\n")) {
        Some(start) => {
            let rest = &text[start + heading.len()..];
            let end = rest.find("\n## ").map(|i| start + heading.len() + i + 1).unwrap_or(text.len());
            format!(
                "{}{}{}",
                &text[..start],
                section,
                if end < text.len() { format!("\n{}", &text[end..]) } else { String::new() }
            )
        }
        None => format!("{}\n\n{}", text.trim_end(), section),
    };
    std::fs::write(path, new).unwrap();
}
