use super::macros::has_pointer_format;
use super::*;

/// `rule shown-path` of every finding in `node`, in source order.
fn found(node: &impl Scan) -> Vec<String> {
    found_allowing(node, &[])
}

fn found_allowing(node: &impl Scan, attrs: &[syn::Attribute]) -> Vec<String> {
    let (allowed, errors) = allowed(attrs);
    assert!(
        errors.is_empty(),
        "{:?}",
        errors.iter().map(|e| e.to_string()).collect::<Vec<_>>()
    );
    scan_item(node, &allowed)
        .into_iter()
        .map(|f| format!("{} {}", f.rule.name(), f.path))
        .collect()
}

/// The paths the module-form `scan` rejects in `handler`, with `module` as the module's items.
fn rejected(module: syn::File, handler: syn::ItemFn) -> Vec<String> {
    scan(&handler, &imports(&module.items))
        .into_iter()
        .map(|f| f.path)
        .collect()
}

#[test]
fn fully_qualified_paths_are_rejected() {
    let found = rejected(
        syn::parse_quote!(),
        syn::parse_quote! {
            fn h(event: &Event<E>) {
                let _ = chrono::Utc::now();
                let _ = chrono::offset::Local::now();
                let _ = std::time::SystemTime::now();
                let _ = ::std::env::var("X");
                let _ = core::time::Instant::now();
                let _ = std::fs::read("x");
                let _ = std::net::TcpStream::connect("x");
                let _ = std::process::Command::new("ls");
                let _ = rand::random::<u8>();
                let _ = uuid::Uuid::new_v4();
                let _ = Uuid::now_v7();
                let _ = tokio::fs::read("x");
                let _ = reqwest::get("x");
            }
        },
    );
    assert_eq!(
        found,
        [
            "chrono::Utc::now",
            "chrono::offset::Local::now",
            "std::time::SystemTime::now",
            "std::env::var",
            "core::time::Instant::now",
            "std::fs::read",
            "std::net::TcpStream::connect",
            "std::process::Command::new",
            "rand::random",
            "uuid::Uuid::new_v4",
            "Uuid::now_v7",
            "tokio::fs::read",
            "reqwest::get",
        ]
    );
}

#[test]
fn imported_paths_are_resolved() {
    let found = rejected(
        syn::parse_quote! {
            use chrono::Utc;
            use std::env;
            use std::fs::read_to_string;
            use rand::{thread_rng, Rng as _};
            use chrono::offset as tz;
            use chrono::Utc as Clock;
        },
        syn::parse_quote! {
            fn h(event: &Event<E>) {
                use std::process::exit as quit;
                let _ = Utc::now();
                let _ = env::var("X");
                let _ = read_to_string("x");
                let _ = thread_rng();
                let _ = random();
                let _ = tz::Local::now();
                let _ = Clock::today();
                quit(1);
            }
        },
    );
    assert_eq!(
        found,
        [
            "Utc::now",
            "env::var",
            "read_to_string",
            "thread_rng",
            "random",
            "tz::Local::now",
            "Clock::today",
            "quit"
        ]
    );
}

#[test]
fn clocks_are_rejected_whatever_the_path_or_form() {
    let block: syn::Block = syn::parse_quote! {{
        let a = Clock::now();
        let b = <Utc as TimeZone>::now();
        let c = <Utc>::today();
        let d = UNIX_EPOCH.elapsed();
        let e = started.elapsed();
        let f = later.duration_since(earlier);
        let g: fn() -> DateTime<Utc> = Utc::now;
        let h = now();
        let i = time::OffsetDateTime::now_utc();
        let j = Local.timestamp_opt(0, 0);
        let k: DateTime<Local> = x;
        let l = std::time::SystemTime::UNIX_EPOCH;
        let m = clock.now();
        let n = Uuid::now_v7();
        let o = Timestamp::now(ctx);
    }};
    assert_eq!(
        found(&block),
        [
            "clock Clock::now",
            "clock <Utc as TimeZone>::now",
            "clock <Utc>::today",
            "clock UNIX_EPOCH",
            "clock .elapsed()",
            "clock .elapsed()",
            "clock .duration_since()",
            "clock Utc::now",
            "clock now",
            "clock time::OffsetDateTime::now_utc",
            "clock Local",
            "clock Local",
            "clock std::time::SystemTime::UNIX_EPOCH",
            "clock .now()",
            "clock Uuid::now_v7",
            "clock Timestamp::now",
        ]
    );
}

