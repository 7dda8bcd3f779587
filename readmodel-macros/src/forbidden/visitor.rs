//! The walk over the syntax tree: every path, method call, cast, macro, attribute and
//! nested item of the scanned code, each judged by [`super::rules`].

use proc_macro2::TokenStream;
use quote::ToTokens;
use syn::visit::{self, Visit};

use super::imports::{self, Imports};
use super::macro_names;
use super::rules::{self, Rule, Verdict};
use super::Finding;

/// Walks scanned code and collects what breaks a rule.
pub(crate) struct Visitor {
    imports: Imports,
    pub(super) findings: Vec<Finding>,
}

impl Visitor {
    /// A visitor that resolves paths through `imports` (and the `use` items it walks).
    pub(crate) fn new(imports: Imports) -> Self {
        Self {
            imports,
            findings: Vec::new(),
        }
    }

    pub(super) fn push(&mut self, tokens: impl ToTokens, written: String, verdict: Verdict) {
        let (rule, why) = verdict;
        self.findings.push(Finding {
            tokens: tokens.into_token_stream(),
            path: written,
            rule,
            why,
            instead: rule.instead(),
            unneeded_allow: false,
        });
    }

    /// `path` through the imports, in the standard library's spelling.
    fn resolve(&self, written: &[String]) -> (Vec<String>, bool) {
        let Some(first) = written.first() else {
            return (Vec::new(), false);
        };
        let imported = self.imports.get(first).filter(|full| !full.is_empty());
        let mut resolved = imported.cloned().unwrap_or_else(|| vec![first.clone()]);
        resolved.extend(written.iter().skip(1).cloned());
        (rules::normalize(resolved), imported.is_some())
    }

    /// Judges one path: its last two segments, its prefix, its last segment as a function
    /// (when qualified or called) and each segment as a type or module name.
    pub(super) fn check_path(
        &mut self,
        qself: Option<&syn::QSelf>,
        path: &syn::Path,
        called: bool,
        tokens: TokenStream,
    ) {
        let written: Vec<String> = path.segments.iter().map(|s| s.ident.to_string()).collect();
        let (resolved, imported) = self.resolve(&written);
        let Some(last) = resolved.last() else { return };
        let qualified = written.len() > 1 || qself.is_some() || imported;
        let verdict = rules::pair(&resolved)
            .or_else(|| rules::prefix(&resolved, false))
            .or_else(|| (qualified || called).then(|| rules::callee(last)).flatten())
            .or_else(|| {
                resolved.iter().enumerate().find_map(|(i, segment)| {
                    let previous = i.checked_sub(1).map(|p| resolved[p].as_str());
                    rules::name(segment, previous, i + 1 == resolved.len())
                })
            });
        if let Some(verdict) = verdict {
            let shown = match qself {
                None => written.join("::"),
                Some(qself) if qself.position == 0 => {
                    format!("<{}>::{}", compact(&qself.ty), written.join("::"))
                }
                Some(qself) => {
                    let (as_trait, rest) = written.split_at(qself.position.min(written.len()));
                    let (ty, as_trait) = (compact(&qself.ty), as_trait.join("::"));
                    format!("<{ty} as {as_trait}>::{}", rest.join("::"))
                }
            };
            self.push(tokens, shown, verdict);
        }
    }

