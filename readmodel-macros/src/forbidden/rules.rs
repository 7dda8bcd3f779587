//! What the scan rejects: the classes of dependency ([`Rule`], each one opt-out name) and,
//! for each, the names that betray it. Names are matched on the path as written (resolved
//! through whatever `use` items the scan can see), never on types, which a macro cannot know.

/// A class of dependency a replay must not have; also the name an item opts out with:
/// `#[read_model(allow(<name>))]`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Rule {
    /// Clocks and the machine's time zone.
    Clock,
    /// Random numbers and random ids.
    Randomness,
    /// Files, network, processes, standard streams, databases.
    Io,
    /// Environment variables (at run or build time), build configuration, threads, type ids.
    Environment,
    /// Collections whose iteration order depends on a random or unspecified hasher.
    HashCollections,
    /// State that outlives one handler call: statics, thread-locals, locks, atomics.
    GlobalState,
    /// Memory addresses made into values.
    Address,
    /// `unsafe` code and foreign functions, which the scan cannot judge.
    Unsafe,
    /// Macros and attribute macros whose expansion the scan cannot see.
    Macro,
}

impl Rule {
    /// Every rule, in the order error messages list them.
    pub(crate) const ALL: [Rule; 9] = [
        Rule::Clock,
        Rule::Randomness,
        Rule::Io,
        Rule::Environment,
        Rule::HashCollections,
        Rule::GlobalState,
        Rule::Address,
        Rule::Unsafe,
        Rule::Macro,
    ];

    /// The name written in `allow(...)`.
    pub(crate) fn name(self) -> &'static str {
        match self {
            Rule::Clock => "clock",
            Rule::Randomness => "randomness",
            Rule::Io => "io",
            Rule::Environment => "environment",
            Rule::HashCollections => "hash_collections",
            Rule::GlobalState => "global_state",
            Rule::Address => "address",
            Rule::Unsafe => "unsafe",
            Rule::Macro => "macro",
        }
    }

    /// The rule named `name` in `allow(...)`.
    pub(crate) fn from_name(name: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|rule| rule.name() == name)
    }

    /// What to do instead.
    pub(crate) fn instead(self) -> &'static str {
        match self {
            Rule::Clock => "use the event's `occurred_at` (`event.occurred_at`) as the time",
            Rule::Randomness => "take ids from the event (`event.id`, `event.stream_id`, payload ids), or derive one with `Uuid::new_v5` from them",
            Rule::Io | Rule::Environment => "a handler computes rows from the event and its current rows only: put what it needs into the event payload",
            Rule::HashCollections => "use `BTreeMap`/`BTreeSet`, which iterate in key order",
            Rule::GlobalState => "keep state in the model's rows, which replay rebuilds; a fixed table can be a `const`",
            Rule::Address => "compare and order by values (ids, keys), never by where they sit in memory",
            Rule::Unsafe => "the scan cannot see what unsafe code or a foreign function does: write it in safe Rust",
            Rule::Macro => "the scan cannot see what it expands to: expand it by hand",
        }
    }

    /// Whether a correct use is plausible enough that the message should name the opt-out.
    /// Clocks, randomness and I/O never are: the fix is always to take the value from the event.
    pub(crate) fn suggests_opt_out(self) -> bool {
        !matches!(self, Rule::Clock | Rule::Randomness | Rule::Io)
    }
}