#[test]
fn a_const_holding_a_clock_function_is_rejected() {
    let item: syn::ImplItem = syn::parse_quote! {
        const CLOCK: fn() -> DateTime<Utc> = Utc::now;
    };
    assert_eq!(found(&item), ["clock Utc::now"]);
}

#[test]
fn randomness_and_random_ids_are_rejected() {
    let block: syn::Block = syn::parse_quote! {{
        let a = Uuid::new_v4();
        let b = uuid::Uuid::new_v7(ts);
        let c = rng();
        let d = StdRng::from_entropy();
        let e = OsRng;
        let f = getrandom::fill(&mut buf);
        let g = fastrand::u64(..);
        let h = Ulid::new();
        let i = random::<u8>();
        let j = Context::new_random();
    }};
    assert_eq!(
        found(&block),
        [
            "randomness Uuid::new_v4",
            "randomness uuid::Uuid::new_v7",
            "randomness rng",
            "randomness StdRng::from_entropy",
            "randomness OsRng",
            "randomness getrandom::fill",
            "randomness fastrand::u64",
            "randomness Ulid::new",
            "randomness random",
            "randomness Context::new_random",
        ]
    );
}

#[test]
fn io_environment_and_threads_are_rejected() {
    let block: syn::Block = syn::parse_quote! {{
        let a = io::stdin().read_line(&mut s);
        let b = stdin();
        let c = std::thread::current().id();
        let d = thread::spawn(|| 1);
        let e = process::id();
        let f = File::open("x");
        let g = env!("HOME");
        let h = option_env!("HOME");
        let i = cfg!(debug_assertions);
        println!("{}", 1);
        eprintln!("x");
        let j = dbg!(1);
        let k: ThreadId = t;
        let l = value.type_id();
        let m = TypeId::of::<u8>();
        let n = core::env::args();
    }};
    assert_eq!(
        found(&block),
        [
            "io io::stdin",
            "io stdin",
            "environment std::thread::current",
            "environment thread::spawn",
            "io process::id",
            "io File::open",
            "environment env!",
            "environment option_env!",
            "environment cfg!",
            "io println!",
            "io eprintln!",
            "io dbg!",
            "environment ThreadId",
            "environment .type_id()",
            "environment TypeId::of",
            "environment core::env::args",
        ]
    );
}

#[test]
fn hash_collections_are_rejected_in_types_paths_and_turbofish() {
    let block: syn::Block = syn::parse_quote! {{
        use std::collections::HashMap as Map;
        let a: HashMap<i64, i64> = Default::default();
        let b = HashSet::<u8>::new();
        let c = std::collections::HashMap::<u8, u8>::with_capacity(2);
        let d = Vec::<HashSet<u8>>::new();
        let e = Map::new();
        let f = RandomState::new().hash_one(1);
        let g = DefaultHasher::new();
        let h: FxHashMap<u8, u8> = x;
        let i = std::collections::hash_map::Entry::Vacant;
        let j = items.into_iter().collect::<HashSet<_>>();
    }};
    assert_eq!(
        found(&block),
        [
            "hash_collections HashMap",
            "hash_collections HashSet::new",
            "hash_collections std::collections::HashMap::with_capacity",
            "hash_collections HashSet",
            "hash_collections Map::new",
            "hash_collections RandomState::new",
            "hash_collections .hash_one()",
            "hash_collections DefaultHasher::new",
            "hash_collections FxHashMap",
            "hash_collections std::collections::hash_map::Entry::Vacant",
            "hash_collections HashSet",
        ]
    );
}