    fn check_attribute(&mut self, attr: &syn::Attribute) {
        let path = attr.path();
        let Some(first) = path.segments.first().map(|s| s.ident.to_string()) else {
            return;
        };
        match first.as_str() {
            "derive" => {
                let parser =
                    syn::punctuated::Punctuated::<syn::Path, syn::Token![,]>::parse_terminated;
                for derive in attr.parse_args_with(parser).into_iter().flatten() {
                    let name = derive.segments.last().map(|s| s.ident.to_string());
                    if !name.as_deref().is_some_and(macro_names::is_pure_derive) {
                        let shown = format!("derive({})", compact(&derive));
                        let why = "is a derive macro, whose generated code the scan does not see";
                        self.push(&derive, shown, (Rule::Macro, why));
                    }
                }
            }
            "cfg" | "cfg_attr" => {
                let only_test = matches!(&attr.meta, syn::Meta::List(list) if list.tokens.to_string() == "test");
                if !only_test {
                    let why = "compiles differently per build configuration (only `cfg(test)` is fine: it keeps code out of production builds)";
                    self.push(attr, compact(attr), (Rule::Environment, why));
                }
            }
            "no_mangle" | "export_name" | "link" | "link_name" | "link_section" | "unsafe" => {
                let why = "links symbols by name, outside what the scan sees";
                self.push(attr, compact(attr), (Rule::Unsafe, why));
            }
            first if macro_names::is_inert_attribute(first) => {}
            _ => {
                let why = "is an attribute macro, whose expansion the scan does not see";
                self.push(path, format!("#[{}]", compact(path)), (Rule::Macro, why));
            }
        }
    }

    /// A `const` (free or in an impl) whose type holds a cell.
    fn check_const(&mut self, ident: &syn::Ident, ty: &syn::Type) {
        let mut names = TypeNames(Vec::new());
        names.visit_type(ty);
        if names
            .0
            .iter()
            .any(|n| rules::INTERIOR_MUTABLE.contains(&n.as_str()))
        {
            let why = "holds interior mutability in a constant: every use is a fresh copy, and as a `static` it would be global state";
            let shown = format!("const {ident}: {}", compact(ty));
            self.push(ty, shown, (Rule::GlobalState, why));
        }
    }

    /// Judges a `use` item: a glob of a rejected module hides every name it brings in.
    fn check_use(&mut self, item: &syn::ItemUse) {
        let mut globs = Vec::new();
        imports::globs(&item.tree, &mut Vec::new(), &mut globs);
        for glob in globs {
            let (resolved, _) = self.resolve(&glob);
            let verdict = rules::prefix(&resolved, true).or_else(|| {
                let previous = resolved.len().checked_sub(2).map(|p| resolved[p].as_str());
                resolved
                    .last()
                    .and_then(|last| rules::name(last, previous, false))
            });
            if let Some(verdict) = verdict {
                self.push(&item.tree, format!("{}::*", glob.join("::")), verdict);
            }
        }
    }
}

/// Every identifier in a type's paths.
struct TypeNames(Vec<String>);

impl<'ast> Visit<'ast> for TypeNames {
    fn visit_path_segment(&mut self, node: &'ast syn::PathSegment) {
        self.0.push(node.ident.to_string());
        visit::visit_path_segment(self, node);
    }
}

/// Tokens as a short, readable string (`std::ptr::addr_of`, `as *const u8`).
pub(super) fn compact(tokens: impl ToTokens) -> String {
    let mut text = tokens.to_token_stream().to_string();
    for (from, to) in [
        (" :: ", "::"),
        (":: ", "::"),
        (" ::", "::"),
        ("< ", "<"),
        (" <", "<"),
        (" >", ">"),
        (" ,", ","),
        ("& ", "&"),
        ("* const", "*const"),
        ("* mut", "*mut"),
        ("# [", "#["),
        (" (", "("),
        ("( ", "("),
        (" )", ")"),
    ] {
        text = text.replace(from, to);
    }
    text
}

/// Whether `expr` (a cast's operand) is a function or a function pointer: casting one to
/// an integer yields its address.
fn is_function(expr: &syn::Expr) -> bool {
    match expr {
        syn::Expr::Paren(e) => is_function(&e.expr),
        syn::Expr::Group(e) => is_function(&e.expr),
        syn::Expr::Cast(c) => matches!(&*c.ty, syn::Type::BareFn(_)),
        syn::Expr::Path(p) => {
            let last = p.path.segments.last().map(|s| s.ident.to_string());
            (p.qself.is_some() || p.path.segments.len() > 1)
                && last.is_some_and(|l| l.starts_with(|c: char| c.is_ascii_lowercase()))
        }
        _ => false,
    }
}