/// A rule and what the matched use does ("reads the wall clock").
pub(crate) type Verdict = (Rule, &'static str);

const WALL_CLOCK: &str = "reads the wall clock";
const RANDOM: &str = "draws random numbers";
const HASH_ORDER: &str = "iterates in an order that varies between runs";

/// Path prefixes (after `core`/`alloc` → `std`), with the paths under them that are fine.
#[rustfmt::skip]
const PREFIXES: &[(&[&str], Rule, &str)] = &[
    (&["std", "io"], Rule::Io, "does I/O"),
    (&["std", "fs"], Rule::Io, "does file I/O"),
    (&["std", "net"], Rule::Io, "does network I/O"),
    (&["std", "process"], Rule::Io, "runs or inspects processes"),
    (&["std", "os"], Rule::Io, "calls the operating system"),
    (&["std", "env"], Rule::Environment, "reads the environment"),
    (&["std", "thread"], Rule::Environment, "uses threads, whose identity and timing vary"),
    (&["std", "sync"], Rule::GlobalState, "shares state between calls or threads"),
    (&["std", "panic", "set_hook"], Rule::GlobalState, "sets process-wide state"),
    (&["std", "panic", "take_hook"], Rule::GlobalState, "sets process-wide state"),
    (&["std", "ptr"], Rule::Address, "works with memory addresses"),
    (&["std", "alloc"], Rule::Address, "allocates raw memory"),
    (&["std", "mem", "transmute"], Rule::Unsafe, "reinterprets bits"),
    (&["std", "mem", "transmute_copy"], Rule::Unsafe, "reinterprets bits"),
    (&["std", "intrinsics"], Rule::Unsafe, "calls compiler intrinsics"),
    (&["std", "arch"], Rule::Unsafe, "runs machine-specific instructions"),
    (&["std", "time", "SystemTime"], Rule::Clock, WALL_CLOCK),
    (&["std", "time", "Instant"], Rule::Clock, "reads the clock"),
    (&["std", "time", "UNIX_EPOCH"], Rule::Clock, "works with wall-clock `SystemTime`s"),
    (&["chrono", "offset"], Rule::Clock, WALL_CLOCK),
    (&["chrono", "Local"], Rule::Clock, "uses the machine's local time zone"),
    (&["rand"], Rule::Randomness, RANDOM),
    (&["rand_core"], Rule::Randomness, RANDOM),
    (&["fastrand"], Rule::Randomness, RANDOM),
    (&["getrandom"], Rule::Randomness, RANDOM),
    (&["once_cell"], Rule::GlobalState, "holds state initialised once per process"),
    (&["lazy_static"], Rule::GlobalState, "holds state initialised once per process"),
    (&["parking_lot"], Rule::GlobalState, "shares state between calls or threads"),
    (&["tokio"], Rule::Io, "does async I/O"),
    (&["async_std"], Rule::Io, "does async I/O"),
    (&["reqwest"], Rule::Io, "does network I/O"),
    (&["ureq"], Rule::Io, "does network I/O"),
    (&["hyper"], Rule::Io, "does network I/O"),
    (&["diesel"], Rule::Io, "queries a database"),
    (&["rusqlite"], Rule::Io, "queries a database"),
    (&["sqlx"], Rule::Io, "queries a database"),
    (&["postgres"], Rule::Io, "queries a database"),
    (&["libc"], Rule::Io, "calls the operating system"),
    (&["nix"], Rule::Io, "calls the operating system"),
    (&["num_cpus"], Rule::Environment, "reads the machine's configuration"),
    (&["sysinfo"], Rule::Environment, "reads the machine's configuration"),
    (&["hostname"], Rule::Environment, "reads the machine's configuration"),
    (&["gethostname"], Rule::Environment, "reads the machine's configuration"),
    (&["whoami"], Rule::Environment, "reads the machine's configuration"),
    (&["iana_time_zone"], Rule::Clock, "reads the machine's time zone"),
];

/// Paths under a rejected prefix that are fine: they neither read nor share anything.
#[rustfmt::skip]
const FINE_UNDER_PREFIX: &[&[&str]] = &[
    &["std", "sync", "Arc"],
    &["std", "sync", "Weak"],
    &["std", "ptr", "eq"],
    // Value types and the traits that read or write memory: the sources (`File`,
    // `stdin`) are what is rejected.
    &["std", "net", "IpAddr"],
    &["std", "net", "Ipv4Addr"],
    &["std", "net", "Ipv6Addr"],
    &["std", "net", "SocketAddr"],
    &["std", "net", "SocketAddrV4"],
    &["std", "net", "SocketAddrV6"],
    &["std", "io", "Cursor"],
    &["std", "io", "Error"],
    &["std", "io", "ErrorKind"],
    &["std", "io", "Result"],
    &["std", "io", "Read"],
    &["std", "io", "Write"],
    &["std", "io", "BufRead"],
];

/// The standard library's modules that a path may name without `std::` (after
/// `use std::env;`, which the scan may not see): `env::var` is `std::env::var`.
#[rustfmt::skip]
const STD_MODULES: &[&str] = &[
    "io", "fs", "net", "process", "os", "env", "thread", "sync", "ptr", "alloc",
];

/// The path as the standard library would name it: `core`/`alloc` → `std`, and a bare
/// standard module (`env::var`) with `std::` in front.
pub(crate) fn normalize(mut path: Vec<String>) -> Vec<String> {
    match path.first().map(String::as_str) {
        Some("core" | "alloc") => path[0] = "std".to_owned(),
        Some(first) if path.len() > 1 && STD_MODULES.contains(&first) => {
            path.insert(0, "std".to_owned());
        }
        _ => {}
    }
    path
}

/// A rejected prefix of `path` (normalized): something under it, or, for a glob import
/// (`use std::env::*`), the prefix itself. A bare `rand` is a local variable, not the crate.
pub(crate) fn prefix(path: &[String], glob: bool) -> Option<Verdict> {
    let starts = |prefix: &[&str]| {
        (path.len() > prefix.len() || glob && path.len() == prefix.len())
            && path.iter().zip(prefix).all(|(a, b)| a == b)
    };
    let fine =
        |fine: &[&str]| path.len() >= fine.len() && path.iter().zip(fine).all(|(a, b)| a == b);
    if FINE_UNDER_PREFIX.iter().any(|f| fine(f)) {
        return None;
    }
    PREFIXES
        .iter()
        .find(|(prefix, _, _)| starts(prefix))
        .map(|&(_, rule, why)| (rule, why))
}

/// Two last segments that together betray a dependency (`File::open`), whatever the path
/// before them.
#[rustfmt::skip]
const PAIRS: &[(&str, &str, Rule, &str)] = &[
    ("Utc", "now", Rule::Clock, WALL_CLOCK),
    ("Utc", "today", Rule::Clock, WALL_CLOCK),
    ("Local", "now", Rule::Clock, WALL_CLOCK),
    ("Local", "today", Rule::Clock, WALL_CLOCK),
    ("SystemTime", "now", Rule::Clock, WALL_CLOCK),
    ("Instant", "now", Rule::Clock, "reads the clock"),
    ("Uuid", "new_v4", Rule::Randomness, "draws a random id"),
    ("Uuid", "new_v7", Rule::Randomness, "draws a random id"),
    ("Uuid", "now_v7", Rule::Clock, "reads the wall clock for an id"),
    ("Uuid", "now_v6", Rule::Clock, "reads the wall clock for an id"),
    ("Uuid", "now_v1", Rule::Clock, "reads the wall clock for an id"),
    ("Ulid", "new", Rule::Randomness, "draws a random id"),
    ("File", "open", Rule::Io, "does file I/O"),
    ("File", "create", Rule::Io, "does file I/O"),
    ("File", "create_new", Rule::Io, "does file I/O"),
    ("File", "options", Rule::Io, "does file I/O"),
    ("Command", "new", Rule::Io, "runs a process"),
];

/// The verdict on the last two segments of `path`.
pub(crate) fn pair(path: &[String]) -> Option<Verdict> {
    let [.., first, last] = path else { return None };
    PAIRS
        .iter()
        .find(|(a, b, _, _)| a == first && b == last)
        .map(|&(_, _, rule, why)| (rule, why))
}

/// Functions (last path segment) that read a clock or randomness, or work with addresses,
/// whatever the path before them. A single unresolved identifier counts only when called:
/// as a value it is most likely a local variable (`let now = event.occurred_at;`).
#[rustfmt::skip]
const CALLEES: &[(&str, Rule, &str)] = &[
    ("now", Rule::Clock, WALL_CLOCK),
    ("today", Rule::Clock, WALL_CLOCK),
    ("now_utc", Rule::Clock, WALL_CLOCK),
    ("now_local", Rule::Clock, WALL_CLOCK),
    ("now_v1", Rule::Clock, "reads the wall clock for an id"),
    ("now_v6", Rule::Clock, "reads the wall clock for an id"),
    ("now_v7", Rule::Clock, "reads the wall clock for an id"),
    ("elapsed", Rule::Clock, "reads the clock"),
    ("duration_since", Rule::Clock, "measures between clock readings"),
    ("new_v4", Rule::Randomness, "draws a random id"),
    ("new_v7", Rule::Randomness, "draws a random id"),
    ("new_random", Rule::Randomness, RANDOM),
    ("random", Rule::Randomness, RANDOM),
    ("random_range", Rule::Randomness, RANDOM),
    ("random_bool", Rule::Randomness, RANDOM),
    ("random_iter", Rule::Randomness, RANDOM),
    ("random_ratio", Rule::Randomness, RANDOM),
    ("thread_rng", Rule::Randomness, RANDOM),
    ("rng", Rule::Randomness, RANDOM),
    ("from_entropy", Rule::Randomness, RANDOM),
    ("from_os_rng", Rule::Randomness, RANDOM),
    ("getrandom", Rule::Randomness, RANDOM),
    ("stdin", Rule::Io, "reads standard input"),
    ("stdout", Rule::Io, "writes standard output"),
    ("stderr", Rule::Io, "writes standard error"),
    ("addr_of", Rule::Address, "takes a memory address"),
    ("addr_of_mut", Rule::Address, "takes a memory address"),
    ("into_raw", Rule::Address, "turns a value into a raw pointer"),
    ("as_ptr", Rule::Address, "takes a memory address"),
    ("as_mut_ptr", Rule::Address, "takes a memory address"),
    ("expose_provenance", Rule::Address, "turns an address into a number"),
    ("transmute", Rule::Unsafe, "reinterprets bits"),
    ("transmute_copy", Rule::Unsafe, "reinterprets bits"),
    ("type_id", Rule::Environment, "is a `TypeId`, which differs between builds"),
    ("hash_one", Rule::HashCollections, "hashes with a hasher that may be seeded at random"),
];

/// The verdict on a function named `name`.
pub(crate) fn callee(name: &str) -> Option<Verdict> {
    CALLEES
        .iter()
        .find(|(n, _, _)| *n == name)
        .map(|&(_, rule, why)| (rule, why))
}

/// Types and modules rejected wherever they appear in a path, in a type or as a value.
/// A name counts when it starts the path or follows a module (`std::time::Instant`), not
/// when it follows a type (`Scope::Local` is a variant of the user's enum).
#[rustfmt::skip]
const NAMES: &[(&str, Rule, &str)] = &[
    ("SystemTime", Rule::Clock, "is wall-clock time"),
    ("Instant", Rule::Clock, "is a clock reading"),
    ("UNIX_EPOCH", Rule::Clock, "works with wall-clock `SystemTime`s"),
    ("Local", Rule::Clock, "uses the machine's local time zone"),
    ("OsRng", Rule::Randomness, RANDOM),
    ("ThreadRng", Rule::Randomness, RANDOM),
    ("HashMap", Rule::HashCollections, HASH_ORDER),
    ("HashSet", Rule::HashCollections, HASH_ORDER),
    ("hash_map", Rule::HashCollections, HASH_ORDER),
    ("hash_set", Rule::HashCollections, HASH_ORDER),
    ("DashMap", Rule::HashCollections, HASH_ORDER),
    ("DashSet", Rule::HashCollections, HASH_ORDER),
    ("RandomState", Rule::HashCollections, "is a randomly seeded hasher"),
    ("AHasher", Rule::HashCollections, "is a randomly seeded hasher"),
    ("BuildHasher", Rule::HashCollections, "builds hashers that may be seeded at random"),
    ("DefaultHasher", Rule::HashCollections, "hashes with an algorithm that may change between Rust releases"),
    ("SipHasher", Rule::HashCollections, "hashes with an algorithm that may change between Rust releases"),
    ("Mutex", Rule::GlobalState, "shares state between calls or threads"),
    ("RwLock", Rule::GlobalState, "shares state between calls or threads"),
    ("ReentrantLock", Rule::GlobalState, "shares state between calls or threads"),
    ("Condvar", Rule::GlobalState, "synchronises threads"),
    ("Barrier", Rule::GlobalState, "synchronises threads"),
    ("mpsc", Rule::GlobalState, "passes values between threads"),
    ("OnceLock", Rule::GlobalState, "holds state initialised once per process"),
    ("LazyLock", Rule::GlobalState, "holds state initialised once per process"),
    ("Once", Rule::GlobalState, "holds state initialised once per process"),
    ("LocalKey", Rule::GlobalState, "is thread-local state"),
    ("TypeId", Rule::Environment, "differs between builds of the same source"),
    ("ThreadId", Rule::Environment, "is the identity of the running thread"),
    ("Stdin", Rule::Io, "reads standard input"),
    ("Stdout", Rule::Io, "writes standard output"),
    ("Stderr", Rule::Io, "writes standard error"),
    ("TcpStream", Rule::Io, "does network I/O"),
    ("TcpListener", Rule::Io, "does network I/O"),
    ("UdpSocket", Rule::Io, "does network I/O"),
    ("OpenOptions", Rule::Io, "does file I/O"),
    ("Pointer", Rule::Address, "formats a memory address"),
];

/// Atomic orderings: written only next to an atomic, which is shared state.
const ORDERINGS: &[&str] = &["Relaxed", "SeqCst", "Acquire", "Release", "AcqRel"];

/// The verdict on segment `name` of a path, `previous` being the segment before it and
/// `last` whether it ends the path (a lowercase name there is a variable, not a module).
pub(crate) fn name(name: &str, previous: Option<&str>, last: bool) -> Option<Verdict> {
    if last && name.starts_with(|c: char| c.is_ascii_lowercase()) {
        return None;
    }
    let after_module = previous.is_none_or(|p| p.starts_with(|c: char| c.is_ascii_lowercase()));
    if ORDERINGS.contains(&name) && (after_module || previous == Some("Ordering")) {
        return Some((Rule::GlobalState, "orders an atomic, which is shared state"));
    }
    if !after_module {
        return None;
    }
    if is_atomic(name) {
        return Some((Rule::GlobalState, "is an atomic, which is shared state"));
    }
    if let Some(&(_, rule, why)) = NAMES.iter().find(|(n, _, _)| *n == name) {
        return Some((rule, why));
    }
    // `FxHashMap`, `AHashSet`, `IndexMap` is fine: it keeps insertion order.
    (name.ends_with("HashMap") || name.ends_with("HashSet"))
        .then_some((Rule::HashCollections, HASH_ORDER))
}

/// `AtomicU64`, `AtomicBool`, `AtomicPtr`...
fn is_atomic(name: &str) -> bool {
    name.strip_prefix("Atomic")
        .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_uppercase()))
}