#[test]
fn global_state_is_rejected() {
    let block: syn::Block = syn::parse_quote! {{
        static COUNTER: u64 = 0;
        static mut SEEN: u64 = 0;
        thread_local! { static CELL: Cell<u64> = Cell::new(0); }
        let a = NEXT.fetch_add(1, Ordering::Relaxed);
        let b = CELL.with(|c| c.get());
        let c = CACHE.lock().unwrap();
        let d = ONCE.get_or_init(|| 1);
        let e = LAST.load(SeqCst);
        let f = std::sync::Mutex::new(0);
        let g = AtomicU64::new(0);
        const FRESH: Cell<u64> = Cell::new(0);
        let h = LazyLock::new(|| 1);
    }};
    assert_eq!(
        found(&block),
        [
            "global_state static COUNTER",
            "global_state static mut SEEN",
            "global_state thread_local!",
            "global_state static CELL",
            "global_state .fetch_add()",
            "global_state Ordering::Relaxed",
            "global_state .with()",
            "global_state .lock()",
            "global_state .get_or_init()",
            "global_state .load()",
            "global_state SeqCst",
            "global_state std::sync::Mutex::new",
            "global_state AtomicU64::new",
            "global_state const FRESH: Cell<u64>",
            "global_state LazyLock::new",
        ]
    );
}

#[test]
fn addresses_are_rejected() {
    let block: syn::Block = syn::parse_quote! {{
        let a = &x as *const u8 as usize;
        let b = std::ptr::addr_of!(x);
        let c = format!("{:p}", &x);
        let d = format!("{x:#p}");
        let e = Box::into_raw(b) as usize;
        let f = v.as_ptr() as usize;
        let g = Self::helper as usize;
        let h = (helper as fn()) as usize;
        let i = std::alloc::alloc(layout);
        let j = &raw const x;
        let k = std::fmt::Pointer::fmt(&x, f);
    }};
    assert_eq!(
        found(&block),
        [
            "address as *const u8",
            "address std::ptr::addr_of!",
            "address {:p}",
            "address {:p}",
            "address Box::into_raw",
            "address .as_ptr()",
            "address Self::helper as usize",
            "address (helper as fn()) as usize",
            "address std::alloc::alloc",
            "address &raw const",
            "address std::fmt::Pointer::fmt",
        ]
    );
}

#[test]
fn unsafe_code_and_foreign_functions_are_rejected() {
    let block: syn::Block = syn::parse_quote! {{
        extern "C" { fn getpid() -> i32; }
        let a = unsafe { getpid() };
        let b = std::mem::transmute::<u8, i8>(1);
        unsafe fn raw() {}
        #[no_mangle]
        fn exported() {}
    }};
    assert_eq!(
        found(&block),
        [
            "unsafe extern \"C\"",
            "unsafe unsafe",
            "unsafe std::mem::transmute",
            "unsafe unsafe fn raw",
            "unsafe #[no_mangle]",
        ]
    );
}

#[test]
fn unknown_macros_and_attributes_are_rejected_and_their_arguments_scanned() {
    let block: syn::Block = syn::parse_quote! {{
        macro_rules! stamp { () => { Utc::now() } }
        let a = stamp!();
        let b = my_crate::format!("{}", 1);
        let c = tracing::info!(at = ?Utc::now(), "x");
        let d = include!("other.rs");
        #[derive(Debug, Clone, Evil)]
        struct Local2;
        #[my_attr]
        fn helper() {}
        #[cfg(debug_assertions)]
        let e = 1;
        let f = vec![weird!(x)];
    }};
    assert_eq!(
        found(&block),
        [
            "macro stamp!",
            "macro my_crate::format!",
            "macro tracing::info!",
            "clock Utc::now",
            "macro include!",
            "macro derive(Evil)",
            "macro #[my_attr]",
            "environment #[cfg(debug_assertions)]",
            "macro weird!",
        ]
    );
}

