#!/usr/bin/env python3
"""Extracts gitleaks' own rule test vectors (the tps and fps every rule in
cmd/generate/config/rules/*.go validates against) without Go.

gitleaks builds many of its true positives at generation time: random
strings drawn from a regex (secrets.NewSecret), wrapped in 27 assignment
shapes (utils.GenerateSampleSecrets). This file interprets the small part
of Go those rule files use (literals, +, composite literals, append,
fmt.Sprintf, for-range, if/continue, local functions) and draws the random
strings itself, from a fixed seed, so every run writes the same vectors.

Usage: gitleaks_vectors.py RULES_DIR MAIN_GO OUT_DIR
Only the rules MAIN_GO (cmd/generate/config/main.go) registers count: the
rule files also hold functions gitleaks no longer ships. Writes OUT_DIR/<rule-id>/{tp,fp}-NNNN/<file> (the file is named as the
rule's path-based examples name it, else sample.txt) and prints a summary
line per rule that could not be interpreted (exit 1 if any).
"""
import base64
import os
import random
import re
import sys

try:
    from re import _parser as sre_parse  # Python >= 3.11
    from re import _constants as sre_c
except ImportError:  # pragma: no cover
    import sre_parse
    import sre_constants as sre_c

RNG = random.Random(20261130)


# ---------------------------------------------------------------- regex -> sample

def go_to_py_regex(rx):
    rx = rx.replace(r"\z", r"\Z")
    posix = {"alnum": "a-zA-Z0-9", "alpha": "a-zA-Z", "digit": "0-9", "upper": "A-Z",
             "lower": "a-z", "space": r" \t\r\n\f\v", "xdigit": "0-9A-Fa-f",
             "punct": r"!-/:-@\[-`{-~", "print": " -~", "word": r"\w"}
    for k, v in posix.items():
        rx = rx.replace("[:%s:]" % k, v)
    return rx


def sample_regex(rx, limit=4):
    """A random string the (Go) regex matches, drawn as reggen would."""
    parsed = sre_parse.parse(go_to_py_regex(rx))
    out = []
    gen_seq(parsed, out, limit, {})
    return "".join(out)


PRINTABLE = [chr(c) for c in range(0x21, 0x7F)]
WORD = [chr(c) for c in range(0x30, 0x3A)] + [chr(c) for c in range(0x41, 0x5B)] + \
    [chr(c) for c in range(0x61, 0x7B)] + ["_"]


def category_chars(cat):
    if cat == sre_c.CATEGORY_DIGIT:
        return [chr(c) for c in range(0x30, 0x3A)]
    if cat == sre_c.CATEGORY_WORD:
        return WORD
    if cat == sre_c.CATEGORY_SPACE:
        return [" "]
    if cat == sre_c.CATEGORY_NOT_DIGIT:
        return [c for c in PRINTABLE if not c.isdigit()]
    if cat == sre_c.CATEGORY_NOT_WORD:
        return [c for c in PRINTABLE if c not in WORD]
    if cat == sre_c.CATEGORY_NOT_SPACE:
        return PRINTABLE
    raise ValueError("category %r" % cat)


def class_chars(items):
    chars, negate = set(), False
    for op, av in items:
        if op == sre_c.NEGATE:
            negate = True
        elif op == sre_c.LITERAL:
            chars.add(chr(av))
        elif op == sre_c.RANGE:
            lo, hi = av
            for c in range(lo, min(hi, lo + 4096) + 1):
                chars.add(chr(c))
        elif op == sre_c.CATEGORY:
            chars.update(category_chars(av))
        else:
            raise ValueError("class item %r" % op)
    if negate:
        return [c for c in PRINTABLE if c not in chars]
    return sorted(chars)


def gen_seq(seq, out, limit, groups):
    for op, av in seq:
        gen_node(op, av, out, limit, groups)


