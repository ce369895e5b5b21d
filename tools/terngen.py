#!/usr/bin/env python3
"""terngen: C types, XDR codecs and tern RPC stubs from an XDR interface file.

usage: terngen [-o DIR] FILE.x

Reads the XDR language (RFC 4506) with RFC 5531 program definitions, as
rpcgen does, and writes DIR/NAME.h and DIR/NAME.c (NAME: FILE's base name).
docs/idl.md has the language accepted, the C mapping and the generated API.
Python 3, standard library only.
"""
import os
import re
import sys

UINT32_MAX = 0xFFFFFFFF


class XdrError(Exception):
    def __init__(self, path, line, col, msg):
        super().__init__("%s:%d:%d: error: %s" % (path, line, col, msg))


# ---------------------------------------------------------------- lexer

TOKEN_RE = re.compile(r"""
    (?P<ws>[ \t\r\f\v]+)
  | (?P<nl>\n)
  | (?P<comment>/\*.*?\*/)
  | (?P<linecomment>//[^\n]*)
  | (?P<num>-?(0[xX][0-9a-fA-F]+|[0-9]+))
  | (?P<ident>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<punct>[{}()\[\]<>;,:=*])
""", re.S | re.X)

KEYWORDS = {"bool", "case", "const", "default", "double", "quadruple", "enum", "float", "hyper", "int",
            "opaque", "string", "struct", "switch", "typedef", "union", "unsigned", "void", "program",
            "version"}


class Tok:
    __slots__ = ("kind", "text", "line", "col")

    def __init__(self, kind, text, line, col):
        self.kind, self.text, self.line, self.col = kind, text, line, col


def lex(path, src):
    toks = []
    pos, line, line_start = 0, 1, 0
    n = len(src)
    while pos < n:
        # rpcgen's pass-through (%) and preprocessor (#) lines: skipped.
        if pos == line_start and src[pos] in "%#":
            end = src.find("\n", pos)
            pos = n if end < 0 else end
            continue
        m = TOKEN_RE.match(src, pos)
        if not m:
            if src.startswith("/*", pos):
                raise XdrError(path, line, pos - line_start + 1, "unterminated comment")
            raise XdrError(path, line, pos - line_start + 1, "unexpected character %r" % src[pos])
        kind = m.lastgroup
        text = m.group(kind)
        col = pos - line_start + 1
        if kind == "nl":
            line += 1
            line_start = m.end()
        elif kind == "comment":
            nls = text.count("\n")
            if nls:
                line += nls
                line_start = pos + text.rfind("\n") + 1
        elif kind in ("ws", "linecomment"):
            pass
        else:
            if kind == "ident" and text in KEYWORDS:
                kind = "kw"
            toks.append(Tok(kind, text, line, col))
        pos = m.end()
    toks.append(Tok("eof", "end of file", line, pos - line_start + 1))
    return toks


# ---------------------------------------------------------------- model

class Type:
    """A type specifier: a base type, or a name defined in the file."""

    def __init__(self, kind, name=None):
        self.kind = kind  # int uint hyper uhyper float double bool named
        self.name = name


class Decl:
    """A declaration: kind is plain, fixed_array, var_array, fixed_opaque,
    var_opaque, string, optional or void."""

    def __init__(self, kind, type_=None, name=None, size=None, tok=None):
        self.kind, self.type, self.name, self.size, self.tok = kind, type_, name, size, tok


class Def:
    def __init__(self, kind, name, tok):
        self.kind, self.name, self.tok = kind, name, tok