#[test]
fn nested_items_closures_and_impls_are_scanned() {
    let item: syn::ImplItemFn = syn::parse_quote! {
        fn opened(&self, event: &Event<Opened>, rows: &mut Rows<'_, Row>) {
            fn inner() -> i64 { Utc::now().timestamp() }
            struct Helper;
            impl Helper { fn stamp(&self) -> u128 { Instant::now().elapsed().as_nanos() } }
            let f = || rand::random::<u8>();
            let g = |m: &HashMap<u8, u8>| m.len();
            mod deep { pub fn f() { let _ = std::env::var("X"); } }
        }
    };
    assert_eq!(
        found(&item),
        [
            "clock Utc::now",
            "clock Instant::now",
            "clock .elapsed()",
            "randomness rand::random",
            "hash_collections HashMap",
            "environment std::env::var",
        ]
    );
}

#[test]
fn the_items_signature_and_attributes_are_scanned() {
    let item: syn::ImplItemFn = syn::parse_quote! {
        #[inline]
        #[read_model(allow(hash_collections))]
        #[tracing::instrument]
        unsafe fn helper(seen: &HashSet<u8>) -> usize { seen.len() }
    };
    let (allowed, errors) = allowed(&item.attrs);
    assert!(errors.is_empty());
    let found: Vec<String> = scan_item(&item, &allowed)
        .into_iter()
        .map(|f| format!("{} {}", f.rule.name(), f.path))
        .collect();
    assert_eq!(
        found,
        ["macro #[tracing::instrument]", "unsafe unsafe fn helper"]
    );
}