def gen_node(op, av, out, limit, groups):
    if op == sre_c.LITERAL:
        out.append(chr(av))
    elif op == sre_c.NOT_LITERAL:
        out.append(RNG.choice([c for c in PRINTABLE if ord(c) != av]))
    elif op == sre_c.ANY:
        out.append(RNG.choice(PRINTABLE))
    elif op == sre_c.IN:
        out.append(RNG.choice(class_chars(av)))
    elif op == sre_c.BRANCH:
        gen_seq(RNG.choice(av[1]), out, limit, groups)
    elif op == sre_c.SUBPATTERN:
        gid, _add, _del, sub = av
        start = len(out)
        gen_seq(sub, out, limit, groups)
        if gid:
            groups[gid] = "".join(out[start:])
    elif op in (sre_c.MAX_REPEAT, sre_c.MIN_REPEAT, getattr(sre_c, "POSSESSIVE_REPEAT", None)):
        lo, hi, sub = av
        if hi == sre_c.MAXREPEAT:
            hi = lo + limit
        for _ in range(RNG.randint(lo, hi)):
            gen_seq(sub, out, limit, groups)
    elif op == sre_c.AT:
        pass
    elif op == sre_c.CATEGORY:
        out.append(RNG.choice(category_chars(av)))
    elif op == sre_c.GROUPREF:
        out.append(groups.get(av, ""))
    elif op == sre_c.ATOMIC_GROUP if hasattr(sre_c, "ATOMIC_GROUP") else False:
        gen_seq(av, out, limit, groups)
    else:
        raise ValueError("regex node %r" % op)


# ---------------------------------------------------------------- Go tokens

class Tok:
    __slots__ = ("kind", "val", "line")

    def __init__(self, kind, val, line):
        self.kind, self.val, self.line = kind, val, line

    def __repr__(self):
        return "%s:%r@%d" % (self.kind, self.val, self.line)


PUNCT = ["...", ":=", "&&", "||", "==", "!=", "<=", ">=", "++", "--", "+=",
         "{", "}", "(", ")", "[", "]", ",", ";", ".", ":", "+", "-", "*", "/",
         "=", "!", "<", ">", "&", "%"]
SEMI_AFTER = {"ident", "str", "num", "rune"}
SEMI_AFTER_VALS = {")", "]", "}", "++", "--", "return", "break", "continue"}


def go_unquote(body, line):
    out, i = [], 0
    simple = {"a": "\a", "b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t",
              "v": "\v", "\\": "\\", '"': '"', "'": "'"}
    raw = body.encode("utf-8")
    buf = bytearray()
    while i < len(raw):
        c = raw[i]
        if c != 0x5C:
            buf.append(c)
            i += 1
            continue
        e = chr(raw[i + 1])
        if e in simple:
            buf += simple[e].encode()
            i += 2
        elif e == "x":
            buf.append(int(raw[i + 2:i + 4], 16))
            i += 4
        elif e in "uU":
            n = 4 if e == "u" else 8
            buf += chr(int(raw[i + 2:i + 2 + n], 16)).encode("utf-8")
            i += 2 + n
        elif e in "01234567":
            buf.append(int(raw[i + 1:i + 4], 8))
            i += 4
        else:
            raise SyntaxError("line %d: bad escape \\%s" % (line, e))
    del out
    return buf.decode("utf-8", "surrogateescape")


def tokenize(src):
    toks, i, line, n = [], 0, 1, len(src)

    def semi():
        if toks and (toks[-1].kind in SEMI_AFTER or toks[-1].val in SEMI_AFTER_VALS):
            toks.append(Tok("punct", ";", line))

    while i < n:
        c = src[i]
        if c == "\n":
            semi()
            line += 1
            i += 1
        elif c in " \t\r":
            i += 1
        elif src.startswith("//", i):
            j = src.find("\n", i)
            i = n if j < 0 else j
        elif src.startswith("/*", i):
            j = src.index("*/", i)
            nl = src.count("\n", i, j)
            if nl:
                semi()
            line += nl
            i = j + 2
        elif c == "`":
            j = src.index("`", i + 1)
            toks.append(Tok("str", src[i + 1:j].replace("\r", ""), line))
            line += src.count("\n", i, j)
            i = j + 1
        elif c == '"':
            j = i + 1
            while src[j] != '"':
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("str", go_unquote(src[i + 1:j], line), line))
            i = j + 1
        elif c == "'":
            j = i + 1
            while src[j] != "'":
                j += 2 if src[j] == "\\" else 1
            toks.append(Tok("rune", go_unquote(src[i + 1:j], line), line))
            i = j + 1
        elif c.isalpha() or c == "_":
            j = i
            while j < n and (src[j].isalnum() or src[j] == "_"):
                j += 1
            toks.append(Tok("ident", src[i:j], line))
            i = j
        elif c.isdigit():
            j = i
            while j < n and (src[j].isalnum() or src[j] == "."):
                j += 1
            toks.append(Tok("num", src[i:j], line))
            i = j
        else:
            for p in PUNCT:
                if src.startswith(p, i):
                    toks.append(Tok("punct", p, line))
                    i += len(p)
                    break
            else:
                raise SyntaxError("line %d: unexpected %r" % (line, c))
    semi()
    return toks