class Parser:
    def __init__(self, path, toks):
        self.path, self.toks, self.i = path, toks, 0
        self.consts = {}       # name -> int
        self.enum_values = {}  # member name -> int
        self.defs = []         # Def, in order
        self.types = {}        # name -> Def
        self.programs = []

    def err(self, tok, msg):
        raise XdrError(self.path, tok.line, tok.col, msg)

    def peek(self, k=0):
        return self.toks[self.i + k]

    def next(self):
        t = self.toks[self.i]
        self.i += 1
        return t

    def accept(self, text):
        t = self.peek()
        if t.kind in ("kw", "punct") and t.text == text:
            self.i += 1
            return t
        return None

    def expect(self, text):
        t = self.next()
        if t.kind not in ("kw", "punct") or t.text != text:
            self.err(t, "expected '%s', found '%s'" % (text, t.text))
        return t

    def ident(self, what="a name"):
        t = self.next()
        if t.kind != "ident":
            self.err(t, "expected %s, found '%s'" % (what, t.text))
        return t

    def value(self, what="a value"):
        """A constant or the name of one; returns (int, tok)."""
        t = self.next()
        if t.kind == "num":
            return int(t.text, 0), t
        if t.kind == "ident":
            if t.text in self.consts:
                return self.consts[t.text], t
            if t.text in self.enum_values:
                return self.enum_values[t.text], t
            if t.text in ("TRUE", "FALSE"):
                return (1 if t.text == "TRUE" else 0), t
            self.err(t, "'%s' is not a constant defined before this point" % t.text)
        self.err(t, "expected %s, found '%s'" % (what, t.text))

    def define(self, d):
        if d.name in self.types or d.name in self.consts or d.name in self.enum_values:
            self.err(d.tok, "'%s' is defined twice" % d.name)
        self.types[d.name] = d
        self.defs.append(d)

    # type-specifier (named types only: anonymous enum, struct and union
    # specifiers must be given a name)
    def type_spec(self):
        t = self.next()
        if t.kind == "kw":
            if t.text == "unsigned":
                if self.accept("int"):
                    return Type("uint"), t
                if self.accept("hyper"):
                    return Type("uhyper"), t
                return Type("uint"), t
            if t.text == "int":
                return Type("int"), t
            if t.text == "hyper":
                return Type("hyper"), t
            if t.text in ("float", "double", "bool"):
                return Type(t.text), t
            if t.text == "quadruple":
                self.err(t, "quadruple has no C type here (nor in rpcgen)")
            if t.text in ("enum", "struct", "union"):
                nt = self.peek()
                if nt.kind == "ident":
                    self.i += 1
                    return self.named(nt), t
                self.err(t, "an anonymous %s here: define it with a name, and use the name" % t.text)
            self.err(t, "expected a type, found '%s'" % t.text)
        if t.kind == "ident":
            return self.named(t), t
        self.err(t, "expected a type, found '%s'" % t.text)

    def named(self, t):
        if t.text not in self.types:
            self.err(t, "unknown type '%s' (types are defined before they are used)" % t.text)
        return Type("named", t.text)

    def bound(self):
        """<N> or <>: the maximum, UINT32_MAX for none."""
        if self.accept(">"):
            return UINT32_MAX
        v, t = self.value("a bound")
        if v < 0 or v > UINT32_MAX:
            self.err(t, "bound %d out of range" % v)
        self.expect(">")
        return v

    def fixed_size(self):
        v, t = self.value("a size")
        if v <= 0 or v > UINT32_MAX:
            self.err(t, "array size %d out of range" % v)
        self.expect("]")
        return v

    def declaration(self, allow_void=False):
        t = self.peek()
        if t.kind == "kw" and t.text == "void":
            if not allow_void:
                self.err(t, "void is only an arm of a union, or a procedure's argument or result")
            self.i += 1
            return Decl("void", tok=t)
        if t.kind == "kw" and t.text == "opaque":
            self.i += 1
            name = self.ident()
            if self.accept("["):
                return Decl("fixed_opaque", None, name.text, self.fixed_size(), name)
            self.expect("<")
            return Decl("var_opaque", None, name.text, self.bound(), name)
        if t.kind == "kw" and t.text == "string":
            self.i += 1
            name = self.ident()
            self.expect("<")
            return Decl("string", None, name.text, self.bound(), name)
        ty, tt = self.type_spec()
        if self.accept("*"):
            name = self.ident()
            return Decl("optional", ty, name.text, None, name)
        name = self.ident()
        if self.accept("["):
            return Decl("fixed_array", ty, name.text, self.fixed_size(), name)
        if self.accept("<"):
            return Decl("var_array", ty, name.text, self.bound(), name)
        return Decl("plain", ty, name.text, None, name)

    def parse(self):
        while self.peek().kind != "eof":
            t = self.next()
            if t.kind != "kw":
                self.err(t, "expected a definition (const, typedef, enum, struct, union, program), found '%s'"
                         % t.text)
            if t.text == "const":
                name = self.ident()
                self.expect("=")
                v, vt = self.value()
                self.expect(";")
                if name.text in self.consts or name.text in self.types or name.text in self.enum_values:
                    self.err(name, "'%s' is defined twice" % name.text)
                self.consts[name.text] = v
                d = Def("const", name.text, name)
                d.value = v
                self.defs.append(d)
            elif t.text == "typedef":
                decl = self.declaration()
                self.expect(";")
                d = Def("typedef", decl.name, decl.tok)
                d.decl = decl
                self.define(d)
            elif t.text == "enum":
                self.enum_def(self.ident())
            elif t.text == "struct":
                self.struct_def(self.ident())
            elif t.text == "union":
                self.union_def(self.ident())
            elif t.text == "program":
                self.program_def(self.ident())
            else:
                self.err(t, "expected a definition, found '%s'" % t.text)
        return self

    def enum_def(self, name):
        self.expect("{")
        members = []
        seen = set()
        while True:
            m = self.ident("an enum member")
            self.expect("=")
            v, vt = self.value()
            if v < -0x80000000 or v > 0x7FFFFFFF:
                self.err(vt, "enum value %d does not fit an int" % v)
            if m.text in self.enum_values or m.text in self.consts or m.text in self.types:
                self.err(m, "'%s' is defined twice" % m.text)
            if v in seen:
                self.err(vt, "value %d given twice in enum %s" % (v, name.text))
            seen.add(v)
            self.enum_values[m.text] = v
            members.append((m.text, v))
            if not self.accept(","):
                break
        self.expect("}")
        self.expect(";")
        d = Def("enum", name.text, name)
        d.members = members
        self.define(d)

    def struct_def(self, name):
        d = Def("struct", name.text, name)
        d.members = []
        self.types[name.text] = d  # a struct may point at itself (optional data)
        self.expect("{")
        names = set()
        while not self.accept("}"):
            decl = self.declaration()
            if decl.name in names:
                self.err(decl.tok, "member '%s' twice in struct %s" % (decl.name, name.text))
            names.add(decl.name)
            self.check_self(decl, name.text)
            self.expect(";")
            d.members.append(decl)
        self.expect(";")
        if not d.members:
            self.err(name, "struct %s has no members" % name.text)
        del self.types[name.text]
        self.define(d)

    def check_self(self, decl, own):
        if decl.type is not None and decl.type.kind == "named" and decl.type.name == own and \
                decl.kind not in ("optional", "var_array"):
            self.err(decl.tok, "%s contains itself: only optional data (*) or a variable array may refer to it"
                     % own)

    def union_def(self, name):
        d = Def("union", name.text, name)
        self.types[name.text] = d
        self.expect("switch")
        self.expect("(")
        dt, dtt = self.type_spec()
        if dt.kind not in ("int", "uint", "bool") and not (dt.kind == "named" and self.resolve_kind(dt) == "enum"):
            self.err(dtt, "a union's discriminant is an int, unsigned int, bool or enum")
        dn = self.ident("the discriminant's name")
        self.expect(")")
        self.expect("{")
        d.disc = Decl("plain", dt, dn.text, None, dn)
        d.arms = []     # (values [(int, tok)], Decl)
        d.default = None
        seen = {}
        while True:
            t = self.peek()
            if self.accept("case"):
                values = []
                while True:
                    v, vt = self.value("a case value")
                    if v in seen:
                        self.err(vt, "case %d twice in union %s" % (v, name.text))
                    seen[v] = True
                    values.append((v, vt))
                    self.expect(":")
                    if not self.accept("case"):
                        break
                decl = self.declaration(allow_void=True)
                self.check_self(decl, name.text)
                self.expect(";")
                d.arms.append((values, decl))
            elif self.accept("default"):
                if d.default is not None:
                    self.err(t, "two default arms in union %s" % name.text)
                self.expect(":")
                d.default = self.declaration(allow_void=True)
                self.check_self(d.default, name.text)
                self.expect(";")
            else:
                break
        self.expect("}")
        self.expect(";")
        if not d.arms:
            self.err(name, "union %s has no case" % name.text)
        if d.disc.type.kind == "named":
            members = dict((v, m) for m, v in self.types[d.disc.type.name].members) \
                if self.resolve_kind(d.disc.type) == "enum" else {}
            for values, _ in d.arms:
                for v, vt in values:
                    if members and v not in members:
                        self.err(vt, "case %d is not a value of enum %s" % (v, d.disc.type.name))
        del self.types[name.text]
        self.define(d)

    def resolve_kind(self, ty):
        """enum, struct, union, or the base kind a typedef chain ends in."""
        while ty.kind == "named":
            d = self.types[ty.name]
            if d.kind != "typedef":
                return d.kind
            if d.decl.kind != "plain":
                return d.decl.kind
            ty = d.decl.type
        return ty.kind

    def program_def(self, name):
        self.expect("{")
        prog = Def("program", name.text, name)
        prog.versions = []
        vnums = set()
        while True:
            self.expect("version")
            vname = self.ident("a version name")
            self.expect("{")
            ver = Def("version", vname.text, vname)
            ver.procs = []
            pnums = set()
            while True:
                rt = self.peek()
                if self.accept("void"):
                    res = None
                else:
                    res, _ = self.type_spec()
                pname = self.ident("a procedure name")
                self.expect("(")
                at = self.peek()
                if self.accept("void"):
                    arg = None
                else:
                    arg, _ = self.type_spec()
                if self.peek().text == ",":
                    self.err(self.peek(), "one argument per procedure (rpcgen's default; wrap several in a struct)")
                self.expect(")")
                self.expect("=")
                pn, pnt = self.value("a procedure number")
                self.expect(";")
                if pn < 0 or pn > UINT32_MAX:
                    self.err(pnt, "procedure number out of range")
                if pn in pnums:
                    self.err(pnt, "procedure number %d twice in version %s" % (pn, vname.text))
                pnums.add(pn)
                self.add_const(pname, pn)
                p = Def("proc", pname.text, pname)
                p.num, p.arg, p.res = pn, arg, res
                ver.procs.append(p)
                del rt, at
                if self.peek().text == "}":
                    break
            self.expect("}")
            self.expect("=")
            vn, vnt = self.value("a version number")
            self.expect(";")
            if vn < 0 or vn > UINT32_MAX or vn in vnums:
                self.err(vnt, "version number %d out of range or given twice" % vn)
            vnums.add(vn)
            self.add_const(vname, vn)
            ver.num = vn
            prog.versions.append(ver)
            if self.peek().text == "}":
                break
        self.expect("}")
        self.expect("=")
        pn, pnt = self.value("a program number")
        self.expect(";")
        if pn < 0 or pn > UINT32_MAX:
            self.err(pnt, "program number out of range")
        self.add_const(name, pn)
        prog.num = pn
        self.programs.append(prog)

    def add_const(self, tok, v):
        if tok.text in self.consts or tok.text in self.types or tok.text in self.enum_values:
            self.err(tok, "'%s' is defined twice" % tok.text)
        self.consts[tok.text] = v