#[test]
fn pure_code_is_accepted() {
    let item: syn::ImplItemFn = syn::parse_quote! {
        #[doc = "A handler."]
        #[allow(clippy::needless_pass_by_value)]
        fn h(&self, event: &Event<E>, rows: &mut Rows<'_, Row>) {
            use std::collections::{BTreeMap, BTreeSet};
            use std::sync::Arc;
            let random = event.id;
            let now = event.occurred_at;
            let env = random + 1;
            let mut seen: BTreeMap<i64, i64> = BTreeMap::new();
            seen.insert(env, random);
            let set = BTreeSet::<u8>::new();
            let at: DateTime<Utc> = event.occurred_at;
            let id = Uuid::new_v5(&Uuid::NAMESPACE_OID, &event.id.to_be_bytes());
            let shared = Arc::new(1);
            let same = std::ptr::eq(&seen, &seen);
            let name = std::any::type_name::<Row>();
            let label = format!("{env:>8} {:?} {{:p}}", event.now);
            let scope = Scope::Local;
            let first = NAMES.get(0);
            let order = a.cmp(&b) == std::cmp::Ordering::Less;
            let text = include_str!("names.txt");
            let ok = matches!(event.kind, Kind::A | Kind::B if env > 0);
            assert_eq!(env, random + 1, "{}", line!());
            let zero = vec![0u8; 4];
            let secs = at.timestamp() as usize;
            let days = (at - event.occurred_at).num_days();
            let f: fn(i64) -> i64 = i64::abs;
            const LIMIT: u32 = 10;
            let rand = 4;
            let hash_map = BTreeMap::<u8, u8>::new();
            let tokio = rand + hash_map.len();
            let ip: std::net::IpAddr = event.ip;
            let mut out = std::io::Cursor::new(Vec::new());
            #[derive(Debug, serde::Serialize)]
            struct Shown { #[serde(rename = "n")] n: u8 }
            rows.put(Row { at, id, env, n: event.random(), now, label });
        }
    };
    assert!(found(&item).is_empty(), "{:?}", found(&item));
}

#[test]
fn an_opt_out_drops_its_rule_only_and_must_allow_something() {
    let attrs: Vec<syn::Attribute> =
        vec![syn::parse_quote!(#[read_model(allow(hash_collections, macro))])];
    let block: syn::Block = syn::parse_quote! {{
        let m: HashMap<u8, u8> = HashMap::new();
        let t = Utc::now();
    }};
    let findings = scan_item(&block, &allowed(&attrs).0);
    let shown: Vec<String> = findings
        .iter()
        .map(|f| format!("{} {}", f.rule.name(), f.path))
        .collect();
    assert_eq!(shown, ["clock Utc::now", "macro allow(macro)"]);
    assert_eq!(
        findings[1].message("Accounts::opened"),
        "`allow(macro)` on `Accounts::opened` allows nothing: it breaks no `macro` rule; remove it so the opt-out keeps meaning something"
    );
    assert_eq!(found_allowing(&block, &attrs[..0]).len(), 3);
}

#[test]
fn opt_outs_name_known_rules_once() {
    let attrs: Vec<syn::Attribute> = vec![
        syn::parse_quote!(#[read_model(allow(unsafe, clocks))]),
        syn::parse_quote!(#[read_model(allow(unsafe), name = "x")]),
        syn::parse_quote!(#[doc = "ignored"]),
    ];
    let (allowed, errors) = allowed(&attrs);
    assert!(allowed.contains(Rule::Unsafe));
    assert!(!allowed.contains(Rule::Clock));
    let errors: Vec<String> = errors.iter().map(ToString::to_string).collect();
    assert_eq!(
        errors,
        [
            "unknown rule; expected one of: clock, randomness, io, environment, hash_collections, global_state, address, unsafe, macro",
            "`unsafe` is already allowed",
            "unknown key; expected `#[read_model(allow(rule, ...))]`",
        ]
    );
}

#[test]
fn messages_name_the_item_the_use_and_the_fix() {
    let block: syn::Block = syn::parse_quote! {{
        let t = Utc::now();
        let m = HashMap::new();
    }};
    let messages: Vec<String> = scan_item(&block, &Allowed::none())
        .iter()
        .map(|f| f.message("Accounts::opened"))
        .collect();
    assert_eq!(
        messages,
        [
            "`Accounts::opened` uses `Utc::now`, which reads the wall clock: a replay must not depend on when or where it runs; use the event's `occurred_at` (`event.occurred_at`) as the time",
            "`Accounts::opened` uses `HashMap::new`, which iterates in an order that varies between runs: a replay must not depend on when or where it runs; use `BTreeMap`/`BTreeSet`, which iterate in key order; if this use is deterministic, mark `Accounts::opened` with `#[read_model(allow(hash_collections))]`",
        ]
    );
}

#[test]
fn glob_imports_of_rejected_modules_are_rejected() {
    let block: syn::Block = syn::parse_quote! {{
        use std::env::*;
        use std::sync::atomic::*;
        use std::collections::*;
        let _ = var("X");
    }};
    assert_eq!(
        found(&block),
        [
            "environment std::env::*",
            "global_state std::sync::atomic::*"
        ]
    );
}

#[test]
fn pointer_formats_are_recognised() {
    for text in ["{:p}", "{x:p}", "a {0:#p} b", "{:>16p}"] {
        assert!(has_pointer_format(text), "{text}");
    }
    for text in ["{}", "{:?}", "{{:p}}", "{p}", "{:x}", "{:p<4}", "no braces"] {
        assert!(!has_pointer_format(text), "{text}");
    }
}

#[test]
fn arguments_that_are_not_rust_are_scanned_token_by_token() {
    let block: syn::Block = syn::parse_quote! {{
        my_dsl! { at => Utc::now(), took => started.elapsed(), name: &'static str, inner: env!("X") }
    }};
    assert_eq!(
        found(&block),
        [
            "macro my_dsl!",
            "clock Utc::now",
            "clock .elapsed()",
            "environment env!",
        ]
    );
}