# ---------------------------------------------------------------- Go subset parser

class Parser:
    def __init__(self, toks, fname):
        self.t, self.i, self.fname = toks, 0, fname

    def peek(self, k=0):
        return self.t[self.i + k] if self.i + k < len(self.t) else Tok("eof", None, -1)

    def at(self, val):
        return self.peek().val == val and self.peek().kind in ("punct", "ident")

    def next(self):
        tok = self.peek()
        self.i += 1
        return tok

    def expect(self, val):
        tok = self.next()
        if tok.val != val:
            raise SyntaxError("%s:%d: want %r, have %r" % (self.fname, tok.line, val, tok.val))
        return tok

    def skip_semis(self):
        while self.at(";"):
            self.next()

    # top level: collect funcs and vars
    def file(self):
        funcs, vars_ = {}, []
        while self.peek().kind != "eof":
            tok = self.next()
            if tok.val == "func" and self.peek().kind == "ident":
                name = self.next().val
                params = self.params()
                self.skip_type_until("{")
                body = self.block()
                funcs[name] = (params, body)
            elif tok.val == "var":
                vars_.extend(self.var_decl())
            elif tok.val in ("import", "package"):
                if self.at("("):
                    self.skip_balanced()
                else:
                    self.next()
        return funcs, vars_

    def params(self):
        self.expect("(")
        names, depth = [], 0
        expect_name = True
        while True:
            tok = self.next()
            if tok.val == "(":
                depth += 1
            elif tok.val == ")":
                if depth == 0:
                    break
                depth -= 1
            elif tok.val == "," and depth == 0:
                expect_name = True
            elif tok.kind == "ident" and expect_name and depth == 0:
                names.append(tok.val)
                expect_name = False
        return names

    def skip_type_until(self, stop):
        while not self.at(stop):
            self.next()

    def skip_balanced(self):
        open_ = self.next().val
        close = {"(": ")", "{": "}", "[": "]"}[open_]
        depth = 1
        while depth:
            tok = self.next()
            if tok.val == open_:
                depth += 1
            elif tok.val == close:
                depth -= 1

    def var_decl(self):
        if self.at("("):
            self.next()
            out = []
            self.skip_semis()
            while not self.at(")"):
                out.extend(self.var_spec())
                self.skip_semis()
            self.next()
            return out
        return self.var_spec()

    def var_spec(self):
        names = [self.next().val]
        while self.at(","):
            self.next()
            names.append(self.next().val)
        if not self.at("="):
            self.type_expr()
        if self.at("="):
            self.next()
            vals = [self.expr()]
            while self.at(","):
                self.next()
                vals.append(self.expr())
            return [("var", names, vals)]
        return [("var", names, None)]

    def type_expr(self):
        if self.at("*") or self.at("&"):
            self.next()
            return self.type_expr()
        if self.at("["):
            self.next()
            if not self.at("]"):
                self.expr()
            self.expect("]")
            return "[]" + self.type_expr()
        if self.at("map"):
            self.next()
            self.expect("[")
            self.type_expr()
            self.expect("]")
            return "map" + self.type_expr()
        name = self.next().val
        while self.at("."):
            self.next()
            name += "." + self.next().val
        return name

    def block(self):
        self.expect("{")
        stmts = []
        self.skip_semis()
        while not self.at("}"):
            stmts.append(self.stmt())
            self.skip_semis()
        self.expect("}")
        return stmts

    def stmt(self):
        tok = self.peek()
        if tok.val == "return":
            self.next()
            if self.at(";") or self.at("}"):
                return ("return", None)
            return ("return", self.expr())
        if tok.val == "var":
            self.next()
            return ("block", self.var_decl())
        if tok.val == "continue":
            self.next()
            return ("continue",)
        if tok.val == "if":
            self.next()
            init = None
            cond = self.simple_stmt(no_composite=True)
            if self.at(";"):
                self.next()
                init, cond = cond, self.expr(no_composite=True)
            else:
                cond = cond[1]
            body = self.block()
            orelse = None
            if self.at("else"):
                self.next()
                orelse = [self.stmt()] if self.at("if") else self.block()
            return ("if", init, cond, body, orelse)
        if tok.val == "for":
            self.next()
            if self.at("{"):
                return ("forever", self.block())
            lhs = [self.expr(no_composite=True)]
            while self.at(","):
                self.next()
                lhs.append(self.expr(no_composite=True))
            self.expect(":=")
            self.expect("range")
            seq = self.expr(no_composite=True)
            return ("range", lhs, seq, self.block())
        return self.simple_stmt()

    def simple_stmt(self, no_composite=False):
        lhs = [self.expr(no_composite)]
        while self.at(","):
            self.next()
            lhs.append(self.expr(no_composite))
        if self.at(":=") or self.at("=") or self.at("+="):
            op = self.next().val
            rhs = [self.expr(no_composite)]
            while self.at(","):
                self.next()
                rhs.append(self.expr(no_composite))
            return ("assign", op, lhs, rhs)
        return ("expr", lhs[0])

    # expressions
    def expr(self, no_composite=False):
        left = self.unary(no_composite)
        while self.peek().kind == "punct" and self.peek().val in ("+", "==", "!=", "&&", "||", "<", ">", "-", "*"):
            op = self.next().val
            left = ("bin", op, left, self.unary(no_composite))
        return left

    def unary(self, no_composite):
        if self.at("!") or self.at("&") or self.at("-"):
            op = self.next().val
            return ("un", op, self.unary(no_composite))
        if self.at("*"):
            self.next()
            return self.unary(no_composite)
        return self.postfix(no_composite)

    def postfix(self, no_composite):
        tok = self.peek()
        if tok.kind == "str":
            self.next()
            node = ("lit", tok.val)
        elif tok.kind == "num":
            self.next()
            node = ("lit", int(tok.val, 0) if tok.val.isdigit() else float(tok.val))
        elif tok.kind == "rune":
            self.next()
            node = ("lit", tok.val)
        elif tok.val == "(":
            self.next()
            node = self.expr()
            self.expect(")")
        elif tok.val in ("[", "map"):
            typ = self.type_expr()
            node = ("name", typ) if self.at("(") else self.composite(typ)
        elif tok.val == "func":
            self.next()
            params = self.params()
            self.skip_type_until("{")
            node = ("funclit", params, self.block())
        elif tok.kind == "ident":
            self.next()
            node = ("name", tok.val)
        else:
            raise SyntaxError("%s:%d: unexpected %r" % (self.fname, tok.line, tok.val))
        while True:
            if self.at("."):
                self.next()
                node = ("sel", node, self.next().val)
            elif self.at("("):
                self.next()
                args, spread = [], False
                while not self.at(")"):
                    args.append(self.expr())
                    if self.at("..."):
                        self.next()
                        spread = True
                    if self.at(","):
                        self.next()
                    self.skip_semis()
                self.expect(")")
                node = ("call", node, args, spread)
            elif self.at("["):
                self.next()
                idx = self.expr()
                self.expect("]")
                node = ("index", node, idx)
            elif self.at("{") and not no_composite and node[0] in ("name", "sel"):
                node = self.composite(node)
            else:
                return node

    def composite(self, typ):
        self.expect("{")
        elems = []
        self.skip_semis()
        while not self.at("}"):
            if self.at("{"):
                first = self.composite("elem")
            else:
                first = self.expr()
            if self.at(":"):
                self.next()
                self.skip_semis()
                val = self.composite("elem") if self.at("{") else self.expr()
                elems.append((first, val))
            else:
                elems.append((None, first))
            if self.at(","):
                self.next()
            self.skip_semis()
        self.expect("}")
        return ("composite", typ, elems)