fn is_integer(ty: &syn::Type) -> bool {
    const INTEGERS: &[&str] = &[
        "usize", "isize", "u8", "u16", "u32", "u64", "u128", "i8", "i16", "i32", "i64", "i128",
    ];
    matches!(ty, syn::Type::Path(p) if p.qself.is_none()
        && p.path.get_ident().is_some_and(|i| INTEGERS.contains(&i.to_string().as_str())))
}

impl<'ast> Visit<'ast> for Visitor {
    fn visit_block(&mut self, node: &'ast syn::Block) {
        // Items are visible in the whole block, before and after the `use`.
        let saved = self.imports.clone();
        for stmt in &node.stmts {
            if let syn::Stmt::Item(syn::Item::Use(item)) = stmt {
                imports::collect(&item.tree, &mut Vec::new(), &mut self.imports);
            }
        }
        visit::visit_block(self, node);
        self.imports = saved;
    }

    fn visit_item_use(&mut self, node: &'ast syn::ItemUse) {
        // Named imports are resolved, not rejected: their use in the code is what counts.
        self.check_use(node);
    }

    fn visit_attribute(&mut self, node: &'ast syn::Attribute) {
        self.check_attribute(node);
    }

    fn visit_expr_call(&mut self, node: &'ast syn::ExprCall) {
        let syn::Expr::Path(func) = &*node.func else {
            return visit::visit_expr_call(self, node);
        };
        for attr in &node.attrs {
            self.visit_attribute(attr);
        }
        self.check_path(
            func.qself.as_ref(),
            &func.path,
            true,
            func.to_token_stream(),
        );
        if let Some(qself) = &func.qself {
            self.visit_type(&qself.ty);
        }
        visit::visit_path(self, &func.path);
        for arg in &node.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_path(&mut self, node: &'ast syn::ExprPath) {
        for attr in &node.attrs {
            self.visit_attribute(attr);
        }
        self.check_path(
            node.qself.as_ref(),
            &node.path,
            false,
            node.to_token_stream(),
        );
        if let Some(qself) = &node.qself {
            self.visit_type(&qself.ty);
        }
        visit::visit_path(self, &node.path);
    }

    fn visit_type_path(&mut self, node: &'ast syn::TypePath) {
        self.check_path(
            node.qself.as_ref(),
            &node.path,
            false,
            node.to_token_stream(),
        );
        if let Some(qself) = &node.qself {
            self.visit_type(&qself.ty);
        }
        visit::visit_path(self, &node.path);
    }

    fn visit_path(&mut self, node: &'ast syn::Path) {
        // Paths in patterns, struct literals and trait bounds.
        self.check_path(None, node, false, node.to_token_stream());
        visit::visit_path(self, node);
    }

    fn visit_expr_method_call(&mut self, node: &'ast syn::ExprMethodCall) {
        let on_static = matches!(&*node.receiver, syn::Expr::Path(p) if p.qself.is_none()
            && p.path.segments.last().is_some_and(|s| rules::is_screaming(&s.ident.to_string())));
        for attr in &node.attrs {
            self.visit_attribute(attr);
        }
        // The receiver first, so findings come in source order.
        self.visit_expr(&node.receiver);
        if let Some(verdict) = rules::method(&node.method.to_string(), on_static) {
            self.push(&node.method, format!(".{}()", node.method), verdict);
        }
        if let Some(turbofish) = &node.turbofish {
            self.visit_angle_bracketed_generic_arguments(turbofish);
        }
        for arg in &node.args {
            self.visit_expr(arg);
        }
    }

    fn visit_expr_cast(&mut self, node: &'ast syn::ExprCast) {
        let as_token = &node.as_token;
        let target = &node.ty;
        let cast = quote::quote!(#as_token #target);
        if matches!(&*node.ty, syn::Type::Ptr(_)) {
            let why = "makes a raw pointer, whose address varies between runs";
            let shown = format!("as {}", compact(&node.ty));
            self.push(cast, shown, (Rule::Address, why));
        } else if is_integer(&node.ty) && is_function(&node.expr) {
            let why = "turns a function's address, which varies between runs, into a number";
            self.push(node, compact(node), (Rule::Address, why));
        }
        visit::visit_expr_cast(self, node);
    }

    fn visit_expr_raw_addr(&mut self, node: &'ast syn::ExprRawAddr) {
        let why = "takes a raw memory address";
        let (and, raw, mutability) = (&node.and_token, &node.raw, &node.mutability);
        let shown = format!("&raw {}", compact(mutability));
        self.push(
            quote::quote!(#and #raw #mutability),
            shown,
            (Rule::Address, why),
        );
        visit::visit_expr_raw_addr(self, node);
    }

    fn visit_expr_unsafe(&mut self, node: &'ast syn::ExprUnsafe) {
        let why = "is an `unsafe` block";
        self.push(node.unsafe_token, "unsafe".to_owned(), (Rule::Unsafe, why));
        visit::visit_expr_unsafe(self, node);
    }

    fn visit_signature(&mut self, node: &'ast syn::Signature) {
        if let Some(unsafety) = &node.unsafety {
            let shown = format!("unsafe fn {}", node.ident);
            self.push(unsafety, shown, (Rule::Unsafe, "is an `unsafe fn`"));
        }
        visit::visit_signature(self, node);
    }

    fn visit_item_foreign_mod(&mut self, node: &'ast syn::ItemForeignMod) {
        let why = "declares foreign functions";
        self.push(&node.abi, compact(&node.abi), (Rule::Unsafe, why));
    }

    fn visit_item_impl(&mut self, node: &'ast syn::ItemImpl) {
        if let Some(unsafety) = &node.unsafety {
            let why = "is an `unsafe impl`";
            self.push(unsafety, "unsafe impl".to_owned(), (Rule::Unsafe, why));
        }
        visit::visit_item_impl(self, node);
    }

    fn visit_item_trait(&mut self, node: &'ast syn::ItemTrait) {
        if let Some(unsafety) = &node.unsafety {
            let why = "is an `unsafe trait`";
            self.push(unsafety, "unsafe trait".to_owned(), (Rule::Unsafe, why));
        }
        visit::visit_item_trait(self, node);
    }

    fn visit_item_static(&mut self, node: &'ast syn::ItemStatic) {
        let mutable = matches!(node.mutability, syn::StaticMutability::Mut(_));
        let shown = format!("static {}{}", if mutable { "mut " } else { "" }, node.ident);
        let (token, mutability, ident) = (&node.static_token, &node.mutability, &node.ident);
        let tokens = quote::quote!(#token #mutability #ident);
        let why = "is global state, shared by every call";
        self.push(tokens, shown, (Rule::GlobalState, why));
        visit::visit_item_static(self, node);
    }

    fn visit_item_const(&mut self, node: &'ast syn::ItemConst) {
        self.check_const(&node.ident, &node.ty);
        visit::visit_item_const(self, node);
    }

    fn visit_impl_item_const(&mut self, node: &'ast syn::ImplItemConst) {
        self.check_const(&node.ident, &node.ty);
        visit::visit_impl_item_const(self, node);
    }

    fn visit_item_macro(&mut self, node: &'ast syn::ItemMacro) {
        for attr in &node.attrs {
            self.visit_attribute(attr);
        }
        // A `macro_rules!` definition: each use of it is an unknown macro, rejected there.
        if node.ident.is_none() {
            self.visit_macro(&node.mac);
        }
    }

    fn visit_macro(&mut self, node: &'ast syn::Macro) {
        self.check_macro(node);
    }
}
