//! What the scan makes of macros and attributes, which it sees by name only: std's pure
//! macros, std's macros that break a rule, attributes that change nothing, pure derives.

use super::rules::{Rule, Verdict};

/// What the scan makes of a macro.
pub(crate) enum MacroVerdict {
    /// A pure std macro whose arguments are expressions (or, for `matches!`, a pattern).
    Pure { formats: bool },
    /// A std macro that itself breaks a rule.
    Rejected(Verdict),
    /// Not known: the scan cannot see its expansion.
    Unknown,
}

/// Std macros that are pure; `true` when their string literals are format strings.
#[rustfmt::skip]
const PURE_MACROS: &[(&str, bool)] = &[
    ("vec", false),
    ("format", true),
    ("format_args", true),
    ("write", true),
    ("writeln", true),
    ("matches", false),
    ("assert", true),
    ("assert_eq", true),
    ("assert_ne", true),
    ("debug_assert", true),
    ("debug_assert_eq", true),
    ("debug_assert_ne", true),
    ("panic", true),
    ("unreachable", true),
    ("todo", true),
    ("unimplemented", true),
    ("concat", false),
    ("stringify", false),
    // Compile-time constants fixed by the source text: the same for every build of it.
    ("include_str", false),
    ("include_bytes", false),
    ("file", false),
    ("line", false),
    ("column", false),
    ("module_path", false),
    ("compile_error", false),
];

/// Std macros that break a rule, whatever their arguments.
#[rustfmt::skip]
const REJECTED_MACROS: &[(&str, Rule, &str)] = &[
    ("print", Rule::Io, "writes standard output"),
    ("println", Rule::Io, "writes standard output"),
    ("eprint", Rule::Io, "writes standard error"),
    ("eprintln", Rule::Io, "writes standard error"),
    ("dbg", Rule::Io, "writes standard error"),
    // Fixed per build, but not by the source: two builds of the same model version
    // (another machine, a release build) would write different rows.
    ("env", Rule::Environment, "reads the build machine's environment"),
    ("option_env", Rule::Environment, "reads the build machine's environment"),
    ("cfg", Rule::Environment, "depends on the build configuration"),
    ("thread_local", Rule::GlobalState, "declares thread-local state"),
    ("lazy_static", Rule::GlobalState, "declares global state"),
    ("include", Rule::Macro, "pastes in code from another file, which the scan does not see"),
    ("asm", Rule::Unsafe, "runs machine code"),
    ("global_asm", Rule::Unsafe, "runs machine code"),
];

/// The verdict on a macro invoked as `path!`: std's macros by their name when the path
/// is bare or starts with `std`/`core`/`alloc`, anything else unknown.
pub(crate) fn macro_verdict(path: &[String]) -> MacroVerdict {
    let std_or_bare = match path {
        [_] => true,
        [first, ..] => matches!(first.as_str(), "std" | "core" | "alloc"),
        [] => false,
    };
    let Some(name) = path.last().filter(|_| std_or_bare) else {
        return MacroVerdict::Unknown;
    };
    if let Some(&(_, formats)) = PURE_MACROS.iter().find(|(n, _)| n == name) {
        return MacroVerdict::Pure { formats };
    }
    REJECTED_MACROS
        .iter()
        .find(|(n, _, _)| n == name)
        .map_or(MacroVerdict::Unknown, |&(_, rule, why)| {
            MacroVerdict::Rejected((rule, why))
        })
}

/// Attributes that change nothing the code does.
#[rustfmt::skip]
const INERT_ATTRIBUTES: &[&str] = &[
    "allow",
    "warn",
    "deny",
    "forbid",
    "expect",
    "doc",
    "inline",
    "cold",
    "must_use",
    "track_caller",
    "deprecated",
    "non_exhaustive",
    "repr",
    "automatically_derived",
    "rustfmt",
    "clippy",
    "diagnostic",
    "read_model",
    "serde",
];

/// Derives whose generated code is pure (std's, and serde's, which the event types use).
#[rustfmt::skip]
const PURE_DERIVES: &[&str] = &[
    "Debug",
    "Clone",
    "Copy",
    "PartialEq",
    "Eq",
    "PartialOrd",
    "Ord",
    "Hash",
    "Default",
    "Serialize",
    "Deserialize",
];

/// Whether an attribute whose path starts with `first` changes nothing the code does.
pub(crate) fn is_inert_attribute(first: &str) -> bool {
    INERT_ATTRIBUTES.contains(&first)
}

/// Whether `#[derive(name)]` generates only pure code.
pub(crate) fn is_pure_derive(name: &str) -> bool {
    PURE_DERIVES.contains(&name)
}