# ---------------------------------------------------------------- evaluation

class Opaque:
    """A value this interpreter does not model (a compiled regex, a rule's
    allowlist): fine to carry around, an error to use as a test vector."""

    def __init__(self, what):
        self.what = what

    def __repr__(self):
        return "<opaque %s>" % self.what


class GoRegex:
    def __init__(self, pattern):
        self.pattern = pattern
        self.rx = re.compile(go_to_py_regex(pattern))

    def MatchString(self, s):
        return bool(self.rx.search(s))


class Continue(Exception):
    pass


class Return(Exception):
    def __init__(self, value):
        self.value = value


class Record:
    def __init__(self):
        self.fields = {}


def sprintf(fmt, *args):
    out, ai, i = [], 0, 0
    while i < len(fmt):
        c = fmt[i]
        if c != "%":
            out.append(c)
            i += 1
            continue
        verb = fmt[i + 1]
        i += 2
        if verb == "%":
            out.append("%")
            continue
        arg = args[ai]
        ai += 1
        if verb in "sdv":
            out.append(str(arg))
        elif verb == "q":
            out.append('"' + str(arg).replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            raise ValueError("fmt verb %%%s" % verb)
    return "".join(out)


class B64:
    def __init__(self, fn, pad):
        self.fn, self.pad = fn, pad

    def EncodeToString(self, data):
        s = self.fn(data if isinstance(data, bytes) else data.encode()).decode()
        return s if self.pad else s.rstrip("=")


STOPWORDS = []


def contains_stopword(s):
    low = s.lower()
    return any(w in low for w in STOPWORDS)


class Interp:
    def __init__(self):
        self.funcs, self.globals, self.records = {}, {}, []
        self.builtins = {
            ("secrets", "NewSecret"): lambda rx: sample_regex(rx),
            ("utils", "GenerateSampleSecrets"): self.sample_secrets,
            ("utils", "GenerateSampleSecret"): lambda i, s: '%s_api_token = "%s"' % (i, s),
            ("utils", "Numeric"): lambda n: "[0-9]{%s}" % n,
            ("utils", "Hex"): lambda n: "[a-f0-9]{%s}" % n,
            ("utils", "AlphaNumeric"): lambda n: "[a-z0-9]{%s}" % n,
            ("utils", "AlphaNumericExtendedShort"): lambda n: "[a-z0-9_-]{%s}" % n,
            ("utils", "AlphaNumericExtended"): lambda n: r"[a-z0-9=_\-]{%s}" % n,
            ("utils", "AlphaNumericExtendedLong"): lambda n: r"[a-z0-9\/=_\+\-]{%s}" % n,
            ("utils", "Hex8_4_4_4_12"): lambda: "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}",
            ("utils", "Validate"): self.validate,
            ("utils", "ValidateWithPaths"): self.validate_paths,
            ("fmt", "Sprintf"): sprintf,
            ("strings", "Repeat"): lambda s, n: s * n,
            ("strings", "ToUpper"): lambda s: s.upper(),
            ("strings", "ToLower"): lambda s: s.lower(),
            ("strings", "Join"): lambda xs, sep: sep.join(xs),
            ("strings", "ReplaceAll"): lambda s, a, b: s.replace(a, b),
            ("regexp", "MustCompile"): GoRegex,
        }
        self.b64 = {"StdEncoding": B64(base64.b64encode, True),
                    "RawStdEncoding": B64(base64.b64encode, False),
                    "URLEncoding": B64(base64.urlsafe_b64encode, True),
                    "RawURLEncoding": B64(base64.urlsafe_b64encode, False)}
        self.current = None

    @staticmethod
    def sample_secrets(ident, secret):
        shapes = [
            '{i}Token="{s}"', '{i}Token = "{s}"', "{i}Token={s}", "{i}Token = {s}",
            '{\n    "{i}_token": "{s}"\n}', '{"config.ini": "{I}_TOKEN={s}\\nBACKUP_ENABLED=true"}',
            "<{i}Token>\n    {s}\n</{i}Token>", "{i}_token: {s}", "{i}_token: '{s}'",
            '{i}_token: "{s}"', 'string {i}Token = "{s}";', 'var {i}Token string = "{s}"',
            '{i}Token := "{s}"', "{i}Token := `{s}`", 'String {i}Token = "{s}";',
            'var {i}Token = "{s}"', '${i}Token .= "{s}"', "{i}Token = '{s}'", '{i}Token = "{s}"',
            'System.setProperty("{I}_TOKEN", "{s}")', '  "{i}Token" => "{s}"',
            '{i}_TOKEN = "{s}"', '{i}_TOKEN := "{s}"', '{i}_TOKEN ::= "{s}"',
            '{i}_TOKEN :::= "{s}"', '{i}_TOKEN ?= "{s}"',
        ]
        return [sh.replace("{i}", ident).replace("{I}", ident.upper()).replace("{s}", secret)
                for sh in shapes]

    def rule_id(self, r):
        if isinstance(r, Record):
            return r.fields.get("RuleID")
        return None

    def validate(self, r, tps, fps):
        self.records.append((self.rule_id(r), [(None, t) for t in tps or []],
                             [(None, f) for f in fps or []]))
        return r

    def validate_paths(self, r, tps, fps):
        self.records.append((self.rule_id(r), list((tps or {}).items()), list((fps or {}).items())))
        return r

    def load(self, path):
        with open(path, encoding="utf-8") as f:
            funcs, vars_ = Parser(tokenize(f.read()), path).file()
        for name, fn in funcs.items():
            self.funcs[name] = fn
        self.pending_vars = getattr(self, "pending_vars", []) + vars_

    def init_globals(self):
        env = self.globals
        for _ in range(3):  # package-level vars may refer to each other across files
            for _, names, vals in self.pending_vars:
                if vals is None:
                    continue
                for n, v in zip(names, vals):
                    if n in env:
                        continue
                    try:
                        env[n] = self.eval(v, [env])
                    except (KeyError, NameError):
                        pass
        STOPWORDS.extend(w.lower() for w in env.get("DefaultStopWords", []))

    def call_func(self, name, args):
        params, body = self.funcs[name]
        scope = dict(zip(params, args))
        try:
            self.exec_block(body, [self.globals, scope])
        except Return as r:
            return r.value
        return None

    # statements
    def exec_block(self, stmts, scopes):
        scopes = scopes + [{}]
        for s in stmts:
            self.exec_stmt(s, scopes)

    def exec_stmt(self, s, scopes):
        kind = s[0]
        if kind == "return":
            raise Return(None if s[1] is None else self.eval(s[1], scopes))
        if kind == "expr":
            self.eval(s[1], scopes)
        elif kind == "block":
            for _, names, vals in s[1]:
                for k, n in enumerate(names):
                    scopes[-1][n] = self.eval(vals[k], scopes) if vals else None
        elif kind == "assign":
            _, op, lhs, rhs = s
            vals = [self.eval(e, scopes) for e in rhs]
            if len(lhs) > 1 and len(vals) == 1:
                vals = list(vals[0]) if isinstance(vals[0], tuple) else [vals[0]] + [None] * (len(lhs) - 1)
            for target, val in zip(lhs, vals):
                self.assign(target, op, val, scopes)
        elif kind == "continue":
            raise Continue()
        elif kind == "if":
            _, init, cond, body, orelse = s
            inner = scopes + [{}]
            if init:
                self.exec_stmt(init, inner)
            if self.eval(cond, inner):
                self.exec_block(body, inner)
            elif orelse:
                self.exec_block(orelse, inner)
        elif kind == "forever":
            for _ in range(100000):
                try:
                    self.exec_block(s[1], scopes)
                except Continue:
                    continue
            raise RuntimeError("loop did not end")
        elif kind == "range":
            _, lhs, seq, body = s
            coll = self.eval(seq, scopes)
            items = list(coll.items()) if isinstance(coll, dict) else list(enumerate(coll))
            for k, v in items:
                inner = scopes + [{}]
                names = [e[1] for e in lhs]
                inner[-1][names[0]] = k
                if len(names) > 1:
                    inner[-1][names[1]] = v
                try:
                    self.exec_block(body, inner)
                except Continue:
                    pass
        else:
            raise RuntimeError("statement %s" % kind)

    def assign(self, target, op, val, scopes):
        if target[0] == "name":
            name = target[1]
            if name == "_":
                return
            if op == ":=":
                scopes[-1][name] = val
                return
            for sc in reversed(scopes):
                if name in sc:
                    sc[name] = sc[name] + val if op == "+=" else val
                    return
            raise NameError(name)
        if target[0] == "sel":
            obj = self.eval(target[1], scopes)
            if isinstance(obj, Record):
                obj.fields[target[2]] = val
            return
        raise RuntimeError("assign to %r" % (target,))

    # expressions
    def lookup(self, name, scopes):
        for sc in reversed(scopes):
            if name in sc:
                return sc[name]
        if name in ("nil",):
            return None
        if name in ("true", "false"):
            return name == "true"
        if name in self.funcs:
            return ("func", name)
        raise NameError(name)

    def eval(self, e, scopes):
        kind = e[0]
        if kind == "lit":
            return e[1]
        if kind == "name":
            return self.lookup(e[1], scopes)
        if kind == "bin":
            _, op, a, b = e
            x = self.eval(a, scopes)
            if op == "&&":
                return x and self.eval(b, scopes)
            if op == "||":
                return x or self.eval(b, scopes)
            y = self.eval(b, scopes)
            if op == "+":
                if isinstance(x, bytes) or isinstance(y, bytes):
                    return (x if isinstance(x, bytes) else x.encode()) + (y if isinstance(y, bytes) else y.encode())
                return x + y
            return {"==": lambda: x == y, "!=": lambda: x != y, "<": lambda: x < y,
                    ">": lambda: x > y, "-": lambda: x - y, "*": lambda: x * y}[op]()
        if kind == "un":
            v = self.eval(e[2], scopes)
            if e[1] == "!":
                return not v
            if e[1] == "-":
                return -v
            return v
        if kind == "composite":
            return self.composite(e, scopes)
        if kind == "sel":
            base = e[1]
            if base[0] == "name" and base[1] in ("utils", "secrets", "fmt", "strings", "regexp", "config"):
                return ("pkgfunc", base[1], e[2])
            if base[0] == "name" and base[1] in ("b64", "base64"):
                return self.b64[e[2]]
            obj = self.eval(base, scopes)
            if isinstance(obj, Record):
                return obj.fields.get(e[2])
            if hasattr(obj, e[2]):
                return getattr(obj, e[2])
            return Opaque("field %s" % e[2])
        if kind == "index":
            return self.eval(e[1], scopes)[self.eval(e[2], scopes)]
        if kind == "call":
            return self.call(e, scopes)
        if kind == "funclit":
            return ("closure", e[1], e[2], scopes)
        raise RuntimeError("expression %s" % kind)

    def composite(self, e, scopes):
        _, typ, elems = e
        if isinstance(typ, str) and typ.startswith("map"):
            return {self.eval(k, scopes): self.elem(v, scopes) for k, v in elems}
        if isinstance(typ, str) and (typ.startswith("[]") or typ == "elem"):
            if elems and elems[0][0] is not None:  # a struct-like elem
                rec = Record()
                for k, v in elems:
                    if k[0] == "name":
                        rec.fields[k[1]] = self.safe(v, scopes)
                return rec
            return [self.elem(v, scopes) for _, v in elems]
        rec = Record()
        for k, v in elems:
            if k is not None and k[0] == "name":
                rec.fields[k[1]] = self.safe(v, scopes)
        return rec

    def elem(self, v, scopes):
        return self.eval(v, scopes)

    def safe(self, v, scopes):
        try:
            return self.eval(v, scopes)
        except Exception as ex:  # a field we do not model (the rule's own regex)
            return Opaque(str(ex))

    def call(self, e, scopes):
        _, fn, args, spread = e
        # conversions
        if fn[0] == "name" and fn[1] in ("string", "[]byte"):
            return self.eval(args[0], scopes)
        if fn[0] == "composite" or (fn[0] == "name" and fn[1] == "append"):
            lst = list(self.eval(args[0], scopes) or [])
            rest = [self.eval(a, scopes) for a in args[1:]]
            if spread:
                for r in rest[:-1]:
                    lst.append(r)
                lst.extend(rest[-1] or [])
            else:
                lst.extend(rest)
            return lst
        if fn[0] == "name" and fn[1] == "len":
            return len(self.eval(args[0], scopes))
        if fn[0] == "name" and fn[1] == "newPlausibleSecret":
            rx = self.eval(args[0], scopes)
            for _ in range(10000):
                s = sample_regex(rx)
                if re.search("[1-9]", s) and not contains_stopword(s):
                    return s
            raise RuntimeError("no plausible secret for %s" % rx)
        f = self.eval(fn, scopes)
        vals = [self.eval(a, scopes) for a in args]
        if spread and vals:
            vals = vals[:-1] + list(vals[-1])
        if isinstance(f, tuple) and f[0] == "pkgfunc":
            key = (f[1], f[2])
            if key in self.builtins:
                return self.builtins[key](*vals)
            return Opaque("%s.%s" % key)
        if isinstance(f, tuple) and f[0] == "func":
            return self.call_func(f[1], vals)
        if isinstance(f, tuple) and f[0] == "closure":
            _, params, body, cscopes = f
            try:
                self.exec_block(body, cscopes + [dict(zip(params, vals))])
            except Return as r:
                return r.value
            return None
        if callable(f):
            return f(*vals)
        if isinstance(f, Opaque):
            return Opaque("call of " + f.what)
        raise RuntimeError("call of %r" % (f,))


def main():
    if len(sys.argv) != 4:
        sys.exit(__doc__)
    rules_dir, main_go, out = sys.argv[1:]
    with open(main_go, encoding="utf-8") as f:
        registered = set(re.findall(r"\brules\.([A-Za-z0-9_]+)\(\)", f.read()))
    it = Interp()
    for name in sorted(os.listdir(rules_dir)):
        if name.endswith(".go") and not name.endswith("_test.go"):
            it.load(os.path.join(rules_dir, name))
    it.init_globals()
    failed = 0
    rule_funcs = sorted(registered)
    for name in rule_funcs:
        if name not in it.funcs:
            print("%s: registered in %s, defined nowhere" % (name, main_go), file=sys.stderr)
            failed += 1
    rule_funcs = [n for n in rule_funcs if n in it.funcs]
    for name in rule_funcs:
        before = len(it.records)
        try:
            it.call_func(name, [])
        except Exception as ex:  # report, carry on, fail at the end
            print("%s: not interpreted: %s: %s" % (name, type(ex).__name__, ex), file=sys.stderr)
            failed += 1
            del it.records[before:]
    seen = {}
    for rid, tps, fps in it.records:
        if not rid:
            print("a Validate call without a RuleID", file=sys.stderr)
            failed += 1
            continue
        n = seen.get(rid, 0)
        for kind, items in (("tp", tps), ("fp", fps)):
            for path, text in items:
                if not isinstance(text, str):
                    print("%s: a %s that is not a string: %r" % (rid, kind, text), file=sys.stderr)
                    failed += 1
                    continue
                d = os.path.join(out, rid, "%s-%04d" % (kind, n))
                n += 1
                fname = path or "sample.txt"
                fpath = os.path.join(d, fname.lstrip("/"))
                os.makedirs(os.path.dirname(fpath), exist_ok=True)
                with open(fpath, "w", encoding="utf-8", errors="surrogateescape") as f:
                    f.write(text)
        seen[rid] = n
    print("%d rules, %d vectors" % (len(seen), sum(seen.values())))
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
