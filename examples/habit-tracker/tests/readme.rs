//! Every `rust,ignore` block of the workspace's README is this crate's code, verbatim: the
//! crate compiles it and `tests/replay.rs` runs it, so the guide cannot show code that does
//! not build or does not do what it says. (Its `rust` blocks are complete programs, run as
//! doc tests by `readmodel-tests`.)

const README: &str = include_str!("../../../README.md");

const SOURCES: [(&str, &str); 7] = [
    ("src/lib.rs", include_str!("../src/lib.rs")),
    ("src/events.rs", include_str!("../src/events.rs")),
    ("src/totals.rs", include_str!("../src/totals.rs")),
    ("src/history.rs", include_str!("../src/history.rs")),
    ("src/reading.rs", include_str!("../src/reading.rs")),
    ("src/recording.rs", include_str!("../src/recording.rs")),
    ("src/bin/replay.rs", include_str!("../src/bin/replay.rs")),
];

/// The ```rust,ignore blocks of `markdown`, without the indentation of their fence (a block in
/// a list item is indented).
fn rust_blocks(markdown: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, Vec<&str>)> = None;
    for line in markdown.lines() {
        let text = line.trim_start();
        let indent = line.len() - text.len();
        match open.as_mut() {
            None if text == "```rust,ignore" => open = Some((indent, Vec::new())),
            None => {}
            Some((_, lines)) if text == "```" => {
                blocks.push(lines.join("\n"));
                open = None;
            }
            Some((fence, lines)) => lines.push(line.get(*fence..).unwrap_or("")),
        }
    }
    blocks
}

#[test]
fn every_rust_block_of_the_readme_is_code_of_this_crate() {
    let blocks = rust_blocks(README);
    assert!(blocks.len() >= 4, "found {} Rust blocks", blocks.len());
    for block in &blocks {
        assert!(
            SOURCES
                .iter()
                .any(|(_, source)| source.contains(block.as_str())),
            "this README block is not in habit-tracker's {:?}:\n{block}",
            SOURCES.map(|(path, _)| path)
        );
    }
}

#[test]
fn blocks_are_found_inside_list_items_and_compared_whole() {
    let markdown = "1. Step:\n\n   ```rust,ignore\n   fn a() {}\n\n   fn b() {}\n   ```\n\n```rust,ignore\nlet x = 1;\n```\n```rust\nfn main() {}\n```\n```sh\nls\n```\n";
    assert_eq!(
        rust_blocks(markdown),
        ["fn a() {}\n\nfn b() {}", "let x = 1;"]
    );
}