/// Interior mutability: harmless in a local, but in a `const` each use is a fresh copy
/// (the sharing it was meant for does not happen) and in a `static` it is global state.
#[rustfmt::skip]
pub(crate) const INTERIOR_MUTABLE: &[&str] =
    &["Cell", "RefCell", "OnceCell", "UnsafeCell", "LazyCell"];

/// Methods rejected on any receiver.
#[rustfmt::skip]
const METHODS: &[(&str, Rule, &str)] = &[
    ("now", Rule::Clock, WALL_CLOCK),
    ("today", Rule::Clock, WALL_CLOCK),
    ("elapsed", Rule::Clock, "reads the clock"),
    ("duration_since", Rule::Clock, "measures between clock readings"),
    ("checked_duration_since", Rule::Clock, "measures between clock readings"),
    ("saturating_duration_since", Rule::Clock, "measures between clock readings"),
    ("as_ptr", Rule::Address, "takes a memory address"),
    ("as_mut_ptr", Rule::Address, "takes a memory address"),
    ("as_ptr_range", Rule::Address, "takes memory addresses"),
    ("expose_provenance", Rule::Address, "turns an address into a number"),
    ("type_id", Rule::Environment, "is a `TypeId`, which differs between builds"),
    ("hash_one", Rule::HashCollections, "hashes with a hasher that may be seeded at random"),
    ("build_hasher", Rule::HashCollections, "builds a hasher that may be seeded at random"),
    ("lock", Rule::GlobalState, "locks state shared between calls or threads"),
    ("try_lock", Rule::GlobalState, "locks state shared between calls or threads"),
    ("get_or_init", Rule::GlobalState, "initialises state once per process"),
    ("get_or_try_init", Rule::GlobalState, "initialises state once per process"),
    ("with_borrow", Rule::GlobalState, "reads thread-local state"),
    ("with_borrow_mut", Rule::GlobalState, "changes thread-local state"),
    ("compare_exchange", Rule::GlobalState, "changes an atomic, which is shared state"),
    ("compare_exchange_weak", Rule::GlobalState, "changes an atomic, which is shared state"),
    ("fetch_update", Rule::GlobalState, "changes an atomic, which is shared state"),
];

/// Methods rejected on a `SCREAMING_CASE` receiver: a static (a constant cannot change),
/// so a cell, lock or thread-local key.
#[rustfmt::skip]
const STATIC_METHODS: &[&str] = &[
    "with",
    "set",
    "take",
    "replace",
    "borrow",
    "borrow_mut",
    "load",
    "store",
    "swap",
    "read",
    "write",
    "get_mut",
    "update",
];

/// The verdict on method `name`; `on_static` when the receiver is a `SCREAMING_CASE` path.
pub(crate) fn method(name: &str, on_static: bool) -> Option<Verdict> {
    if let Some(&(_, rule, why)) = METHODS.iter().find(|(n, _, _)| *n == name) {
        return Some((rule, why));
    }
    if name.starts_with("fetch_") {
        return Some((
            Rule::GlobalState,
            "changes an atomic, which is shared state",
        ));
    }
    (on_static && STATIC_METHODS.contains(&name))
        .then_some((Rule::GlobalState, "uses a static, which is global state"))
}

/// Whether `name` is `SCREAMING_CASE` (a constant or a static).
pub(crate) fn is_screaming(name: &str) -> bool {
    name.chars().any(|c| c.is_ascii_uppercase())
        && name
            .chars()
            .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '_')
}