# ---------------------------------------------------------------- C code

BASE_C = {"int": "int32_t", "uint": "uint32_t", "hyper": "int64_t", "uhyper": "uint64_t",
          "float": "float", "double": "double", "bool": "bool"}
BASE_CODEC = {"int": "i32", "uint": "u32", "hyper": "i64", "uhyper": "u64", "float": "float",
              "double": "double", "bool": "bool"}
BASE_WIRE = {"int": 4, "uint": 4, "hyper": 8, "uhyper": 8, "float": 4, "double": 8, "bool": 4}


def pad(n):
    return (n + 3) & ~3


def climit(v):
    return "%du" % v if v >= 0 else str(v)


class Gen:
    def __init__(self, p, base):
        self.p = p
        self.base = base
        self.tmp = 0

    def ctype(self, ty):
        return BASE_C[ty.kind] if ty.kind != "named" else ty.name

    def min_wire(self, ty, seen=()):
        """The fewest bytes a value of ty takes on the wire."""
        if ty.kind != "named":
            return BASE_WIRE[ty.kind]
        d = self.p.types[ty.name]
        if d.kind == "enum":
            return 4
        if d.kind == "typedef":
            return self.decl_min_wire(d.decl, seen)
        if d.kind == "union":
            return 4
        if ty.name in seen:
            return 4
        return sum(self.decl_min_wire(m, seen + (ty.name,)) for m in d.members)

    def decl_min_wire(self, decl, seen=()):
        k = decl.kind
        if k == "plain":
            return self.min_wire(decl.type, seen)
        if k == "fixed_array":
            return decl.size * self.min_wire(decl.type, seen)
        if k == "fixed_opaque":
            return pad(decl.size)
        return 4  # var_array, var_opaque, string, optional: a count or a flag

    def field(self, decl, indent="\t"):
        k, n = decl.kind, decl.name
        if k == "plain":
            return "%s%s %s;" % (indent, self.ctype(decl.type), n)
        if k == "fixed_array":
            return "%s%s %s[%d];" % (indent, self.ctype(decl.type), n, decl.size)
        if k == "var_array":
            return "%sstruct {\n%s\tuint32_t len;\n%s\t%s *val;\n%s} %s;" % (
                indent, indent, indent, self.ctype_ptr(decl.type), indent, n)
        if k == "fixed_opaque":
            return "%sconst uint8_t *%s; /* %d bytes */" % (indent, n, decl.size)
        if k == "var_opaque":
            return "%sstruct tern_xdr_bytes %s;" % (indent, n)
        if k == "string":
            return "%sstruct tern_xdr_string %s;" % (indent, n)
        if k == "optional":
            return "%s%s *%s; /* NULL: absent */" % (indent, self.ctype_ptr(decl.type), n)
        raise AssertionError(k)

    def ctype_ptr(self, ty):
        # a struct or union pointing at itself is still incomplete: use its tag
        if ty.kind == "named" and self.p.types[ty.name].kind in ("struct", "union"):
            return "struct %s" % ty.name
        return self.ctype(ty)

    # -- header
    def header(self):
        guard = re.sub(r"[^A-Za-z0-9]", "_", self.base).upper() + "_TERNGEN_H"
        o = []
        o.append("/* Generated by terngen from %s.x: do not edit. docs/idl.md has the mapping. */" % self.base)
        o.append("#ifndef %s\n#define %s\n" % (guard, guard))
        o.append("#include <stdatomic.h>\n#include <stdbool.h>\n#include <stddef.h>\n#include <stdint.h>\n")
        o.append("#include <tern/xdr.h>\n")
        o.append("#ifdef __cplusplus\nextern \"C\" {\n#endif\n")
        for d in self.p.defs:
            if d.kind == "const":
                o.append("#define %s %s" % (d.name, d.value))
            elif d.kind == "enum":
                o.append("enum %s {" % d.name)
                for m, v in d.members:
                    o.append("\t%s = %d," % (m, v))
                o.append("};\ntypedef enum %s %s;" % (d.name, d.name))
            elif d.kind == "struct":
                o.append("struct %s {" % d.name)
                for m in d.members:
                    o.append(self.field(m))
                o.append("};\ntypedef struct %s %s;" % (d.name, d.name))
            elif d.kind == "union":
                o.append("struct %s {" % d.name)
                o.append(self.field(d.disc))
                o.append("\tunion {")
                for _, decl in d.arms:
                    if decl.kind != "void":
                        o.append(self.field(decl, "\t\t"))
                if d.default is not None and d.default.kind != "void":
                    o.append(self.field(d.default, "\t\t"))
                o.append("\t} %s_u;" % d.name)
                o.append("};\ntypedef struct %s %s;" % (d.name, d.name))
            elif d.kind == "typedef":
                f = self.field(d.decl, "")
                # "T name;" -> "typedef T name;"
                o.append("typedef " + f)
            if d.kind in ("enum", "struct", "union", "typedef"):
                o.append("size_t %s_size(const %s *v);" % (d.name, d.name))
                o.append("int %s_encode(struct tern_xdr_enc *x, const %s *v);" % (d.name, d.name))
                o.append("int %s_decode(struct tern_xdr_dec *x, %s *v);" % (d.name, d.name))
            o.append("")
        for prog in self.p.programs:
            o.append("#define %s %du" % (prog.name, prog.num))
            for ver in prog.versions:
                o.append("#define %s %du" % (ver.name, ver.num))
                for pr in ver.procs:
                    o.append("#define %s %du" % (pr.name, pr.num))
                o.append("")
                for pr in ver.procs:
                    fn = self.stub_name(pr, ver)
                    o.append("/* %s: %s(%s) -> %s */" % (pr.name, fn, self.arg_ctype(pr.arg) or "void",
                                                         self.arg_ctype(pr.res) or "void"))
                    o.append("typedef void (*%s_cb)(int status, %s, void *arg);" % (
                        fn, ("%s *res" % self.arg_ctype(pr.res)) if pr.res else "void *res_none"))
                    o.append("int %s(struct tern_rpc *rpc, struct tern_session *s, %s, uint64_t timeout_ns,\n"
                             "\tstruct tern_xdr_call *call, struct tern_xdr_arena *arena, %s_cb cb, void *cb_arg);"
                             % (fn, self.arg_param(pr.arg), fn))
                    o.append("int %s_sync(struct tern_rpc *rpc, struct tern_session *s, %s, %s,\n"
                             "\tuint64_t timeout_ns, struct tern_xdr_arena *arena, uint8_t *resp_buf, size_t resp_cap,\n"
                             "\tconst atomic_bool *cancel);"
                             % (fn, self.arg_param(pr.arg), self.res_param(pr.res)))
                ops = self.ops_name(prog, ver)
                o.append("\n/* The server's side of %s version %s: a function per procedure. */" % (prog.name, ver.name))
                o.append("struct %s {" % ops)
                for pr in ver.procs:
                    o.append("\tint (*%s)(%s, %s, struct tern_xdr_req *req, void *impl_arg);" % (
                        pr.name.lower(), self.arg_param(pr.arg), self.res_param(pr.res)))
                o.append("};")
                o.append("extern const struct tern_xdr_program %s_program;" % ops[:-4])
                o.append("int %s_serve(struct tern_xdr_server *srv, const struct %s *ops, void *arg);\n"
                         % (ops[:-4], ops))
        o.append("#ifdef __cplusplus\n}\n#endif\n")
        o.append("#endif")
        return "\n".join(o) + "\n"

    def stub_name(self, pr, ver):
        return "%s_%d" % (pr.name.lower(), ver.num)

    def ops_name(self, prog, ver):
        return "%s_%d_ops" % (prog.name.lower(), ver.num)

    def arg_ctype(self, ty):
        return None if ty is None else self.ctype(ty)

    def arg_param(self, ty):
        return "const void *arg_none" if ty is None else "const %s *arg" % self.ctype(ty)

    def res_param(self, ty):
        return "void *res_none" if ty is None else "%s *res" % self.ctype(ty)

    # -- codecs: statements for one declaration at C lvalue expression v
    def t(self):
        self.tmp += 1
        return "i%d" % self.tmp

    def type_size(self, ty, v):
        if ty.kind != "named":
            return "%d" % BASE_WIRE[ty.kind]
        if self.p.types[ty.name].kind == "enum":
            return "4"
        return "%s_size(&%s)" % (ty.name, v)

    def size_stmts(self, decl, v, out, ind):
        k = decl.kind
        if k == "void":
            return
        if k == "plain":
            out.append("%sn += %s;" % (ind, self.type_size(decl.type, v)))
        elif k == "fixed_opaque":
            out.append("%sn += %d;" % (ind, pad(decl.size)))
        elif k in ("var_opaque", "string"):
            out.append("%sn += 4 + tern_xdr_pad(%s.len);" % (ind, v))
        elif k == "fixed_array":
            i = self.t()
            if decl.type.kind != "named" or self.p.types[decl.type.name].kind == "enum":
                out.append("%sn += %d;" % (ind, decl.size * (BASE_WIRE.get(decl.type.kind, 4))))
            else:
                out.append("%sfor (uint32_t %s = 0; %s < %d; %s++)" % (ind, i, i, decl.size, i))
                out.append("%s\tn += %s;" % (ind, self.type_size(decl.type, "%s[%s]" % (v, i))))
        elif k == "var_array":
            i = self.t()
            out.append("%sn += 4;" % ind)
            out.append("%sfor (uint32_t %s = 0; %s < %s.len; %s++)" % (ind, i, i, v, i))
            out.append("%s\tn += %s;" % (ind, self.type_size(decl.type, "%s.val[%s]" % (v, i))))
        elif k == "optional":
            out.append("%sn += 4;" % ind)
            out.append("%sif (%s)" % (ind, v))
            out.append("%s\tn += %s;" % (ind, self.type_size(decl.type, "*" + v if False else "(*%s)" % v)))

    def enc_type(self, ty, v):
        if ty.kind != "named":
            return "tern_xdr_put_%s(x, %s)" % (BASE_CODEC[ty.kind], v)
        if self.p.types[ty.name].kind == "enum":
            return "tern_xdr_put_i32(x, (int32_t)%s)" % v
        return "%s_encode(x, &%s)" % (ty.name, v)

    def dec_type(self, ty, v):
        if ty.kind != "named":
            return "tern_xdr_get_%s(x, &%s)" % (BASE_CODEC[ty.kind], v)
        return "%s_decode(x, &%s)" % (ty.name, v)

    def enc_stmts(self, decl, v, out, ind):
        k = decl.kind
        if k == "void":
            return
        if k == "plain":
            out.append("%sif ((rc = %s))\n%s\treturn rc;" % (ind, self.enc_type(decl.type, v), ind))
        elif k == "fixed_opaque":
            out.append("%sif ((rc = tern_xdr_put_fixed(x, %s, %d)))\n%s\treturn rc;" % (ind, v, decl.size, ind))
        elif k in ("var_opaque", "string"):
            out.append("%sif ((rc = tern_xdr_put_bytes(x, %s.data, %s.len, %s)))\n%s\treturn rc;" % (
                ind, v, v, climit(decl.size), ind))
        elif k == "fixed_array":
            i = self.t()
            out.append("%sfor (uint32_t %s = 0; %s < %d; %s++)" % (ind, i, i, decl.size, i))
            out.append("%s\tif ((rc = %s))\n%s\t\treturn rc;" % (ind, self.enc_type(decl.type, "%s[%s]" % (v, i)), ind))
        elif k == "var_array":
            i = self.t()
            out.append("%sif (%s.len > %s || (%s.len && !%s.val))\n%s\treturn TERN_EINVAL;" % (
                ind, v, climit(decl.size), v, v, ind))
            out.append("%sif ((rc = tern_xdr_put_u32(x, %s.len)))\n%s\treturn rc;" % (ind, v, ind))
            out.append("%sfor (uint32_t %s = 0; %s < %s.len; %s++)" % (ind, i, i, v, i))
            out.append("%s\tif ((rc = %s))\n%s\t\treturn rc;" % (
                ind, self.enc_type(decl.type, "%s.val[%s]" % (v, i)), ind))
        elif k == "optional":
            out.append("%sif ((rc = tern_xdr_put_bool(x, %s != NULL)))\n%s\treturn rc;" % (ind, v, ind))
            out.append("%sif (%s && (rc = %s))\n%s\treturn rc;" % (ind, v, self.enc_type(decl.type, "(*%s)" % v),
                                                                   ind))

    def dec_stmts(self, decl, v, out, ind):
        k = decl.kind
        if k == "void":
            return
        if k == "plain":
            out.append("%sif ((rc = %s))\n%s\treturn rc;" % (ind, self.dec_type(decl.type, v), ind))
        elif k == "fixed_opaque":
            out.append("%sif ((rc = tern_xdr_get_fixed(x, &%s, %d)))\n%s\treturn rc;" % (ind, v, decl.size, ind))
        elif k == "var_opaque":
            out.append("%sif ((rc = tern_xdr_get_bytes(x, &%s, %s)))\n%s\treturn rc;" % (
                ind, v, climit(decl.size), ind))
        elif k == "string":
            out.append("%sif ((rc = tern_xdr_get_string(x, &%s, %s)))\n%s\treturn rc;" % (
                ind, v, climit(decl.size), ind))
        elif k == "fixed_array":
            i = self.t()
            out.append("%sfor (uint32_t %s = 0; %s < %d; %s++)" % (ind, i, i, decl.size, i))
            out.append("%s\tif ((rc = %s))\n%s\t\treturn rc;" % (
                ind, self.dec_type(decl.type, "%s[%s]" % (v, i)), ind))
            if decl.type.kind != "named":
                out.append("%sx->copied += %d;" % (ind, decl.size * BASE_WIRE[decl.type.kind]))
        elif k == "var_array":
            i = self.t()
            mw = self.min_wire(decl.type)
            out.append("%sif ((rc = tern_xdr_get_count(x, &%s.len, %s, %d)))\n%s\treturn rc;" % (
                ind, v, climit(decl.size), mw, ind))
            out.append("%s%s.val = NULL;" % (ind, v))
            out.append("%sif (%s.len && !(%s.val = tern_xdr_arena_alloc(x->arena, (size_t)%s.len * sizeof(*%s.val))))"
                       "\n%s\treturn TERN_ENOMEM;" % (ind, v, v, v, v, ind))
            out.append("%sfor (uint32_t %s = 0; %s < %s.len; %s++)" % (ind, i, i, v, i))
            out.append("%s\tif ((rc = %s))\n%s\t\treturn rc;" % (
                ind, self.dec_type(decl.type, "%s.val[%s]" % (v, i)), ind))
            if decl.type.kind != "named":
                out.append("%sx->copied += (uint64_t)%s.len * %d;" % (ind, v, BASE_WIRE[decl.type.kind]))
        elif k == "optional":
            f = self.t()
            out.append("%sbool %s;" % (ind, f))
            out.append("%sif ((rc = tern_xdr_get_bool(x, &%s)))\n%s\treturn rc;" % (ind, f, ind))
            out.append("%s%s = NULL;" % (ind, v))
            out.append("%sif (%s) {" % (ind, f))
            out.append("%s\tif (x->depth >= TERN_XDR_MAX_DEPTH)\n%s\t\treturn TERN_EBADARGS;" % (ind, ind))
            out.append("%s\tif (!(%s = tern_xdr_arena_alloc(x->arena, sizeof(*%s))))\n%s\t\treturn TERN_ENOMEM;"
                       % (ind, v, v, ind))
            out.append("%s\tx->depth++;" % ind)
            out.append("%s\trc = %s;" % (ind, self.dec_type(decl.type, "(*%s)" % v)))
            out.append("%s\tx->depth--;" % ind)
            out.append("%s\tif (rc)\n%s\t\treturn rc;" % (ind, ind))
            out.append("%s}" % ind)

    def codec(self, d):
        o = []
        n, T = d.name, d.name
        self.tmp = 0
        if d.kind == "enum":
            o.append("size_t %s_size(const %s *v)\n{\n\t(void)v;\n\treturn 4;\n}\n" % (n, T))
            o.append("int %s_encode(struct tern_xdr_enc *x, const %s *v)\n{\n\treturn tern_xdr_put_i32(x, (int32_t)*v);\n}\n"
                     % (n, T))
            o.append("int %s_decode(struct tern_xdr_dec *x, %s *v)\n{\n\tint32_t i;\n\tint rc = tern_xdr_get_i32(x, &i);"
                     "\n\tif (rc)\n\t\treturn rc;\n\tswitch (i) {" % (n, T))
            for m, val in d.members:
                o.append("\tcase %d:" % val)
            o.append("\t\t*v = (%s)i;\n\t\treturn 0;\n\tdefault:\n\t\treturn TERN_EBADARGS; /* not one of its values */"
                     "\n\t}\n}\n" % T)
            return "\n".join(o)
        # size
        sz, enc, dec = [], [], []
        if d.kind == "struct":
            for m in d.members:
                self.size_stmts(m, "v->%s" % m.name, sz, "\t")
                self.enc_stmts(m, "v->%s" % m.name, enc, "\t")
                self.dec_stmts(m, "v->%s" % m.name, dec, "\t")
        elif d.kind == "typedef":
            dd = d.decl
            self.size_stmts(dd, "(*v)", sz, "\t")
            self.enc_stmts(dd, "(*v)", enc, "\t")
            self.dec_stmts(dd, "(*v)", dec, "\t")
        elif d.kind == "union":
            disc = "v->%s" % d.disc.name
            self.size_stmts(d.disc, disc, sz, "\t")
            self.enc_stmts(d.disc, disc, enc, "\t")
            self.dec_stmts(d.disc, disc, dec, "\t")
            sw = "(int64_t)%s" % disc
            for lst in (sz, enc, dec):
                lst.append("\tswitch (%s) {" % sw)
            for values, arm in d.arms:
                for val, _ in values:
                    for lst in (sz, enc, dec):
                        lst.append("\tcase %d:" % val)
                av = "v->%s_u.%s" % (n, arm.name) if arm.kind != "void" else None
                if av:
                    self.size_stmts(arm, av, sz, "\t\t")
                    self.enc_stmts(arm, av, enc, "\t\t")
                    self.dec_stmts(arm, av, dec, "\t\t")
                for lst in (sz, enc, dec):
                    lst.append("\t\tbreak;")
            for lst, what in ((sz, "size"), (enc, "enc"), (dec, "dec")):
                lst.append("\tdefault:")
                if d.default is None:
                    if what == "size":
                        lst.append("\t\tbreak;")
                    elif what == "enc":
                        lst.append("\t\treturn TERN_EINVAL; /* no arm for this discriminant */")
                    else:
                        lst.append("\t\treturn TERN_EBADARGS; /* no arm for this discriminant */")
                else:
                    if d.default.kind != "void":
                        av = "v->%s_u.%s" % (n, d.default.name)
                        {"size": self.size_stmts, "enc": self.enc_stmts, "dec": self.dec_stmts}[what](
                            d.default, av, lst, "\t\t")
                    lst.append("\t\tbreak;")
                lst.append("\t}")
        o.append("size_t %s_size(const %s *v)\n{\n\tsize_t n = 0;\n%s\n\treturn n;\n}\n" % (n, T, "\n".join(sz)))
        o.append("int %s_encode(struct tern_xdr_enc *x, const %s *v)\n{\n\tint rc = 0;\n%s\n\treturn rc;\n}\n"
                 % (n, T, "\n".join(enc)))
        o.append("int %s_decode(struct tern_xdr_dec *x, %s *v)\n{\n\tint rc = 0;\n%s\n\treturn rc;\n}\n"
                 % (n, T, "\n".join(dec)))
        return "\n".join(o)

    # -- stubs
    def val_size(self, ty, v):
        return self.type_size(ty, v)

    def source(self):
        o = []
        o.append("/* Generated by terngen from %s.x: do not edit. */" % self.base)
        o.append("#include \"%s.h\"\n\n#include <string.h>\n" % self.base)
        o.append("#if defined(__GNUC__)\n#pragma GCC diagnostic ignored \"-Wunused-parameter\"\n#endif\n")
        for d in self.p.defs:
            if d.kind in ("enum", "struct", "union", "typedef"):
                o.append(self.codec(d))
        for prog in self.p.programs:
            for ver in prog.versions:
                ops = self.ops_name(prog, ver)
                for pr in ver.procs:
                    o.append(self.stub(prog, ver, pr))
                    o.append(self.dispatcher(prog, ver, pr, ops))
                procs = sorted(ver.procs, key=lambda p: p.num)
                base = ops[:-4]
                o.append("static const uint32_t %s_nums[] = { %s };" % (base, ", ".join("%du" % p.num for p in procs)))
                o.append("static const tern_xdr_dispatch_fn %s_fns[] = { %s };" % (
                    base, ", ".join("%s_%s_dispatch" % (base, p.name.lower()) for p in procs)))
                o.append("const struct tern_xdr_program %s_program = { %du, %du, %d, %s_nums, %s_fns };\n" % (
                    base, prog.num, ver.num, len(procs), base, base))
                o.append("int %s_serve(struct tern_xdr_server *srv, const struct %s *ops, void *arg)\n{\n"
                         "\treturn tern_xdr_server_add(srv, &%s_program, ops, arg);\n}\n" % (base, ops, base))
        return "\n".join(o) + "\n"

    def enc_val(self, ty, v):
        return self.enc_type(ty, v)

    def dec_val(self, ty, v):
        return self.dec_type(ty, v)

    def stub(self, prog, ver, pr):
        fn = self.stub_name(pr, ver)
        o = []
        argsz = self.val_size(pr.arg, "(*arg)") if pr.arg else "0"
        # the request: numbers, then the argument, in one buffer
        o.append("static int %s_request(struct tern_rpc *rpc, %s, void **out, size_t *len)\n{" % (
            fn, self.arg_param(pr.arg)))
        o.append("\tsize_t n = 12 + %s;" % argsz)
        o.append("\tvoid *b = tern_rpc_alloc(rpc, n);\n\tif (!b)\n\t\treturn TERN_ENOMEM;")
        o.append("\tstruct tern_xdr_enc e, *x = &e;\n\ttern_xdr_enc_init(x, b, n);")
        o.append("\tint rc = tern_xdr_put_u32(x, %du);\n\tif (!rc)\n\t\trc = tern_xdr_put_u32(x, %du);"
                 "\n\tif (!rc)\n\t\trc = tern_xdr_put_u32(x, %du);" % (prog.num, ver.num, pr.num))
        if pr.arg:
            o.append("\tif (!rc)\n\t\trc = %s;" % self.enc_val(pr.arg, "(*arg)"))
        o.append("\tif (rc) {\n\t\ttern_rpc_free(rpc, b);\n\t\treturn rc;\n\t}")
        o.append("\t*out = b;\n\t*len = n;\n\treturn 0;\n}\n")
        # decoding the answer
        o.append("static int %s_result(struct tern_xdr_dec *x, %s)\n{" % (fn, self.res_param(pr.res)))
        if pr.res:
            o.append("\tmemset(res, 0, sizeof(*res));")
            o.append("\tint rc = %s;" % self.dec_val(pr.res, "(*res)"))
            o.append("\treturn rc || x->p != x->end ? TERN_EPROTO : 0;\n}\n")
        else:
            o.append("\t(void)res_none;\n\treturn x->p != x->end ? TERN_EPROTO : 0;\n}\n")
        rt = self.arg_ctype(pr.res)
        o.append("static void %s_finish(struct tern_xdr_call *c, int status, struct tern_xdr_dec *x)\n{" % fn)
        if pr.res:
            o.append("\t%s res;" % rt)
            o.append("\tif (status == 0)\n\t\tstatus = %s_result(x, &res);" % fn)
            o.append("\tif (c->cb)\n\t\t((%s_cb)c->cb)(status, status ? NULL : &res, c->cb_arg);\n}\n" % fn)
        else:
            o.append("\tif (status == 0)\n\t\tstatus = %s_result(x, NULL);" % fn)
            o.append("\tif (c->cb)\n\t\t((%s_cb)c->cb)(status, NULL, c->cb_arg);\n}\n" % fn)
        o.append("int %s(struct tern_rpc *rpc, struct tern_session *s, %s, uint64_t timeout_ns,\n"
                 "\tstruct tern_xdr_call *call, struct tern_xdr_arena *arena, %s_cb cb, void *cb_arg)\n{"
                 % (fn, self.arg_param(pr.arg), fn))
        o.append("\tif (!call)\n\t\treturn TERN_EINVAL;")
        o.append("\tvoid *b;\n\tsize_t n;\n\tint rc = %s_request(rpc, %s, &b, &n);\n\tif (rc)\n\t\treturn rc;" % (
            fn, "arg" if pr.arg else "arg_none"))
        o.append("\tmemset(call, 0, sizeof(*call));")
        o.append("\tcall->finish = %s_finish;\n\tcall->cb = (void (*)(void))cb;\n\tcall->cb_arg = cb_arg;"
                 "\n\tcall->arena = arena;" % fn)
        o.append("\tif ((rc = tern_xdr_call_start(rpc, s, b, n, timeout_ns, call)))\n\t\ttern_rpc_free(rpc, b);")
        o.append("\treturn rc;\n}\n")
        o.append("static void %s_sync_finish(struct tern_xdr_call *c, int status, struct tern_xdr_dec *x)\n{" % fn)
        o.append("\tif (status == 0)\n\t\tc->status = %s_result(x, c->cb_arg);\n}\n" % fn)
        o.append("int %s_sync(struct tern_rpc *rpc, struct tern_session *s, %s, %s,\n"
                 "\tuint64_t timeout_ns, struct tern_xdr_arena *arena, uint8_t *resp_buf, size_t resp_cap,\n"
                 "\tconst atomic_bool *cancel)\n{" % (fn, self.arg_param(pr.arg), self.res_param(pr.res)))
        o.append("\tif (!resp_buf%s)\n\t\treturn TERN_EINVAL;" % (" || !res" if pr.res else ""))
        o.append("\tvoid *b;\n\tsize_t n;\n\tint rc = %s_request(rpc, %s, &b, &n);\n\tif (rc)\n\t\treturn rc;" % (
            fn, "arg" if pr.arg else "arg_none"))
        o.append("\tstruct tern_xdr_call c;\n\tmemset(&c, 0, sizeof(c));")
        o.append("\tc.finish = %s_sync_finish;\n\tc.cb_arg = %s;\n\tc.arena = arena;" % (
            fn, "res" if pr.res else "NULL"))
        o.append("\tif ((rc = tern_xdr_call_start(rpc, s, b, n, timeout_ns, &c))) {\n\t\ttern_rpc_free(rpc, b);"
                 "\n\t\treturn rc;\n\t}")
        o.append("\treturn tern_xdr_call_wait(&c, resp_buf, resp_cap, cancel);\n}\n")
        return "\n".join(o)

    def dispatcher(self, prog, ver, pr, ops):
        base = ops[:-4]
        o = []
        o.append("static void %s_%s_dispatch(struct tern_xdr_req *r, struct tern_xdr_dec *x, const void *impl, "
                 "void *impl_arg)\n{" % (base, pr.name.lower()))
        o.append("\tconst struct %s *ops = impl;" % ops)
        if pr.arg:
            o.append("\t%s arg;\n\tmemset(&arg, 0, sizeof(arg));" % self.ctype(pr.arg))
            o.append("\tif (%s || x->p != x->end) {\n\t\ttern_xdr_respond_bad_args(r);\n\t\treturn;\n\t}"
                     % self.dec_val(pr.arg, "arg"))
        else:
            o.append("\tif (x->p != x->end) {\n\t\ttern_xdr_respond_bad_args(r);\n\t\treturn;\n\t}")
        if pr.res:
            o.append("\t%s res;\n\tmemset(&res, 0, sizeof(res));" % self.ctype(pr.res))
        o.append("\tint rc = ops->%s ? ops->%s(%s, %s, r, impl_arg) : TERN_ENOTSUP;" % (
            pr.name.lower(), pr.name.lower(), "&arg" if pr.arg else "NULL", "&res" if pr.res else "NULL"))
        o.append("\tif (rc) {\n\t\ttern_rpc_respond_error(r->rpc_req, rc);\n\t\treturn;\n\t}")
        if pr.res:
            o.append("\tsize_t n = %s;" % self.val_size(pr.res, "res"))
            o.append("\tvoid *b = tern_rpc_alloc(r->rpc, n ? n : 1);")
            o.append("\tif (!b) {\n\t\ttern_rpc_respond_error(r->rpc_req, TERN_ENOMEM);\n\t\treturn;\n\t}")
            o.append("\tstruct tern_xdr_enc e;\n\ttern_xdr_enc_init(&e, b, n);\n\tstruct tern_xdr_enc *x2 = &e;")
            o.append("\tif ((rc = %s)) {\n\t\ttern_rpc_free(r->rpc, b);\n\t\ttern_rpc_respond_error(r->rpc_req, rc);"
                     "\n\t\treturn;\n\t}" % self.enc_val(pr.res, "res").replace("(x,", "(x2,"))
            o.append("\ttern_xdr_respond(r, b, n);\n}\n")
        else:
            o.append("\tvoid *b = tern_rpc_alloc(r->rpc, 1);")
            o.append("\tif (!b) {\n\t\ttern_rpc_respond_error(r->rpc_req, TERN_ENOMEM);\n\t\treturn;\n\t}")
            o.append("\ttern_xdr_respond(r, b, 0);\n}\n")
        return "\n".join(o)


def usage(f):
    f.write("usage: terngen [-o DIR] FILE.x\n\n"
            "Writes DIR/NAME.h and DIR/NAME.c (NAME: FILE's base name, DIR default .): C types,\n"
            "XDR encoders and decoders, and tern RPC client stubs and server skeletons for the\n"
            "types and programs FILE defines in the XDR language (RFC 4506, RFC 5531), as rpcgen\n"
            "reads it. docs/idl.md has the mapping.\n\n"
            "options:\n"
            "  -o DIR     where to write (default: the current directory)\n"
            "  --help     this text\n")


def main(argv):
    out_dir = "."
    files = []
    i = 0
    while i < len(argv):
        a = argv[i]
        if a in ("-h", "--help"):
            usage(sys.stdout)
            return 0
        if a == "-o":
            if i + 1 >= len(argv):
                sys.stderr.write("terngen: -o needs a directory\n")
                return 2
            out_dir = argv[i + 1]
            i += 2
            continue
        if a.startswith("-"):
            sys.stderr.write("terngen: unknown option '%s'\n" % a)
            usage(sys.stderr)
            return 2
        files.append(a)
        i += 1
    if len(files) != 1:
        usage(sys.stderr)
        return 2
    path = files[0]
    try:
        with open(path, encoding="utf-8") as f:
            src = f.read()
    except (OSError, UnicodeDecodeError) as e:
        sys.stderr.write("terngen: %s: %s\n" % (path, e))
        return 1
    base = os.path.splitext(os.path.basename(path))[0]
    if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", base):
        sys.stderr.write("terngen: %s: the base name must be a C identifier\n" % path)
        return 1
    try:
        p = Parser(path, lex(path, src)).parse()
    except XdrError as e:
        sys.stderr.write("%s\n" % e)
        return 1
    g = Gen(p, base)
    h, c = g.header(), g.source()
    try:
        os.makedirs(out_dir, exist_ok=True)
        for name, text in ((base + ".h", h), (base + ".c", c)):
            tmp = os.path.join(out_dir, name + ".tmp")
            with open(tmp, "w", encoding="utf-8") as f:
                f.write(text)
            os.replace(tmp, os.path.join(out_dir, name))
    except OSError as e:
        sys.stderr.write("terngen: %s\n" % e)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
