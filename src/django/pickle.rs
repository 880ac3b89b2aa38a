//! Python's `pickle` format, as far as Django's cache backends use it to
//! store session dicts in Redis.
//!
//! * `django.core.cache.backends.redis.RedisCache` (Django 4.0+):
//!   `RedisSerializer.dumps` is `pickle.dumps(obj, pickle.HIGHEST_PROTOCOL)`,
//!   i.e. protocol 5 on every supported Python.
//! * `django_redis.cache.RedisCache` (`PickleSerializer`, the default
//!   serializer): `pickle.dumps(obj, self._pickle_version)` where the version
//!   defaults to `pickle.DEFAULT_PROTOCOL` and `OPTIONS["PICKLE_VERSION"]`
//!   overrides it. `DEFAULT_PROTOCOL` is 4 on Python 3.8 to 3.13 (checked:
//!   django-redis 5.4.0 on Python 3.10.13 and 7.0.0 on Python 3.12.1 have
//!   the same serializer code), 5 from Python 3.14 on.
//!
//! Both read with `pickle.loads`. Only the objects a session can hold after
//! Django's `JSONSerializer` are supported: dict (str keys), list, tuple
//! (read as an array), str, int (64-bit), float, bool and None.
//!
//! Why this is hand-written: no crate writes the bytes CPython's C pickler
//! (`_pickle.c`) writes for protocols 4 and 5 (FRAME opcodes with the 64 KiB
//! frame target, MEMOIZE, SHORT_BINUNICODE, the C pickler's SETITEMS
//! batching and its identity-based memo). `serde-pickle` (the only
//! maintained one) writes protocols 2 and 3 only, without a memo; it can
//! decode protocols 0 to 5, but it decodes into its own `Value` whose dicts
//! are `BTreeMap`s, so the dict order (which Django's re-pickling and JSON
//! encoding depend on) is lost, and it would add `num-bigint` and friends for
//! a few hundred lines of code. So: no dependency.
//!
//! # The identity model of [`dumps`]
//!
//! The pickler memoizes by object identity: the second time the *same*
//! object is met it writes BINGET instead of the object. A
//! `serde_json::Value` has no identity, so [`dumps`] reproduces the
//! identities of the object Django holds when it pickles a session dict:
//! the result of `json.loads` of the session JSON (`cached_db` caches what it
//! decoded from the database), or a dict built by Django's own code:
//!
//! * dicts and lists are always distinct objects (each is memoized, never
//!   referenced again);
//! * equal dict keys anywhere in the document are one object (the C JSON
//!   scanner memoizes keys for the whole `json.loads` call; literal keys in
//!   Django's code are interned constants);
//! * the empty string and every 1-character string whose code point is below
//!   256 are CPython singletons, shared by keys and values alike (a repeated
//!   `"1"` value is a BINGET). Other 1-character strings are not;
//! * every other string value is its own object, even when equal to another
//!   value or to a key.
//!
//! Values read back with [`loads`] and pickled again (the `cache` backend:
//! the dict read from Redis, a value replaced by a new `str`, saved again,
//! e.g. by `cycle_key`, a rotated CSRF token or a new auth hash) get the
//! same model. In CPython the unpickled dict shares exactly the strings its
//! pickle shared (the memo), plus the singletons. For a pickle written from
//! a dict with the identities above, which is what Django writes for
//! sessions, that is the same model, so the re-pickled bytes are exact
//! (tested below). The approximation: a pickle whose writer shared other
//! objects (one `str` object stored under two keys, a value that is the same
//! object as a key, one list object stored twice, equal keys that were
//! distinct objects) is re-pickled with the model's sharing, not the
//! original's. Such a pickle is still read correctly.
//!
//! Objects created by Python code in the same request are modelled the same
//! way, which is exact except for two cases (verified with CPython 3.10
//! and 3.12):
//!
//! * a key *added* to a dict that already has the same text as a key in a
//!   nested dict: Python's new key is another object (written again),
//!   [`dumps`] writes a BINGET. Session keys are top-level names like
//!   `_csrftoken`, so this needs a nested dict with that very key;
//! * a new 1-character value below U+0100 is taken to be the singleton. That
//!   holds for `chr()` and anything decoded (JSON, pickle, UTF-8), but not
//!   for `str(7)` (a fresh object: `_auth_user_id` right after a Django
//!   login with a one-digit pk) nor, on 3.12, for every literal. It only
//!   changes the bytes when the same character occurs again later in the
//!   dict; a session that went through the cache once has the singleton.
//!
//! Keep in mind when editing a session map before [`dumps`]: with
//! serde_json's `preserve_order`, `Map::insert` on an existing key keeps its
//! position (as Python's `d[k] = v` does) but `Map::remove` is a
//! `swap_remove`; Python's `del d[k]` keeps the order of the others
//! (`shift_remove`).

use std::collections::HashMap;

use serde_json::{Map, Number, Value};

/// `pickle.HIGHEST_PROTOCOL` (Django's `RedisCache`).
pub const HIGHEST_PROTOCOL: u8 = 5;
/// `pickle.DEFAULT_PROTOCOL` on Python 3.8 to 3.13 (django-redis' default).
pub const DEFAULT_PROTOCOL: u8 = 4;

/// Pickle opcodes (`Lib/pickle.py`), the ones this module reads or writes.
mod op {
    pub const MARK: u8 = b'(';
    pub const STOP: u8 = b'.';
    pub const BININT: u8 = b'J';
    pub const BININT1: u8 = b'K';
    pub const BININT2: u8 = b'M';
    pub const NONE: u8 = b'N';
    pub const BINUNICODE: u8 = b'X';
    pub const APPEND: u8 = b'a';
    pub const DICT: u8 = b'd';
    pub const EMPTY_DICT: u8 = b'}';
    pub const APPENDS: u8 = b'e';
    pub const BINGET: u8 = b'h';
    pub const LONG_BINGET: u8 = b'j';
    pub const LIST: u8 = b'l';
    pub const EMPTY_LIST: u8 = b']';
    pub const BINPUT: u8 = b'q';
    pub const LONG_BINPUT: u8 = b'r';
    pub const SETITEM: u8 = b's';
    pub const TUPLE: u8 = b't';
    pub const EMPTY_TUPLE: u8 = b')';
    pub const SETITEMS: u8 = b'u';
    pub const BINFLOAT: u8 = b'G';
    // Protocol 2.
    pub const PROTO: u8 = 0x80;
    pub const TUPLE1: u8 = 0x85;
    pub const TUPLE2: u8 = 0x86;
    pub const TUPLE3: u8 = 0x87;
    pub const NEWTRUE: u8 = 0x88;
    pub const NEWFALSE: u8 = 0x89;
    pub const LONG1: u8 = 0x8a;
    pub const LONG4: u8 = 0x8b;
    // Protocol 4.
    pub const SHORT_BINUNICODE: u8 = 0x8c;
    pub const BINUNICODE8: u8 = 0x8d;
    pub const MEMOIZE: u8 = 0x94;
    pub const FRAME: u8 = 0x95;
}

/// `_pickle.c` `FRAME_SIZE_TARGET`: a frame is closed at the first opcode
/// boundary at or past 64 KiB, and data this large bypasses framing.
const FRAME_SIZE_TARGET: usize = 64 * 1024;
/// `_pickle.c` `FRAME_SIZE_MIN`: a shorter frame gets no FRAME header.
const FRAME_SIZE_MIN: usize = 4;
/// `_pickle.c` `FRAME_HEADER_SIZE`: FRAME + 8-byte length.
const FRAME_HEADER_SIZE: usize = 9;
/// `_pickle.c` `BATCHSIZE`: items per MARK ... SETITEMS / APPENDS.
const BATCHSIZE: usize = 1000;
/// Nesting limit when building the result (CPython's unpickler has none,
/// but its `json.dumps` of the session would hit the recursion limit).
const MAX_DEPTH: usize = 1000;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PickleError {
    #[error("pickle data was truncated")]
    Truncated,
    #[error("unsupported pickle opcode {0:#04x} ({name})", name = opcode_name(*.0))]
    Unsupported(u8),
    #[error("unsupported pickle protocol: {0}")]
    UnsupportedProtocol(u8),
    #[error("memo value not found at index {0}")]
    MemoMissing(u64),
    #[error("unpickling stack underflow")]
    StackUnderflow,
    #[error("could not find MARK")]
    MarkMissing,
    #[error("odd number of items for SETITEMS")]
    OddItems,
    #[error("opcode {0:#04x} applied to an object of the wrong type")]
    WrongTarget(u8),
    #[error("dict key is not a str")]
    NonStringKey,
    #[error("int does not fit in 64 bits")]
    IntTooLarge,
    #[error("float is NaN or infinite (not representable in JSON)")]
    NonFiniteFloat,
    #[error("str is not valid UTF-8 (lone surrogate)")]
    InvalidUtf8,
    #[error("recursive object")]
    Recursive,
    #[error("nesting deeper than {MAX_DEPTH}")]
    TooDeep,
    #[error("unpickled object too large for its pickle (shared references)")]
    TooLarge,
}

fn opcode_name(code: u8) -> &'static str {
    match code {
        b'c' => "GLOBAL",
        0x93 => "STACK_GLOBAL",
        b'R' => "REDUCE",
        b'b' => "BUILD",
        0x81 => "NEWOBJ",
        0x92 => "NEWOBJ_EX",
        b'i' => "INST",
        b'o' => "OBJ",
        b'B' | b'C' | 0x8e => "BINBYTES",
        0x96 => "BYTEARRAY8",
        0x8f => "EMPTY_SET",
        0x90 => "ADDITEMS",
        0x91 => "FROZENSET",
        b'T' | b'U' | b'S' => "STRING",
        b'V' => "UNICODE",
        b'I' => "INT",
        b'L' => "LONG",
        b'F' => "FLOAT",
        b'p' | b'g' => "PUT/GET (protocol 0)",
        b'P' | b'Q' => "PERSID",
        0x82..=0x84 => "EXT",
        0x97 | 0x98 => "BUFFER",
        b'0' | b'1' | b'2' => "POP/POP_MARK/DUP",
        _ => "unknown",
    }
}

// ---------------------------------------------------------------------------
// loads
// ---------------------------------------------------------------------------

/// An unpickled object. The unpickler works on an arena of these so that
/// memo references (BINGET) point at one object, as in CPython, even when
/// the object is filled in after it was memoized (EMPTY_DICT MEMOIZE ...
/// SETITEMS).
enum Obj {
    None,
    Bool(bool),
    Int(Number),
    Float(f64),
    Str(String),
    List(Vec<usize>),
    Tuple(Vec<usize>),
    Dict(Vec<(usize, usize)>),
}

struct Unpickler<'a> {
    data: &'a [u8],
    pos: usize,
    objs: Vec<Obj>,
    stack: Vec<usize>,
    marks: Vec<usize>,
    memo: HashMap<u64, usize>,
}

impl<'a> Unpickler<'a> {
    fn take(&mut self, n: u64) -> Result<&'a [u8], PickleError> {
        let remaining = self.data.len() - self.pos;
        let n = usize::try_from(n).map_err(|_| PickleError::Truncated)?;
        if n > remaining {
            return Err(PickleError::Truncated);
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn byte(&mut self) -> Result<u8, PickleError> {
        Ok(self.take(1)?[0])
    }

    fn le<const N: usize>(&mut self) -> Result<[u8; N], PickleError> {
        let mut a = [0u8; N];
        a.copy_from_slice(self.take(N as u64)?);
        Ok(a)
    }

    fn push(&mut self, obj: Obj) {
        self.objs.push(obj);
        self.stack.push(self.objs.len() - 1);
    }

    /// The bottom of the stack the current opcode may touch (`Pdata.fence`).
    fn fence(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn pop(&mut self) -> Result<usize, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(PickleError::StackUnderflow);
        }
        Ok(self.stack.pop().expect("checked above"))
    }

    fn top(&self) -> Result<usize, PickleError> {
        if self.stack.len() <= self.fence() {
            return Err(PickleError::StackUnderflow);
        }
        Ok(*self.stack.last().expect("checked above"))
    }

    /// Pops the topmost MARK and everything above it.
    fn pop_mark(&mut self) -> Result<Vec<usize>, PickleError> {
        let k = self.marks.pop().ok_or(PickleError::MarkMissing)?;
        Ok(self.stack.split_off(k))
    }

    fn string(&mut self, n: u64) -> Result<(), PickleError> {
        let raw = self.take(n)?;
        let s = std::str::from_utf8(raw).map_err(|_| PickleError::InvalidUtf8)?;
        self.push(Obj::Str(s.to_owned()));
        Ok(())
    }

    fn int(&mut self, v: i64) {
        self.push(Obj::Int(Number::from(v)));
    }

    /// LONG1 / LONG4: little-endian two's complement.
    fn long(&mut self, n: u64) -> Result<(), PickleError> {
        let raw = self.take(n)?;
        let negative = raw.last().is_some_and(|b| b & 0x80 != 0);
        let ext = if negative { 0xff } else { 0 };
        let mut buf = [ext; 16];
        if raw.len() > 16 {
            // Only sign-extension bytes may follow the low 16 bytes.
            if raw[16..].iter().any(|&b| b != ext) || (raw[15] & 0x80 != 0) != negative {
                return Err(PickleError::IntTooLarge);
            }
            buf.copy_from_slice(&raw[..16]);
        } else {
            buf[..raw.len()].copy_from_slice(raw);
        }
        let v = i128::from_le_bytes(buf);
        let num = if let Ok(i) = i64::try_from(v) {
            Number::from(i)
        } else if let Ok(u) = u64::try_from(v) {
            Number::from(u)
        } else {
            return Err(PickleError::IntTooLarge);
        };
        self.push(Obj::Int(num));
        Ok(())
    }

    fn memo_put(&mut self, idx: u64) -> Result<(), PickleError> {
        let top = self.top()?;
        self.memo.insert(idx, top);
        Ok(())
    }

    fn memo_get(&mut self, idx: u64) -> Result<(), PickleError> {
        let id = *self.memo.get(&idx).ok_or(PickleError::MemoMissing(idx))?;
        self.stack.push(id);
        Ok(())
    }

    /// The object a SETITEM(S)/APPEND(S) adds to (below the popped items).
    fn target(&self, code: u8) -> Result<usize, PickleError> {
        let id = self.top()?;
        match (&self.objs[id], code) {
            (Obj::Dict(_), op::SETITEM | op::SETITEMS) => Ok(id),
            (Obj::List(_), op::APPEND | op::APPENDS) => Ok(id),
            _ => Err(PickleError::WrongTarget(code)),
        }
    }

    fn set_items(&mut self, code: u8, items: Vec<usize>) -> Result<(), PickleError> {
        if !items.len().is_multiple_of(2) {
            return Err(PickleError::OddItems);
        }
        let id = self.target(code)?;
        if let Obj::Dict(pairs) = &mut self.objs[id] {
            pairs.extend(items.chunks_exact(2).map(|kv| (kv[0], kv[1])));
        }
        Ok(())
    }

    fn append_items(&mut self, code: u8, items: Vec<usize>) -> Result<(), PickleError> {
        let id = self.target(code)?;
        if let Obj::List(list) = &mut self.objs[id] {
            list.extend(items);
        }
        Ok(())
    }

    /// Runs the pickle machine up to STOP; returns the arena id of the result.
    fn run(&mut self) -> Result<usize, PickleError> {
        loop {
            let code = self.byte()?;
            match code {
                op::PROTO => {
                    let proto = self.byte()?;
                    if proto > HIGHEST_PROTOCOL {
                        return Err(PickleError::UnsupportedProtocol(proto));
                    }
                }
                op::FRAME => {
                    // Frames only group opcodes; check the frame is all there.
                    let len = u64::from_le_bytes(self.le::<8>()?);
                    let remaining = (self.data.len() - self.pos) as u64;
                    if len > remaining {
                        return Err(PickleError::Truncated);
                    }
                }
                op::STOP => return self.pop(),
                op::MARK => self.marks.push(self.stack.len()),
                op::NONE => self.push(Obj::None),
                op::NEWTRUE => self.push(Obj::Bool(true)),
                op::NEWFALSE => self.push(Obj::Bool(false)),
                op::BININT => {
                    let v = i32::from_le_bytes(self.le::<4>()?);
                    self.int(v.into());
                }
                op::BININT1 => {
                    let v = self.byte()?;
                    self.int(v.into());
                }
                op::BININT2 => {
                    let v = u16::from_le_bytes(self.le::<2>()?);
                    self.int(v.into());
                }
                op::LONG1 => {
                    let n = self.byte()?;
                    self.long(n.into())?;
                }
                op::LONG4 => {
                    // A negative length is an error in CPython too.
                    let n = i32::from_le_bytes(self.le::<4>()?);
                    let n = u64::try_from(n).map_err(|_| PickleError::Truncated)?;
                    self.long(n)?;
                }
                op::BINFLOAT => {
                    let v = f64::from_be_bytes(self.le::<8>()?);
                    if !v.is_finite() {
                        return Err(PickleError::NonFiniteFloat);
                    }
                    self.push(Obj::Float(v));
                }
                op::SHORT_BINUNICODE => {
                    let n = self.byte()?;
                    self.string(n.into())?;
                }
                op::BINUNICODE => {
                    let n = u32::from_le_bytes(self.le::<4>()?);
                    self.string(n.into())?;
                }
                op::BINUNICODE8 => {
                    let n = u64::from_le_bytes(self.le::<8>()?);
                    self.string(n)?;
                }
                op::EMPTY_DICT => self.push(Obj::Dict(Vec::new())),
                op::EMPTY_LIST => self.push(Obj::List(Vec::new())),
                op::EMPTY_TUPLE => self.push(Obj::Tuple(Vec::new())),
                op::TUPLE1 | op::TUPLE2 | op::TUPLE3 => {
                    let n = usize::from(code - op::TUPLE1 + 1);
                    if self.stack.len() < self.fence() + n {
                        return Err(PickleError::StackUnderflow);
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Obj::Tuple(items));
                }
                op::TUPLE => {
                    let items = self.pop_mark()?;
                    self.push(Obj::Tuple(items));
                }
                op::LIST => {
                    let items = self.pop_mark()?;
                    self.push(Obj::List(items));
                }
                op::DICT => {
                    let items = self.pop_mark()?;
                    if !items.len().is_multiple_of(2) {
                        return Err(PickleError::OddItems);
                    }
                    let pairs = items.chunks_exact(2).map(|kv| (kv[0], kv[1])).collect();
                    self.push(Obj::Dict(pairs));
                }
                op::SETITEM => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(code, vec![k, v])?;
                }
                op::SETITEMS => {
                    let items = self.pop_mark()?;
                    self.set_items(code, items)?;
                }
                op::APPEND => {
                    let v = self.pop()?;
                    self.append_items(code, vec![v])?;
                }
                op::APPENDS => {
                    let items = self.pop_mark()?;
                    self.append_items(code, items)?;
                }
                op::MEMOIZE => {
                    let idx = self.memo.len() as u64;
                    self.memo_put(idx)?;
                }
                op::BINPUT => {
                    let idx = self.byte()?;
                    self.memo_put(idx.into())?;
                }
                op::LONG_BINPUT => {
                    let idx = u32::from_le_bytes(self.le::<4>()?);
                    self.memo_put(idx.into())?;
                }
                op::BINGET => {
                    let idx = self.byte()?;
                    self.memo_get(idx.into())?;
                }
                op::LONG_BINGET => {
                    let idx = u32::from_le_bytes(self.le::<4>()?);
                    self.memo_get(idx.into())?;
                }
                other => return Err(PickleError::Unsupported(other)),
            }
        }
    }
}

/// Turns the arena graph into a `Value`. Shared objects are copied; the
/// budget stops a small pickle that references one big object many times
/// from exhausting memory, `visiting` stops cycles.
struct Builder<'a> {
    objs: &'a [Obj],
    visiting: Vec<bool>,
    budget: usize,
}

impl Builder<'_> {
    fn charge(&mut self, cost: usize) -> Result<(), PickleError> {
        self.budget = self.budget.checked_sub(cost).ok_or(PickleError::TooLarge)?;
        Ok(())
    }

    fn build(&mut self, id: usize, depth: usize) -> Result<Value, PickleError> {
        if depth > MAX_DEPTH {
            return Err(PickleError::TooDeep);
        }
        self.charge(32)?;
        let objs = self.objs;
        Ok(match &objs[id] {
            Obj::None => Value::Null,
            Obj::Bool(b) => Value::Bool(*b),
            Obj::Int(n) => Value::Number(n.clone()),
            Obj::Float(f) => {
                Value::Number(Number::from_f64(*f).ok_or(PickleError::NonFiniteFloat)?)
            }
            Obj::Str(s) => {
                self.charge(s.len())?;
                Value::String(s.clone())
            }
            Obj::List(items) | Obj::Tuple(items) => {
                self.enter(id)?;
                let mut out = Vec::with_capacity(items.len());
                for &item in items {
                    out.push(self.build(item, depth + 1)?);
                }
                self.visiting[id] = false;
                Value::Array(out)
            }
            Obj::Dict(pairs) => {
                self.enter(id)?;
                let mut out = Map::new();
                for &(k, v) in pairs {
                    let Obj::Str(key) = &objs[k] else {
                        return Err(PickleError::NonStringKey);
                    };
                    self.charge(key.len())?;
                    let value = self.build(v, depth + 1)?;
                    // Like Python's dict: a repeated key keeps its first
                    // position and takes the last value.
                    out.insert(key.clone(), value);
                }
                self.visiting[id] = false;
                Value::Object(out)
            }
        })
    }

    fn enter(&mut self, id: usize) -> Result<(), PickleError> {
        if std::mem::replace(&mut self.visiting[id], true) {
            return Err(PickleError::Recursive);
        }
        Ok(())
    }
}

/// `pickle.loads` for JSON-like objects (protocols 2 to 5, and the subset of
/// 0/1 opcodes CPython still writes for them in binary form: DICT, LIST,
/// TUPLE, BINPUT...). Anything else (datetime, bytes, sets, class
/// instances: GLOBAL/STACK_GLOBAL/REDUCE...) is `Unsupported(opcode)`;
/// truncated or malformed input is an error, never a panic. Bytes after
/// STOP are ignored, as CPython does.
pub fn loads(bytes: &[u8]) -> Result<Value, PickleError> {
    let mut u = Unpickler {
        data: bytes,
        pos: 0,
        objs: Vec::new(),
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
    };
    let root = u.run()?;
    let mut b = Builder {
        objs: &u.objs,
        visiting: vec![false; u.objs.len()],
        // Generous for real data (a shared key costs its length each time it
        // is used), bounded for hostile data.
        budget: (16 << 20) + bytes.len().saturating_mul(256),
    };
    b.build(root, 0)
}

// ---------------------------------------------------------------------------
// dumps
// ---------------------------------------------------------------------------

/// Mirrors `_pickle.c`'s `PicklerObject` writing into its in-memory buffer
/// (`pickle.dumps`, `self->write == NULL`).
struct Pickler<'a> {
    out: Vec<u8>,
    proto: u8,
    framing: bool,
    /// `frame_start`: where the current frame's 9-byte header placeholder is.
    frame_start: Option<usize>,
    memo_len: u32,
    /// Memo index of each singleton string (empty, 1 char below U+0100).
    singletons: HashMap<&'a str, u32>,
    /// Memo index of each dict key (one object per distinct key).
    keys: HashMap<&'a str, u32>,
}

impl<'a> Pickler<'a> {
    /// `_Pickler_Write`: opens a frame (a placeholder header) if none is open.
    fn write(&mut self, data: &[u8]) {
        if self.framing && self.frame_start.is_none() {
            self.frame_start = Some(self.out.len());
            self.out.extend_from_slice(&[0xFE; FRAME_HEADER_SIZE]);
        }
        self.out.extend_from_slice(data);
    }

    /// `_Pickler_CommitFrame`: fills the header in, or removes it when the
    /// frame is shorter than FRAME_SIZE_MIN.
    fn commit_frame(&mut self) {
        if !self.framing {
            return;
        }
        let Some(start) = self.frame_start.take() else {
            return;
        };
        let len = self.out.len() - start - FRAME_HEADER_SIZE;
        if len >= FRAME_SIZE_MIN {
            self.out[start] = op::FRAME;
            self.out[start + 1..start + FRAME_HEADER_SIZE]
                .copy_from_slice(&(len as u64).to_le_bytes());
        } else {
            self.out.drain(start..start + FRAME_HEADER_SIZE);
        }
    }

    /// `_Pickler_OpcodeBoundary`, called at the start of every `save()`.
    fn opcode_boundary(&mut self) {
        if let (true, Some(start)) = (self.framing, self.frame_start) {
            if self.out.len() - start - FRAME_HEADER_SIZE >= FRAME_SIZE_TARGET {
                self.commit_frame();
            }
        }
    }

    /// `memo_put`: returns the index the object got.
    fn memo_put(&mut self) -> u32 {
        let idx = self.memo_len;
        self.memo_len += 1;
        if self.proto >= 4 {
            self.write(&[op::MEMOIZE]);
        } else if idx < 256 {
            self.write(&[op::BINPUT, idx as u8]);
        } else {
            let mut b = [op::LONG_BINPUT, 0, 0, 0, 0];
            b[1..].copy_from_slice(&idx.to_le_bytes());
            self.write(&b);
        }
        idx
    }

    /// `memo_get`.
    fn memo_get(&mut self, idx: u32) {
        if idx < 256 {
            self.write(&[op::BINGET, idx as u8]);
        } else {
            let mut b = [op::LONG_BINGET, 0, 0, 0, 0];
            b[1..].copy_from_slice(&idx.to_le_bytes());
            self.write(&b);
        }
    }

    /// `save()` for a value.
    fn save(&mut self, v: &'a Value) {
        self.opcode_boundary();
        match v {
            Value::Null => self.write(&[op::NONE]),
            Value::Bool(true) => self.write(&[op::NEWTRUE]),
            Value::Bool(false) => self.write(&[op::NEWFALSE]),
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    self.save_long(i.into());
                } else if let Some(u) = n.as_u64() {
                    self.save_long(u.into());
                } else {
                    self.save_float(n.as_f64().unwrap_or(f64::NAN));
                }
            }
            Value::String(s) => self.save_str(s, false),
            Value::Array(items) => self.save_list(items),
            Value::Object(map) => self.save_dict(map),
        }
    }

    /// `save()` for a dict key.
    fn save_key(&mut self, k: &'a str) {
        self.opcode_boundary();
        self.save_str(k, true);
    }

    /// `save_long`: BININT1/BININT2/BININT for what fits a C int, LONG1
    /// (minimal two's complement, `_PyLong_AsByteArray`) for the rest.
    fn save_long(&mut self, x: i128) {
        if let Ok(v) = i32::try_from(x) {
            if !(0..=0xffff).contains(&v) {
                let mut b = [op::BININT, 0, 0, 0, 0];
                b[1..].copy_from_slice(&v.to_le_bytes());
                self.write(&b);
            } else if v > 0xff {
                let mut b = [op::BININT2, 0, 0];
                b[1..].copy_from_slice(&(v as u16).to_le_bytes());
                self.write(&b);
            } else {
                self.write(&[op::BININT1, v as u8]);
            }
            return;
        }
        let nbits = 128 - x.unsigned_abs().leading_zeros() as usize;
        let mut nbytes = nbits / 8 + 1;
        let bytes = x.to_le_bytes();
        // "If the int is negative, this may be a byte more than needed."
        if x < 0 && nbytes > 1 && bytes[nbytes - 1] == 0xff && bytes[nbytes - 2] & 0x80 != 0 {
            nbytes -= 1;
        }
        self.write(&[op::LONG1, nbytes as u8]);
        self.write(&bytes[..nbytes]);
    }

    fn save_float(&mut self, f: f64) {
        let mut b = [op::BINFLOAT, 0, 0, 0, 0, 0, 0, 0, 0];
        b[1..].copy_from_slice(&f.to_be_bytes());
        self.write(&b);
    }

    /// `save_unicode`: the memo check (per the identity model), then
    /// `write_unicode_binary` + `_write_bytes`, then `memo_put`.
    fn save_str(&mut self, s: &'a str, is_key: bool) {
        let singleton = is_singleton(s);
        let known = if singleton {
            self.singletons.get(s)
        } else if is_key {
            self.keys.get(s)
        } else {
            None
        };
        if let Some(&idx) = known {
            self.memo_get(idx);
            return;
        }
        let data = s.as_bytes();
        let n = data.len();
        let mut header = Vec::with_capacity(9);
        if n <= 0xff && self.proto >= 4 {
            header.extend_from_slice(&[op::SHORT_BINUNICODE, n as u8]);
        } else if let Ok(n32) = u32::try_from(n) {
            header.push(op::BINUNICODE);
            header.extend_from_slice(&n32.to_le_bytes());
        } else {
            // CPython refuses > 4 GiB strings below protocol 4.
            header.push(op::BINUNICODE8);
            header.extend_from_slice(&(n as u64).to_le_bytes());
        }
        // `_write_bytes`: large data is written outside any frame.
        let framing = self.framing;
        if n >= FRAME_SIZE_TARGET {
            self.commit_frame();
            self.framing = false;
        }
        self.write(&header);
        self.write(data);
        self.framing = framing;
        let idx = self.memo_put();
        if singleton {
            self.singletons.insert(s, idx);
        } else if is_key {
            self.keys.insert(s, idx);
        }
    }

    /// `save_list` + `batch_list_exact`: one item is `APPEND`; more are
    /// batches of 1000 in MARK ... APPENDS (a last batch of one included).
    fn save_list(&mut self, items: &'a [Value]) {
        self.write(&[op::EMPTY_LIST]);
        self.memo_put();
        match items.len() {
            0 => {}
            1 => {
                self.save(&items[0]);
                self.write(&[op::APPEND]);
            }
            _ => {
                for batch in items.chunks(BATCHSIZE) {
                    self.write(&[op::MARK]);
                    for item in batch {
                        self.save(item);
                    }
                    self.write(&[op::APPENDS]);
                }
            }
        }
    }

    /// `save_dict` + `batch_dict_exact`: one item is `SETITEM`; more are
    /// batches of 1000 in MARK ... SETITEMS, and, unlike lists, a dict whose
    /// size is a multiple of 1000 gets a trailing empty `MARK SETITEMS`
    /// (the C loop runs again after every full batch).
    fn save_dict(&mut self, map: &'a Map<String, Value>) {
        self.write(&[op::EMPTY_DICT]);
        self.memo_put();
        match map.len() {
            0 => {}
            1 => {
                let (k, v) = map.iter().next().expect("one item");
                self.save_key(k);
                self.save(v);
                self.write(&[op::SETITEM]);
            }
            _ => {
                let mut it = map.iter();
                loop {
                    self.write(&[op::MARK]);
                    let mut i = 0;
                    for (k, v) in it.by_ref() {
                        self.save_key(k);
                        self.save(v);
                        i += 1;
                        if i == BATCHSIZE {
                            break;
                        }
                    }
                    self.write(&[op::SETITEMS]);
                    if i != BATCHSIZE {
                        break;
                    }
                }
            }
        }
    }
}

/// The strings CPython keeps one object of: `""` and every 1-character
/// string with a code point below 256 (`unicode_latin1` / `get_latin1_char`).
fn is_singleton(s: &str) -> bool {
    let mut chars = s.chars();
    match chars.next() {
        None => true,
        Some(c) => (c as u32) < 256 && chars.next().is_none(),
    }
}

/// `pickle.dumps(obj, protocol)` with CPython's C pickler, byte for byte,
/// where `obj` is `value` as Python holds it (JSON integers are `int`,
/// other numbers `float`; see the module docs for the identity model).
///
/// `protocol` must be 2 to 5 (the caller validates configuration;
/// `PICKLE_VERSION = -1` means [`HIGHEST_PROTOCOL`]). Protocols 0 and 1 are
/// not implemented and panic.
pub fn dumps(value: &Value, protocol: u8) -> Vec<u8> {
    assert!(
        (2..=HIGHEST_PROTOCOL).contains(&protocol),
        "pickle protocol {protocol} is not supported (2 to 5)"
    );
    let mut p = Pickler {
        out: Vec::with_capacity(256),
        proto: protocol,
        framing: false,
        frame_start: None,
        memo_len: 0,
        singletons: HashMap::new(),
        keys: HashMap::new(),
    };
    // `dump()`: PROTO is written before framing starts.
    p.write(&[op::PROTO, protocol]);
    p.framing = protocol >= 4;
    p.save(value);
    p.write(&[op::STOP]);
    p.commit_frame();
    p.out
}

#[cfg(test)]
mod tests {
    //! Vectors from real CPython: `/tmp/pk/gen_vectors.py` printed the
    //! constants below with CPython 3.10.13 and 3.12.1 (identical output;
    //! the script also asserts that protocol 4 differs from protocol 5 only
    //! in the PROTO argument, and protocol 3 from 2 likewise, for every
    //! vector). Each constant carries the Python expression that made it.

    use super::*;
    use sha2::{Digest, Sha256};

    struct SmallVector {
        name: &'static str,
        json: &'static str,
        p5: &'static str,
        p2: &'static str,
    }

    struct CycleVector {
        name: &'static str,
        json: &'static str,
        key: &'static str,
        value: &'static str,
        p5: &'static str,
    }

    struct BigVector {
        name: &'static str,
        p5_len: usize,
        p5_sha256: &'static str,
        p2_sha256: &'static str,
    }

    struct LoadsVector {
        name: &'static str,
        pickle: &'static str,
        json: &'static str,
    }

    struct LoadsErrVector {
        name: &'static str,
        pickle: &'static str,
        error: PickleError,
    }

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    fn sha256_hex(b: &[u8]) -> String {
        hex(&Sha256::digest(b))
    }

    /// The same bytes with another PROTO argument.
    fn with_proto(b: &[u8], proto: u8) -> Vec<u8> {
        let mut b = b.to_vec();
        assert_eq!(b[0], op::PROTO);
        b[1] = proto;
        b
    }

    fn json(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    // Generated by /tmp/pk/gen_vectors.py (CPython 3.10.13 and 3.12.1 agree).
    const SMALL: &[SmallVector] = &[
        // J = json.dumps({"_auth_user_id": "1", "_auth_user_backend": "django.contrib.auth.backends.ModelBackend", "_auth_user_hash": '3b5f0c6e1d2a4b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e'}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "typical",
            json: r##"{"_auth_user_id":"1","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"3b5f0c6e1d2a4b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"}"##,
            p5: "800595af000000000000007d94288c0d5f617574685f757365725f6964948c0131948c125f617574685f757365725f6261636b656e64948c29646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e64948c0f5f617574685f757365725f68617368948c403362356630633665316432613462386339643065316632613362346335643665376638303931613262336334643565366637303831393261336234633564366594752e",
            p2: "80027d710028580d0000005f617574685f757365725f69647101580100000031710258120000005f617574685f757365725f6261636b656e6471035829000000646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e647104580f0000005f617574685f757365725f6861736871055840000000336235663063366531643261346238633964306531663261336234633564366537663830393161326233633464356536663730383139326133623463356436657106752e",
        },
        // J = json.dumps({"_auth_user_id": "42", "_auth_user_backend": "django.contrib.auth.backends.ModelBackend", "_auth_user_hash": '3b5f0c6e1d2a4b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e', "_session_expiry": 1209600}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "typical_expiry",
            json: r##"{"_auth_user_id":"42","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"3b5f0c6e1d2a4b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e","_session_expiry":1209600}"##,
            p5: "800595c7000000000000007d94288c0d5f617574685f757365725f6964948c023432948c125f617574685f757365725f6261636b656e64948c29646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e64948c0f5f617574685f757365725f68617368948c4033623566306336653164326134623863396430653166326133623463356436653766383039316132623363346435653666373038313932613362346335643665948c0f5f73657373696f6e5f657870697279944a00751200752e",
            p2: "80027d710028580d0000005f617574685f757365725f6964710158020000003432710258120000005f617574685f757365725f6261636b656e6471035829000000646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e647104580f0000005f617574685f757365725f6861736871055840000000336235663063366531643261346238633964306531663261336234633564366537663830393161326233633464356536663730383139326133623463356436657106580f0000005f73657373696f6e5f65787069727971074a00751200752e",
        },
        // J = json.dumps({"_csrftoken": "Zx9mQ2k8VbLr3TnW5yHc7JdF1gPs4AeU"}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "csrf_session",
            json: r##"{"_csrftoken":"Zx9mQ2k8VbLr3TnW5yHc7JdF1gPs4AeU"}"##,
            p5: "80059534000000000000007d948c0a5f63737266746f6b656e948c205a78396d51326b3856624c7233546e5735794863374a6446316750733441655594732e",
            p2: "80027d7100580a0000005f63737266746f6b656e710158200000005a78396d51326b3856624c7233546e5735794863374a644631675073344165557102732e",
        },
        // J = json.dumps({"_session_expiry": 0, "a": 300, "b": 70000, "c": 1700000000}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "expiry_small",
            json: r##"{"_session_expiry":0,"a":300,"b":70000,"c":1700000000}"##,
            p5: "80059532000000000000007d94288c0f5f73657373696f6e5f657870697279944b008c0161944d2c018c0162944a701101008c0163944a00f15365752e",
            p2: "80027d710028580f0000005f73657373696f6e5f65787069727971014b0058010000006171024d2c0158010000006271034a7011010058010000006371044a00f15365752e",
        },
        // J = json.dumps({"a": {"k1": "xy", "k2": "xy"}, "b": {"k1": "1", "k2": "1"}, "l": [[], {}, [1], {"k1": None}], "k1": "k1"}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "nested",
            json: r##"{"a":{"k1":"xy","k2":"xy"},"b":{"k1":"1","k2":"1"},"l":[[],{},[1],{"k1":null}],"k1":"k1"}"##,
            p5: "80059551000000000000007d94288c0161947d94288c026b31948c027879948c026b32948c02787994758c0162947d942868038c01319468056809758c016c945d94285d947d945d944b01617d9468034e736568038c026b3194752e",
            p2: "80027d71002858010000006171017d71022858020000006b31710358020000007879710458020000006b3271055802000000787971067558010000006271077d71082868035801000000317109680568097558010000006c710a5d710b285d710c7d710d5d710e4b01617d710f68034e7365680358020000006b317110752e",
        },
        // J = json.dumps({"key": "key", "n": {"key": "key", "m": {"key": "key"}}}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "keys_shared_values_not",
            json: r##"{"key":"key","n":{"key":"key","m":{"key":"key"}}}"##,
            p5: "80059530000000000000007d94288c036b6579948c036b6579948c016e947d942868018c036b6579948c016d947d9468018c036b6579947375752e",
            p2: "80027d71002858030000006b6579710158030000006b6579710258010000006e71037d710428680158030000006b6579710558010000006d71067d7107680158030000006b657971087375752e",
        },
        // J = json.dumps({"\u00fc": "\u65e5\u672c\u8a9e", "e": "\u00e9", "e2": "\u00e9", "j": "\u65e5", "j2": "\u65e5", "emoji": "\U0001f600", "emoji2": "\U0001f600", "nul": "\u0000", "\u00ff": "\u00ff", "\u0100": "\u0100", "x\u0100": "\u0100", "mixed": "a\u00e9\u20ac\U0001f600"}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "unicode",
            json: r##"{"\u00fc":"\u65e5\u672c\u8a9e","e":"\u00e9","e2":"\u00e9","j":"\u65e5","j2":"\u65e5","emoji":"\ud83d\ude00","emoji2":"\ud83d\ude00","nul":"\u0000","\u00ff":"\u00ff","\u0100":"\u0100","x\u0100":"\u0100","mixed":"a\u00e9\u20ac\ud83d\ude00"}"##,
            p5: "80059595000000000000007d94288c02c3bc948c09e697a5e69cace8aa9e948c0165948c02c3a9948c0265329468048c016a948c03e697a5948c026a32948c03e697a5948c05656d6f6a69948c04f09f9880948c06656d6f6a6932948c04f09f9880948c036e756c948c0100948c02c3bf9468108c02c480948c02c480948c0378c480948c02c480948c056d69786564948c0a61c3a9e282acf09f988094752e",
            p2: "80027d7100285802000000c3bc71015809000000e697a5e69cace8aa9e710258010000006571035802000000c3a97104580200000065327105680458010000006a71065803000000e697a5710758020000006a3271085803000000e697a571095805000000656d6f6a69710a5804000000f09f9880710b5806000000656d6f6a6932710c5804000000f09f9880710d58030000006e756c710e580100000000710f5802000000c3bf711068105802000000c48071115802000000c4807112580300000078c48071135802000000c480711458050000006d697865647115580a00000061c3a9e282acf09f98807116752e",
        },
        // J = json.dumps({"s255": "x" * 255, "s256": "x" * 256, "u256": "\u00e9" * 128, "s300": "ab" * 150}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "str_255_256",
            json: r##"{"s255":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","s256":"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx","u256":"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9","s300":"abababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababababab"}"##,
            p5: "80059561040000000000007d94288c0473323535948cff787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878948c047332353694580001000078787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878948c0475323536945800010000c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9948c047333303094582c01000061626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616294752e",
            p2: "80027d710028580400000073323535710158ff00000078787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787871025804000000733235367103580001000078787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878787878710458040000007532353671055800010000c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a9c3a971065804000000733330307107582c0100006162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261626162616261627108752e",
        },
        // J = json.dumps({"a": "1", "b": "1", "c": "", "d": "", "e": "\u00e9", "f": "a", "g": ["1", "", "", "a", "\u00e9"], "1": "1", "": ""}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "one_char_singletons",
            json: r##"{"a":"1","b":"1","c":"","d":"","e":"\u00e9","f":"a","g":["1","","","a","\u00e9"],"1":"1","":""}"##,
            p5: "80059549000000000000007d94288c0161948c0131948c01629468028c0163948c00948c01649468058c0165948c02c3a9948c01669468018c0167945d942868026805680568016808656802680268056805752e",
            p2: "80027d71002858010000006171015801000000317102580100000062710368025801000000637104580000000071055801000000647106680558010000006571075802000000c3a9710858010000006671096801580100000067710a5d710b2868026805680568016808656802680268056805752e",
        },
        // J = json.dumps({}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "empty_dict",
            json: r##"{}"##,
            p5: "80057d942e",
            p2: "80027d71002e",
        },
        // J = json.dumps([], separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "empty_list",
            json: r##"[]"##,
            p5: "80055d942e",
            p2: "80025d71002e",
        },
        // J = json.dumps({"d": {}, "l": [], "ll": [[], []], "dd": [{}, {}]}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "empty_containers",
            json: r##"{"d":{},"l":[],"ll":[[],[]],"dd":[{},{}]}"##,
            p5: "8005952b000000000000007d94288c0164947d948c016c945d948c026c6c945d94285d945d94658c026464945d94287d947d9465752e",
            p2: "80027d71002858010000006471017d710258010000006c71035d710458020000006c6c71055d7106285d71075d7108655802000000646471095d710a287d710b7d710c65752e",
        },
        // J = json.dumps([0, 1, 255, 256, 65535, 65536, 2**31 - 1, 2**31, -1, -128, -129, -255, -256, -32768, -32769, -2**31, -2**31 - 1, 2**32, 2**39, -2**39, -2**40, 2**47, -2**55, 2**56, 2**63 - 1, -2**63, 2**63, 2**64 - 1], separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "ints",
            json: r##"[0,1,255,256,65535,65536,2147483647,2147483648,-1,-128,-129,-255,-256,-32768,-32769,-2147483648,-2147483649,4294967296,549755813888,-549755813888,-1099511627776,140737488355328,-36028797018963968,72057594037927936,9223372036854775807,-9223372036854775808,9223372036854775808,18446744073709551615]"##,
            p5: "800595b5000000000000005d94284b004b014bff4d00014dffff4a000001004affffff7f8a0500000080004affffffff4a80ffffff4a7fffffff4a01ffffff4a00ffffff4a0080ffff4aff7fffff4a000000808a05ffffff7fff8a0500000000018a060000000080008a0500000000808a060000000000ff8a07000000000080008a07000000000000808a0800000000000000018a08ffffffffffffff7f8a0800000000000000808a090000000000000080008a09ffffffffffffffff00652e",
            p2: "80025d7100284b004b014bff4d00014dffff4a000001004affffff7f8a0500000080004affffffff4a80ffffff4a7fffffff4a01ffffff4a00ffffff4a0080ffff4aff7fffff4a000000808a05ffffff7fff8a0500000000018a060000000080008a0500000000808a060000000000ff8a07000000000080008a07000000000000808a0800000000000000018a08ffffffffffffff7f8a0800000000000000808a090000000000000080008a09ffffffffffffffff00652e",
        },
        // J = json.dumps([0.0, -0.0, 1.5, 0.1, 1e300, 5e-324, -2.5, 1e16, 1.7976931348623157e308, 1.0], separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "floats",
            json: r##"[0.0,-0.0,1.5,0.1,1e+300,5e-324,-2.5,1e+16,1.7976931348623157e+308,1.0]"##,
            p5: "8005955f000000000000005d9428470000000000000000478000000000000000473ff8000000000000473fb999999999999a477e37e43c8800759c47000000000000000147c004000000000000474341c37937e08000477fefffffffffffff473ff0000000000000652e",
            p2: "80025d710028470000000000000000478000000000000000473ff8000000000000473fb999999999999a477e37e43c8800759c47000000000000000147c004000000000000474341c37937e08000477fefffffffffffff473ff0000000000000652e",
        },
        // J = json.dumps({"t": True, "f": False, "n": None, "l": [True, False, None]}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "bools_none",
            json: r##"{"t":true,"f":false,"n":null,"l":[true,false,null]}"##,
            p5: "8005951f000000000000007d94288c017494888c016694898c016e944e8c016c945d942888894e65752e",
            p2: "80027d71002858010000007471018858010000006671028958010000006e71034e58010000006c71045d71052888894e65752e",
        },
        // J = json.dumps({"k": ["v"], "d": {"x": {"y": 1}}}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "single_items",
            json: r##"{"k":["v"],"d":{"x":{"y":1}}}"##,
            p5: "80059524000000000000007d94288c016b945d948c017694618c0164947d948c0178947d948c0179944b017373752e",
            p2: "80027d71002858010000006b71015d710258010000007671036158010000006471047d710558010000007871067d710758010000007971084b017373752e",
        },
        // J = json.dumps("hello", separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "top_str",
            json: r##""hello""##,
            p5: "80059509000000000000008c0568656c6c6f942e",
            p2: "8002580500000068656c6c6f71002e",
        },
        // J = json.dumps(5, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "top_int",
            json: r##"5"##,
            p5: "80054b052e",
            p2: "80024b052e",
        },
        // J = json.dumps(None, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "top_none",
            json: r##"null"##,
            p5: "80054e2e",
            p2: "80024e2e",
        },
        // J = json.dumps("a", separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        SmallVector {
            name: "top_1char",
            json: r##""a""##,
            p5: "80059505000000000000008c0161942e",
            p2: "800258010000006171002e",
        },
    ];

    const CYCLE: &[CycleVector] = &[
        // d = pickle.loads(pickle.dumps(json.loads(J), 5)); d["_auth_user_hash"] = "".join(["f"] * 64); p5 = pickle.dumps(d, 5)
        CycleVector {
            name: "cycle_hash",
            json: r##"{"_auth_user_id":"42","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"3b5f0c6e1d2a4b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e","_session_expiry":1209600}"##,
            key: "_auth_user_hash",
            value: "ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
            p5: "800595c7000000000000007d94288c0d5f617574685f757365725f6964948c023432948c125f617574685f757365725f6261636b656e64948c29646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e64948c0f5f617574685f757365725f68617368948c4066666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666666948c0f5f73657373696f6e5f657870697279944a00751200752e",
        },
        // d = pickle.loads(pickle.dumps(json.loads(J), 5)); d["_csrftoken"] = "".join(["Q"] * 32); p5 = pickle.dumps(d, 5)
        CycleVector {
            name: "cycle_csrf",
            json: r##"{"_csrftoken":"Zx9mQ2k8VbLr3TnW5yHc7JdF1gPs4AeU"}"##,
            key: "_csrftoken",
            value: "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            p5: "80059534000000000000007d948c0a5f63737266746f6b656e948c20515151515151515151515151515151515151515151515151515151515151515194732e",
        },
        // d = pickle.loads(pickle.dumps(json.loads(J), 5)); d["_csrftoken"] = "".join(["Q"] * 32); p5 = pickle.dumps(d, 5)
        CycleVector {
            name: "cycle_new_key",
            json: r##"{"_auth_user_id":"1","_auth_user_backend":"django.contrib.auth.backends.ModelBackend","_auth_user_hash":"3b5f0c6e1d2a4b8c9d0e1f2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e"}"##,
            key: "_csrftoken",
            value: "QQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQQ",
            p5: "800595df000000000000007d94288c0d5f617574685f757365725f6964948c0131948c125f617574685f757365725f6261636b656e64948c29646a616e676f2e636f6e747269622e617574682e6261636b656e64732e4d6f64656c4261636b656e64948c0f5f617574685f757365725f68617368948c4033623566306336653164326134623863396430653166326133623463356436653766383039316132623363346435653666373038313932613362346335643665948c0a5f63737266746f6b656e948c20515151515151515151515151515151515151515151515151515151515151515194752e",
        },
        // d = pickle.loads(pickle.dumps(json.loads(J), 5)); d["b"] = "".join(["z"] * 3); p5 = pickle.dumps(d, 5)
        CycleVector {
            name: "cycle_nested",
            json: r##"{"a":{"k1":"xy","k2":"xy"},"b":{"k1":"1","k2":"1"},"l":[[],{},[1],{"k1":null}],"k1":"k1"}"##,
            key: "b",
            value: "zzz",
            p5: "80059549000000000000007d94288c0161947d94288c026b31948c027879948c026b32948c02787994758c0162948c037a7a7a948c016c945d94285d947d945d944b01617d9468034e736568038c026b3194752e",
        },
    ];

    const BIG: &[BigVector] = &[
        // J = json.dumps({"s": "x" * 65535}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "str_65535",
            p5_len: 65560,
            p5_sha256: "1f1d5022ee0cbffd331fa892a0aaae2be7338025d07b054476dd207a4fef9286",
            p2_sha256: "d342c4539141447ff09fecd389a177479a00602b071670202a0aaeb275d94397",
        },
        // J = json.dumps({"s": "x" * 65536}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "str_65536",
            p5_len: 65561,
            p5_sha256: "006568ad8e0f5f479bd2a3804c627b8944dad49d961ae82b229b542b64358505",
            p2_sha256: "a2b3e842abfdecf1596a8866ecea46e6aa659154433ccf8fdc1e8a7851f2310a",
        },
        // J = json.dumps({"a": "b", "s": "x" * 70000, "t": "c"}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "str_70000",
            p5_len: 70051,
            p5_sha256: "4107368489d6977b6b650d9604c667b11b2114350d530791037dfcdc65f1be99",
            p2_sha256: "ad08ca1efc685744006c1fa86a7e817f77b9338bf2065397fc35d8272ceac5bf",
        },
        // J = json.dumps({"x" * 70000: 1, "k": "x" * 70000}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "key_70000",
            p5_len: 140034,
            p5_sha256: "3d0dc008af158240a80956f1d8a5b8b66e28855d310418ad3629b352280c0f54",
            p2_sha256: "b624b4b1db7f8356de421ede2089a39351b0f110a0886284af8c557c851e2b2a",
        },
        // J = json.dumps({"e": "\u00e9" * 40000, "f": "\U0001f600" * 20000}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "unicode_80000_bytes",
            p5_len: 160045,
            p5_sha256: "03f7fdf472fcc284340955778a94f61a6edaf39f5904198437681f269e772143",
            p2_sha256: "9894ab3eaff210fc669cd873f7dc19f56d15266c47f1f7d2a0322917eb872dee",
        },
        // J = json.dumps({"k%d" % i: i for i in range(1000)}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "keys_1000",
            p5_len: 9652,
            p5_sha256: "8ed5f1258fc14f3c7fb3d694967351aa6376aa38a79f34532c48c2c904a03f8c",
            p2_sha256: "4c419e623f3fffbd83f3105c3e637c5d364e83796364ba8fdf43e8de56c633b8",
        },
        // J = json.dumps({"k%d" % i: i for i in range(1001)}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "keys_1001",
            p5_len: 9663,
            p5_sha256: "b57fb0451f0769abeb6940f786e49ee2678829119b30333bf9ea414fe79acce3",
            p2_sha256: "5f7e312181dee612c435874e4e1ef89726cbb39d7b4eb2e9ac96adeab46e9b53",
        },
        // J = json.dumps({"k%d" % i: i for i in range(2000)}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "keys_2000",
            p5_len: 20654,
            p5_sha256: "87e91f03ea19ca4cd83556161e972cac1cd789eccf69065573afc6d49ef8b1e7",
            p2_sha256: "82e667d9f2d86a69cc601829cd3867548fc3ad84a825355ddeb22c7e92aa7cc4",
        },
        // J = json.dumps({"k%d" % i: str(i) for i in range(2500)}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "keys_2500",
            p5_len: 35300,
            p5_sha256: "ab407a96955f401b4248fd970a2cff1b805f6ab53c0a414610675e93aa710977",
            p2_sha256: "c3cca32fc7515cdc33acdc95ca497310f7b6a5c335b307116d96a040eda02c42",
        },
        // J = json.dumps({"l": list(range(1000))}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "list_1000",
            p5_len: 2767,
            p5_sha256: "8a92312fbfce7708cefe850b4abe565d02fcbc9a64025700b5e66b364373c733",
            p2_sha256: "cfb3e7f8bd07e55890ac4cb6a8b1af7dc8951143a4b33f3a1b44616865d2f3ef",
        },
        // J = json.dumps({"l": list(range(1001))}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "list_1001",
            p5_len: 2772,
            p5_sha256: "74fb92e4351de9c4f1766f5c0f8e0a79785587fc99ad8b36e2fd49ab97924dec",
            p2_sha256: "117718188b9445ad2379c7f8fa21fc071cb3647d7da51274bb08cb16e8c6ef31",
        },
        // J = json.dumps({"l": [str(i % 7) for i in range(2001)]}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "list_2001",
            p5_len: 4043,
            p5_sha256: "796daac5069ae1033b937fb3b4927a35a798443f1f4bcae3de26c93fd77f08df",
            p2_sha256: "2a7952622cc4faf505c0ba138863a19375e8519224c9e691410ca14b61caec30",
        },
        // J = json.dumps({"k%05d" % i: "v" * (i % 300) for i in range(3000)}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "frames_many",
            p5_len: 485878,
            p5_sha256: "7b090b4de0577d87e51d5805469dd98e8d4268695e4d1e86fd197e475b28413b",
            p2_sha256: "94fe17717bc8f7939a74c11ae1dcfa6eedcae268b2e0494fa6e424b8df46ca59",
        },
        // J = json.dumps({"a": "y" * 100, "big": "z" * 70000, "b": [str(i) for i in range(20000)], "big2": "w" * 65536, "c": {"k%d" % i: "%d" % i for i in range(5000)}, "end": "x" * 65530}, separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "frames_mixed",
            p5_len: 422985,
            p5_sha256: "0b26709b64168c42980585d9f6fff450ec5985cfd1dfd7b6e18c6e1c4ed9adb2",
            p2_sha256: "489e9fd9a38058bbb388870c5b7e8025c00986f078021cb35f419c9ec7c63ea6",
        },
        // J = json.dumps([{"key%d" % i: i} for i in range(300)] + [{"key%d" % i: "v"} for i in range(300)], separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "memo_long_binget",
            p5_len: 7668,
            p5_sha256: "021abab8463bd6cab7c02b1f03714db7236f238ddbfd1edaedc8ef406fc385ed",
            p2_sha256: "5caaf643edbb148ca56bf13b1bb699fdfdd6c06962754c7d62cdfb30e6d369a5",
        },
        // J = json.dumps(json.loads("[" * 100 + "]" * 100), separators=(",", ":"))
        // p5 = pickle.dumps(json.loads(J), 5); p2 = pickle.dumps(json.loads(J), 2)
        BigVector {
            name: "deep_nesting",
            p5_len: 311,
            p5_sha256: "f2695563972345810fd85a0e77cc5492dad13f3b8c55ce1ab36b7834b268d65c",
            p2_sha256: "902cfcecb4b09b4c9b032720f5bb0dfbbbdaa5cc9638c670a8a2825c727b5c40",
        },
    ];

    const LOADS_OK: &[LoadsVector] = &[
        // l = [1, "a"]; obj = {"a": l, "b": l}; pickle.dumps(obj, 5)
        LoadsVector {
            name: "shared_list",
            pickle: "80059517000000000000007d94288c0161945d94284b016801658c0162946802752e",
            json: r##"{"a":[1,"a"],"b":[1,"a"]}"##,
        },
        // obj = {"t0": (), "t1": (1,), "t2": (1, "x"), "t3": (1, 2, 3), "t4": (1, 2, 3, 4)}; pickle.dumps(obj, 5)
        LoadsVector {
            name: "tuples",
            pickle: "8005953e000000000000007d94288c02743094298c027431944b0185948c027432944b018c01789486948c027433944b014b024b0387948c02743494284b014b024b034b047494752e",
            json: r##"{"t0":[],"t1":[1],"t2":[1,"x"],"t3":[1,2,3],"t4":[1,2,3,4]}"##,
        },
        // obj = [{"key%d" % i: i} for i in range(300)] + [{"key%d" % i: 0} for i in range(300)]; pickle.dumps(obj, 3)
        LoadsVector {
            name: "proto3_memo",
            pickle: "80035d7100287d710158040000006b65793071024b00737d710358040000006b65793171044b01737d710558040000006b65793271064b02737d710758040000006b65793371084b03737d710958040000006b657934710a4b04737d710b58040000006b657935710c4b05737d710d58040000006b657936710e4b06737d710f58040000006b65793771104b07737d711158040000006b65793871124b08737d711358040000006b65793971144b09737d711558050000006b6579313071164b0a737d711758050000006b6579313171184b0b737d711958050000006b65793132711a4b0c737d711b58050000006b65793133711c4b0d737d711d58050000006b65793134711e4b0e737d711f58050000006b6579313571204b0f737d712158050000006b6579313671224b10737d712358050000006b6579313771244b11737d712558050000006b6579313871264b12737d712758050000006b6579313971284b13737d712958050000006b65793230712a4b14737d712b58050000006b65793231712c4b15737d712d58050000006b65793232712e4b16737d712f58050000006b6579323371304b17737d713158050000006b6579323471324b18737d713358050000006b6579323571344b19737d713558050000006b6579323671364b1a737d713758050000006b6579323771384b1b737d713958050000006b65793238713a4b1c737d713b58050000006b65793239713c4b1d737d713d58050000006b65793330713e4b1e737d713f58050000006b6579333171404b1f737d714158050000006b6579333271424b20737d714358050000006b6579333371444b21737d714558050000006b6579333471464b22737d714758050000006b6579333571484b23737d714958050000006b65793336714a4b24737d714b58050000006b65793337714c4b25737d714d58050000006b65793338714e4b26737d714f58050000006b6579333971504b27737d715158050000006b6579343071524b28737d715358050000006b6579343171544b29737d715558050000006b6579343271564b2a737d715758050000006b6579343371584b2b737d715958050000006b65793434715a4b2c737d715b58050000006b65793435715c4b2d737d715d58050000006b65793436715e4b2e737d715f58050000006b6579343771604b2f737d716158050000006b6579343871624b30737d716358050000006b6579343971644b31737d716558050000006b6579353071664b32737d716758050000006b6579353171684b33737d716958050000006b65793532716a4b34737d716b58050000006b65793533716c4b35737d716d58050000006b65793534716e4b36737d716f58050000006b6579353571704b37737d717158050000006b6579353671724b38737d717358050000006b6579353771744b39737d717558050000006b6579353871764b3a737d717758050000006b6579353971784b3b737d717958050000006b65793630717a4b3c737d717b58050000006b65793631717c4b3d737d717d58050000006b65793632717e4b3e737d717f58050000006b6579363371804b3f737d718158050000006b6579363471824b40737d718358050000006b6579363571844b41737d718558050000006b6579363671864b42737d718758050000006b6579363771884b43737d718958050000006b65793638718a4b44737d718b58050000006b65793639718c4b45737d718d58050000006b65793730718e4b46737d718f58050000006b6579373171904b47737d719158050000006b6579373271924b48737d719358050000006b6579373371944b49737d719558050000006b6579373471964b4a737d719758050000006b6579373571984b4b737d719958050000006b65793736719a4b4c737d719b58050000006b65793737719c4b4d737d719d58050000006b65793738719e4b4e737d719f58050000006b6579373971a04b4f737d71a158050000006b6579383071a24b50737d71a358050000006b6579383171a44b51737d71a558050000006b6579383271a64b52737d71a758050000006b6579383371a84b53737d71a958050000006b6579383471aa4b54737d71ab58050000006b6579383571ac4b55737d71ad58050000006b6579383671ae4b56737d71af58050000006b6579383771b04b57737d71b158050000006b6579383871b24b58737d71b358050000006b6579383971b44b59737d71b558050000006b6579393071b64b5a737d71b758050000006b6579393171b84b5b737d71b958050000006b6579393271ba4b5c737d71bb58050000006b6579393371bc4b5d737d71bd58050000006b6579393471be4b5e737d71bf58050000006b6579393571c04b5f737d71c158050000006b6579393671c24b60737d71c358050000006b6579393771c44b61737d71c558050000006b6579393871c64b62737d71c758050000006b6579393971c84b63737d71c958060000006b657931303071ca4b64737d71cb58060000006b657931303171cc4b65737d71cd58060000006b657931303271ce4b66737d71cf58060000006b657931303371d04b67737d71d158060000006b657931303471d24b68737d71d358060000006b657931303571d44b69737d71d558060000006b657931303671d64b6a737d71d758060000006b657931303771d84b6b737d71d958060000006b657931303871da4b6c737d71db58060000006b657931303971dc4b6d737d71dd58060000006b657931313071de4b6e737d71df58060000006b657931313171e04b6f737d71e158060000006b657931313271e24b70737d71e358060000006b657931313371e44b71737d71e558060000006b657931313471e64b72737d71e758060000006b657931313571e84b73737d71e958060000006b657931313671ea4b74737d71eb58060000006b657931313771ec4b75737d71ed58060000006b657931313871ee4b76737d71ef58060000006b657931313971f04b77737d71f158060000006b657931323071f24b78737d71f358060000006b657931323171f44b79737d71f558060000006b657931323271f64b7a737d71f758060000006b657931323371f84b7b737d71f958060000006b657931323471fa4b7c737d71fb58060000006b657931323571fc4b7d737d71fd58060000006b657931323671fe4b7e737d71ff58060000006b657931323772000100004b7f737d720101000058060000006b657931323872020100004b80737d720301000058060000006b657931323972040100004b81737d720501000058060000006b657931333072060100004b82737d720701000058060000006b657931333172080100004b83737d720901000058060000006b6579313332720a0100004b84737d720b01000058060000006b6579313333720c0100004b85737d720d01000058060000006b6579313334720e0100004b86737d720f01000058060000006b657931333572100100004b87737d721101000058060000006b657931333672120100004b88737d721301000058060000006b657931333772140100004b89737d721501000058060000006b657931333872160100004b8a737d721701000058060000006b657931333972180100004b8b737d721901000058060000006b6579313430721a0100004b8c737d721b01000058060000006b6579313431721c0100004b8d737d721d01000058060000006b6579313432721e0100004b8e737d721f01000058060000006b657931343372200100004b8f737d722101000058060000006b657931343472220100004b90737d722301000058060000006b657931343572240100004b91737d722501000058060000006b657931343672260100004b92737d722701000058060000006b657931343772280100004b93737d722901000058060000006b6579313438722a0100004b94737d722b01000058060000006b6579313439722c0100004b95737d722d01000058060000006b6579313530722e0100004b96737d722f01000058060000006b657931353172300100004b97737d723101000058060000006b657931353272320100004b98737d723301000058060000006b657931353372340100004b99737d723501000058060000006b657931353472360100004b9a737d723701000058060000006b657931353572380100004b9b737d723901000058060000006b6579313536723a0100004b9c737d723b01000058060000006b6579313537723c0100004b9d737d723d01000058060000006b6579313538723e0100004b9e737d723f01000058060000006b657931353972400100004b9f737d724101000058060000006b657931363072420100004ba0737d724301000058060000006b657931363172440100004ba1737d724501000058060000006b657931363272460100004ba2737d724701000058060000006b657931363372480100004ba3737d724901000058060000006b6579313634724a0100004ba4737d724b01000058060000006b6579313635724c0100004ba5737d724d01000058060000006b6579313636724e0100004ba6737d724f01000058060000006b657931363772500100004ba7737d725101000058060000006b657931363872520100004ba8737d725301000058060000006b657931363972540100004ba9737d725501000058060000006b657931373072560100004baa737d725701000058060000006b657931373172580100004bab737d725901000058060000006b6579313732725a0100004bac737d725b01000058060000006b6579313733725c0100004bad737d725d01000058060000006b6579313734725e0100004bae737d725f01000058060000006b657931373572600100004baf737d726101000058060000006b657931373672620100004bb0737d726301000058060000006b657931373772640100004bb1737d726501000058060000006b657931373872660100004bb2737d726701000058060000006b657931373972680100004bb3737d726901000058060000006b6579313830726a0100004bb4737d726b01000058060000006b6579313831726c0100004bb5737d726d01000058060000006b6579313832726e0100004bb6737d726f01000058060000006b657931383372700100004bb7737d727101000058060000006b657931383472720100004bb8737d727301000058060000006b657931383572740100004bb9737d727501000058060000006b657931383672760100004bba737d727701000058060000006b657931383772780100004bbb737d727901000058060000006b6579313838727a0100004bbc737d727b01000058060000006b6579313839727c0100004bbd737d727d01000058060000006b6579313930727e0100004bbe737d727f01000058060000006b657931393172800100004bbf737d728101000058060000006b657931393272820100004bc0737d728301000058060000006b657931393372840100004bc1737d728501000058060000006b657931393472860100004bc2737d728701000058060000006b657931393572880100004bc3737d728901000058060000006b6579313936728a0100004bc4737d728b01000058060000006b6579313937728c0100004bc5737d728d01000058060000006b6579313938728e0100004bc6737d728f01000058060000006b657931393972900100004bc7737d729101000058060000006b657932303072920100004bc8737d729301000058060000006b657932303172940100004bc9737d729501000058060000006b657932303272960100004bca737d729701000058060000006b657932303372980100004bcb737d729901000058060000006b6579323034729a0100004bcc737d729b01000058060000006b6579323035729c0100004bcd737d729d01000058060000006b6579323036729e0100004bce737d729f01000058060000006b657932303772a00100004bcf737d72a101000058060000006b657932303872a20100004bd0737d72a301000058060000006b657932303972a40100004bd1737d72a501000058060000006b657932313072a60100004bd2737d72a701000058060000006b657932313172a80100004bd3737d72a901000058060000006b657932313272aa0100004bd4737d72ab01000058060000006b657932313372ac0100004bd5737d72ad01000058060000006b657932313472ae0100004bd6737d72af01000058060000006b657932313572b00100004bd7737d72b101000058060000006b657932313672b20100004bd8737d72b301000058060000006b657932313772b40100004bd9737d72b501000058060000006b657932313872b60100004bda737d72b701000058060000006b657932313972b80100004bdb737d72b901000058060000006b657932323072ba0100004bdc737d72bb01000058060000006b657932323172bc0100004bdd737d72bd01000058060000006b657932323272be0100004bde737d72bf01000058060000006b657932323372c00100004bdf737d72c101000058060000006b657932323472c20100004be0737d72c301000058060000006b657932323572c40100004be1737d72c501000058060000006b657932323672c60100004be2737d72c701000058060000006b657932323772c80100004be3737d72c901000058060000006b657932323872ca0100004be4737d72cb01000058060000006b657932323972cc0100004be5737d72cd01000058060000006b657932333072ce0100004be6737d72cf01000058060000006b657932333172d00100004be7737d72d101000058060000006b657932333272d20100004be8737d72d301000058060000006b657932333372d40100004be9737d72d501000058060000006b657932333472d60100004bea737d72d701000058060000006b657932333572d80100004beb737d72d901000058060000006b657932333672da0100004bec737d72db01000058060000006b657932333772dc0100004bed737d72dd01000058060000006b657932333872de0100004bee737d72df01000058060000006b657932333972e00100004bef737d72e101000058060000006b657932343072e20100004bf0737d72e301000058060000006b657932343172e40100004bf1737d72e501000058060000006b657932343272e60100004bf2737d72e701000058060000006b657932343372e80100004bf3737d72e901000058060000006b657932343472ea0100004bf4737d72eb01000058060000006b657932343572ec0100004bf5737d72ed01000058060000006b657932343672ee0100004bf6737d72ef01000058060000006b657932343772f00100004bf7737d72f101000058060000006b657932343872f20100004bf8737d72f301000058060000006b657932343972f40100004bf9737d72f501000058060000006b657932353072f60100004bfa737d72f701000058060000006b657932353172f80100004bfb737d72f901000058060000006b657932353272fa0100004bfc737d72fb01000058060000006b657932353372fc0100004bfd737d72fd01000058060000006b657932353472fe0100004bfe737d72ff01000058060000006b657932353572000200004bff737d720102000058060000006b657932353672020200004d0001737d720302000058060000006b657932353772040200004d0101737d720502000058060000006b657932353872060200004d0201737d720702000058060000006b657932353972080200004d0301737d720902000058060000006b6579323630720a0200004d0401737d720b02000058060000006b6579323631720c0200004d0501737d720d02000058060000006b6579323632720e0200004d0601737d720f02000058060000006b657932363372100200004d0701737d721102000058060000006b657932363472120200004d0801737d721302000058060000006b657932363572140200004d0901737d721502000058060000006b657932363672160200004d0a01737d721702000058060000006b657932363772180200004d0b01737d721902000058060000006b6579323638721a0200004d0c01737d721b02000058060000006b6579323639721c0200004d0d01737d721d02000058060000006b6579323730721e0200004d0e01737d721f02000058060000006b657932373172200200004d0f01737d722102000058060000006b657932373272220200004d1001737d722302000058060000006b657932373372240200004d1101737d722502000058060000006b657932373472260200004d1201737d722702000058060000006b657932373572280200004d1301737d722902000058060000006b6579323736722a0200004d1401737d722b02000058060000006b6579323737722c0200004d1501737d722d02000058060000006b6579323738722e0200004d1601737d722f02000058060000006b657932373972300200004d1701737d723102000058060000006b657932383072320200004d1801737d723302000058060000006b657932383172340200004d1901737d723502000058060000006b657932383272360200004d1a01737d723702000058060000006b657932383372380200004d1b01737d723902000058060000006b6579323834723a0200004d1c01737d723b02000058060000006b6579323835723c0200004d1d01737d723d02000058060000006b6579323836723e0200004d1e01737d723f02000058060000006b657932383772400200004d1f01737d724102000058060000006b657932383872420200004d2001737d724302000058060000006b657932383972440200004d2101737d724502000058060000006b657932393072460200004d2201737d724702000058060000006b657932393172480200004d2301737d724902000058060000006b6579323932724a0200004d2401737d724b02000058060000006b6579323933724c0200004d2501737d724d02000058060000006b6579323934724e0200004d2601737d724f02000058060000006b657932393572500200004d2701737d725102000058060000006b657932393672520200004d2801737d725302000058060000006b657932393772540200004d2901737d725502000058060000006b657932393872560200004d2a01737d725702000058060000006b657932393972580200004d2b01737d725902000058040000006b657930725a0200004b00737d725b02000058040000006b657931725c0200004b00737d725d02000058040000006b657932725e0200004b00737d725f02000058040000006b65793372600200004b00737d726102000058040000006b65793472620200004b00737d726302000058040000006b65793572640200004b00737d726502000058040000006b65793672660200004b00737d726702000058040000006b65793772680200004b00737d726902000058040000006b657938726a0200004b00737d726b02000058040000006b657939726c0200004b00737d726d02000058050000006b65793130726e0200004b00737d726f02000058050000006b6579313172700200004b00737d727102000058050000006b6579313272720200004b00737d727302000058050000006b6579313372740200004b00737d727502000058050000006b6579313472760200004b00737d727702000058050000006b6579313572780200004b00737d727902000058050000006b65793136727a0200004b00737d727b02000058050000006b65793137727c0200004b00737d727d02000058050000006b65793138727e0200004b00737d727f02000058050000006b6579313972800200004b00737d728102000058050000006b6579323072820200004b00737d728302000058050000006b6579323172840200004b00737d728502000058050000006b6579323272860200004b00737d728702000058050000006b6579323372880200004b00737d728902000058050000006b65793234728a0200004b00737d728b02000058050000006b65793235728c0200004b00737d728d02000058050000006b65793236728e0200004b00737d728f02000058050000006b6579323772900200004b00737d729102000058050000006b6579323872920200004b00737d729302000058050000006b6579323972940200004b00737d729502000058050000006b6579333072960200004b00737d729702000058050000006b6579333172980200004b00737d729902000058050000006b65793332729a0200004b00737d729b02000058050000006b65793333729c0200004b00737d729d02000058050000006b65793334729e0200004b00737d729f02000058050000006b6579333572a00200004b00737d72a102000058050000006b6579333672a20200004b00737d72a302000058050000006b6579333772a40200004b00737d72a502000058050000006b6579333872a60200004b00737d72a702000058050000006b6579333972a80200004b00737d72a902000058050000006b6579343072aa0200004b00737d72ab02000058050000006b6579343172ac0200004b00737d72ad02000058050000006b6579343272ae0200004b00737d72af02000058050000006b6579343372b00200004b00737d72b102000058050000006b6579343472b20200004b00737d72b302000058050000006b6579343572b40200004b00737d72b502000058050000006b6579343672b60200004b00737d72b702000058050000006b6579343772b80200004b00737d72b902000058050000006b6579343872ba0200004b00737d72bb02000058050000006b6579343972bc0200004b00737d72bd02000058050000006b6579353072be0200004b00737d72bf02000058050000006b6579353172c00200004b00737d72c102000058050000006b6579353272c20200004b00737d72c302000058050000006b6579353372c40200004b00737d72c502000058050000006b6579353472c60200004b00737d72c702000058050000006b6579353572c80200004b00737d72c902000058050000006b6579353672ca0200004b00737d72cb02000058050000006b6579353772cc0200004b00737d72cd02000058050000006b6579353872ce0200004b00737d72cf02000058050000006b6579353972d00200004b00737d72d102000058050000006b6579363072d20200004b00737d72d302000058050000006b6579363172d40200004b00737d72d502000058050000006b6579363272d60200004b00737d72d702000058050000006b6579363372d80200004b00737d72d902000058050000006b6579363472da0200004b00737d72db02000058050000006b6579363572dc0200004b00737d72dd02000058050000006b6579363672de0200004b00737d72df02000058050000006b6579363772e00200004b00737d72e102000058050000006b6579363872e20200004b00737d72e302000058050000006b6579363972e40200004b00737d72e502000058050000006b6579373072e60200004b00737d72e702000058050000006b6579373172e80200004b00737d72e902000058050000006b6579373272ea0200004b00737d72eb02000058050000006b6579373372ec0200004b00737d72ed02000058050000006b6579373472ee0200004b00737d72ef02000058050000006b6579373572f00200004b00737d72f102000058050000006b6579373672f20200004b00737d72f302000058050000006b6579373772f40200004b00737d72f502000058050000006b6579373872f60200004b00737d72f702000058050000006b6579373972f80200004b00737d72f902000058050000006b6579383072fa0200004b00737d72fb02000058050000006b6579383172fc0200004b00737d72fd02000058050000006b6579383272fe0200004b00737d72ff02000058050000006b6579383372000300004b00737d720103000058050000006b6579383472020300004b00737d720303000058050000006b6579383572040300004b00737d720503000058050000006b6579383672060300004b00737d720703000058050000006b6579383772080300004b00737d720903000058050000006b65793838720a0300004b00737d720b03000058050000006b65793839720c0300004b00737d720d03000058050000006b65793930720e0300004b00737d720f03000058050000006b6579393172100300004b00737d721103000058050000006b6579393272120300004b00737d721303000058050000006b6579393372140300004b00737d721503000058050000006b6579393472160300004b00737d721703000058050000006b6579393572180300004b00737d721903000058050000006b65793936721a0300004b00737d721b03000058050000006b65793937721c0300004b00737d721d03000058050000006b65793938721e0300004b00737d721f03000058050000006b6579393972200300004b00737d722103000058060000006b657931303072220300004b00737d722303000058060000006b657931303172240300004b00737d722503000058060000006b657931303272260300004b00737d722703000058060000006b657931303372280300004b00737d722903000058060000006b6579313034722a0300004b00737d722b03000058060000006b6579313035722c0300004b00737d722d03000058060000006b6579313036722e0300004b00737d722f03000058060000006b657931303772300300004b00737d723103000058060000006b657931303872320300004b00737d723303000058060000006b657931303972340300004b00737d723503000058060000006b657931313072360300004b00737d723703000058060000006b657931313172380300004b00737d723903000058060000006b6579313132723a0300004b00737d723b03000058060000006b6579313133723c0300004b00737d723d03000058060000006b6579313134723e0300004b00737d723f03000058060000006b657931313572400300004b00737d724103000058060000006b657931313672420300004b00737d724303000058060000006b657931313772440300004b00737d724503000058060000006b657931313872460300004b00737d724703000058060000006b657931313972480300004b00737d724903000058060000006b6579313230724a0300004b00737d724b03000058060000006b6579313231724c0300004b00737d724d03000058060000006b6579313232724e0300004b00737d724f03000058060000006b657931323372500300004b00737d725103000058060000006b657931323472520300004b00737d725303000058060000006b657931323572540300004b00737d725503000058060000006b657931323672560300004b00737d725703000058060000006b657931323772580300004b00737d725903000058060000006b6579313238725a0300004b00737d725b03000058060000006b6579313239725c0300004b00737d725d03000058060000006b6579313330725e0300004b00737d725f03000058060000006b657931333172600300004b00737d726103000058060000006b657931333272620300004b00737d726303000058060000006b657931333372640300004b00737d726503000058060000006b657931333472660300004b00737d726703000058060000006b657931333572680300004b00737d726903000058060000006b6579313336726a0300004b00737d726b03000058060000006b6579313337726c0300004b00737d726d03000058060000006b6579313338726e0300004b00737d726f03000058060000006b657931333972700300004b00737d727103000058060000006b657931343072720300004b00737d727303000058060000006b657931343172740300004b00737d727503000058060000006b657931343272760300004b00737d727703000058060000006b657931343372780300004b00737d727903000058060000006b6579313434727a0300004b00737d727b03000058060000006b6579313435727c0300004b00737d727d03000058060000006b6579313436727e0300004b00737d727f03000058060000006b657931343772800300004b00737d728103000058060000006b657931343872820300004b00737d728303000058060000006b657931343972840300004b00737d728503000058060000006b657931353072860300004b00737d728703000058060000006b657931353172880300004b00737d728903000058060000006b6579313532728a0300004b00737d728b03000058060000006b6579313533728c0300004b00737d728d03000058060000006b6579313534728e0300004b00737d728f03000058060000006b657931353572900300004b00737d729103000058060000006b657931353672920300004b00737d729303000058060000006b657931353772940300004b00737d729503000058060000006b657931353872960300004b00737d729703000058060000006b657931353972980300004b00737d729903000058060000006b6579313630729a0300004b00737d729b03000058060000006b6579313631729c0300004b00737d729d03000058060000006b6579313632729e0300004b00737d729f03000058060000006b657931363372a00300004b00737d72a103000058060000006b657931363472a20300004b00737d72a303000058060000006b657931363572a40300004b00737d72a503000058060000006b657931363672a60300004b00737d72a703000058060000006b657931363772a80300004b00737d72a903000058060000006b657931363872aa0300004b00737d72ab03000058060000006b657931363972ac0300004b00737d72ad03000058060000006b657931373072ae0300004b00737d72af03000058060000006b657931373172b00300004b00737d72b103000058060000006b657931373272b20300004b00737d72b303000058060000006b657931373372b40300004b00737d72b503000058060000006b657931373472b60300004b00737d72b703000058060000006b657931373572b80300004b00737d72b903000058060000006b657931373672ba0300004b00737d72bb03000058060000006b657931373772bc0300004b00737d72bd03000058060000006b657931373872be0300004b00737d72bf03000058060000006b657931373972c00300004b00737d72c103000058060000006b657931383072c20300004b00737d72c303000058060000006b657931383172c40300004b00737d72c503000058060000006b657931383272c60300004b00737d72c703000058060000006b657931383372c80300004b00737d72c903000058060000006b657931383472ca0300004b00737d72cb03000058060000006b657931383572cc0300004b00737d72cd03000058060000006b657931383672ce0300004b00737d72cf03000058060000006b657931383772d00300004b00737d72d103000058060000006b657931383872d20300004b00737d72d303000058060000006b657931383972d40300004b00737d72d503000058060000006b657931393072d60300004b00737d72d703000058060000006b657931393172d80300004b00737d72d903000058060000006b657931393272da0300004b00737d72db03000058060000006b657931393372dc0300004b00737d72dd03000058060000006b657931393472de0300004b00737d72df03000058060000006b657931393572e00300004b00737d72e103000058060000006b657931393672e20300004b00737d72e303000058060000006b657931393772e40300004b00737d72e503000058060000006b657931393872e60300004b00737d72e703000058060000006b657931393972e80300004b00737d72e903000058060000006b657932303072ea0300004b00737d72eb03000058060000006b657932303172ec0300004b00737d72ed03000058060000006b657932303272ee0300004b00737d72ef03000058060000006b657932303372f00300004b00737d72f103000058060000006b657932303472f20300004b00737d72f303000058060000006b657932303572f40300004b00737d72f503000058060000006b657932303672f60300004b00737d72f703000058060000006b657932303772f80300004b00737d72f903000058060000006b657932303872fa0300004b00737d72fb03000058060000006b657932303972fc0300004b00737d72fd03000058060000006b657932313072fe0300004b00737d72ff03000058060000006b657932313172000400004b00737d720104000058060000006b657932313272020400004b00737d720304000058060000006b657932313372040400004b00737d720504000058060000006b657932313472060400004b00737d720704000058060000006b657932313572080400004b00737d720904000058060000006b6579323136720a0400004b00737d720b04000058060000006b6579323137720c0400004b00737d720d04000058060000006b6579323138720e0400004b00737d720f04000058060000006b657932313972100400004b00737d721104000058060000006b657932323072120400004b00737d721304000058060000006b657932323172140400004b00737d721504000058060000006b657932323272160400004b00737d721704000058060000006b657932323372180400004b00737d721904000058060000006b6579323234721a0400004b00737d721b04000058060000006b6579323235721c0400004b00737d721d04000058060000006b6579323236721e0400004b00737d721f04000058060000006b657932323772200400004b00737d722104000058060000006b657932323872220400004b00737d722304000058060000006b657932323972240400004b00737d722504000058060000006b657932333072260400004b00737d722704000058060000006b657932333172280400004b00737d722904000058060000006b6579323332722a0400004b00737d722b04000058060000006b6579323333722c0400004b00737d722d04000058060000006b6579323334722e0400004b00737d722f04000058060000006b657932333572300400004b00737d723104000058060000006b657932333672320400004b00737d723304000058060000006b657932333772340400004b00737d723504000058060000006b657932333872360400004b00737d723704000058060000006b657932333972380400004b00737d723904000058060000006b6579323430723a0400004b00737d723b04000058060000006b6579323431723c0400004b00737d723d04000058060000006b6579323432723e0400004b00737d723f04000058060000006b657932343372400400004b00737d724104000058060000006b657932343472420400004b00737d724304000058060000006b657932343572440400004b00737d724504000058060000006b657932343672460400004b00737d724704000058060000006b657932343772480400004b00737d724904000058060000006b6579323438724a0400004b00737d724b04000058060000006b6579323439724c0400004b00737d724d04000058060000006b6579323530724e0400004b00737d724f04000058060000006b657932353172500400004b00737d725104000058060000006b657932353272520400004b00737d725304000058060000006b657932353372540400004b00737d725504000058060000006b657932353472560400004b00737d725704000058060000006b657932353572580400004b00737d725904000058060000006b6579323536725a0400004b00737d725b04000058060000006b6579323537725c0400004b00737d725d04000058060000006b6579323538725e0400004b00737d725f04000058060000006b657932353972600400004b00737d726104000058060000006b657932363072620400004b00737d726304000058060000006b657932363172640400004b00737d726504000058060000006b657932363272660400004b00737d726704000058060000006b657932363372680400004b00737d726904000058060000006b6579323634726a0400004b00737d726b04000058060000006b6579323635726c0400004b00737d726d04000058060000006b6579323636726e0400004b00737d726f04000058060000006b657932363772700400004b00737d727104000058060000006b657932363872720400004b00737d727304000058060000006b657932363972740400004b00737d727504000058060000006b657932373072760400004b00737d727704000058060000006b657932373172780400004b00737d727904000058060000006b6579323732727a0400004b00737d727b04000058060000006b6579323733727c0400004b00737d727d04000058060000006b6579323734727e0400004b00737d727f04000058060000006b657932373572800400004b00737d728104000058060000006b657932373672820400004b00737d728304000058060000006b657932373772840400004b00737d728504000058060000006b657932373872860400004b00737d728704000058060000006b657932373972880400004b00737d728904000058060000006b6579323830728a0400004b00737d728b04000058060000006b6579323831728c0400004b00737d728d04000058060000006b6579323832728e0400004b00737d728f04000058060000006b657932383372900400004b00737d729104000058060000006b657932383472920400004b00737d729304000058060000006b657932383572940400004b00737d729504000058060000006b657932383672960400004b00737d729704000058060000006b657932383772980400004b00737d729904000058060000006b6579323838729a0400004b00737d729b04000058060000006b6579323839729c0400004b00737d729d04000058060000006b6579323930729e0400004b00737d729f04000058060000006b657932393172a00400004b00737d72a104000058060000006b657932393272a20400004b00737d72a304000058060000006b657932393372a40400004b00737d72a504000058060000006b657932393472a60400004b00737d72a704000058060000006b657932393572a80400004b00737d72a904000058060000006b657932393672aa0400004b00737d72ab04000058060000006b657932393772ac0400004b00737d72ad04000058060000006b657932393872ae0400004b00737d72af04000058060000006b657932393972b00400004b0073652e",
            json: r##"[{"key0":0},{"key1":1},{"key2":2},{"key3":3},{"key4":4},{"key5":5},{"key6":6},{"key7":7},{"key8":8},{"key9":9},{"key10":10},{"key11":11},{"key12":12},{"key13":13},{"key14":14},{"key15":15},{"key16":16},{"key17":17},{"key18":18},{"key19":19},{"key20":20},{"key21":21},{"key22":22},{"key23":23},{"key24":24},{"key25":25},{"key26":26},{"key27":27},{"key28":28},{"key29":29},{"key30":30},{"key31":31},{"key32":32},{"key33":33},{"key34":34},{"key35":35},{"key36":36},{"key37":37},{"key38":38},{"key39":39},{"key40":40},{"key41":41},{"key42":42},{"key43":43},{"key44":44},{"key45":45},{"key46":46},{"key47":47},{"key48":48},{"key49":49},{"key50":50},{"key51":51},{"key52":52},{"key53":53},{"key54":54},{"key55":55},{"key56":56},{"key57":57},{"key58":58},{"key59":59},{"key60":60},{"key61":61},{"key62":62},{"key63":63},{"key64":64},{"key65":65},{"key66":66},{"key67":67},{"key68":68},{"key69":69},{"key70":70},{"key71":71},{"key72":72},{"key73":73},{"key74":74},{"key75":75},{"key76":76},{"key77":77},{"key78":78},{"key79":79},{"key80":80},{"key81":81},{"key82":82},{"key83":83},{"key84":84},{"key85":85},{"key86":86},{"key87":87},{"key88":88},{"key89":89},{"key90":90},{"key91":91},{"key92":92},{"key93":93},{"key94":94},{"key95":95},{"key96":96},{"key97":97},{"key98":98},{"key99":99},{"key100":100},{"key101":101},{"key102":102},{"key103":103},{"key104":104},{"key105":105},{"key106":106},{"key107":107},{"key108":108},{"key109":109},{"key110":110},{"key111":111},{"key112":112},{"key113":113},{"key114":114},{"key115":115},{"key116":116},{"key117":117},{"key118":118},{"key119":119},{"key120":120},{"key121":121},{"key122":122},{"key123":123},{"key124":124},{"key125":125},{"key126":126},{"key127":127},{"key128":128},{"key129":129},{"key130":130},{"key131":131},{"key132":132},{"key133":133},{"key134":134},{"key135":135},{"key136":136},{"key137":137},{"key138":138},{"key139":139},{"key140":140},{"key141":141},{"key142":142},{"key143":143},{"key144":144},{"key145":145},{"key146":146},{"key147":147},{"key148":148},{"key149":149},{"key150":150},{"key151":151},{"key152":152},{"key153":153},{"key154":154},{"key155":155},{"key156":156},{"key157":157},{"key158":158},{"key159":159},{"key160":160},{"key161":161},{"key162":162},{"key163":163},{"key164":164},{"key165":165},{"key166":166},{"key167":167},{"key168":168},{"key169":169},{"key170":170},{"key171":171},{"key172":172},{"key173":173},{"key174":174},{"key175":175},{"key176":176},{"key177":177},{"key178":178},{"key179":179},{"key180":180},{"key181":181},{"key182":182},{"key183":183},{"key184":184},{"key185":185},{"key186":186},{"key187":187},{"key188":188},{"key189":189},{"key190":190},{"key191":191},{"key192":192},{"key193":193},{"key194":194},{"key195":195},{"key196":196},{"key197":197},{"key198":198},{"key199":199},{"key200":200},{"key201":201},{"key202":202},{"key203":203},{"key204":204},{"key205":205},{"key206":206},{"key207":207},{"key208":208},{"key209":209},{"key210":210},{"key211":211},{"key212":212},{"key213":213},{"key214":214},{"key215":215},{"key216":216},{"key217":217},{"key218":218},{"key219":219},{"key220":220},{"key221":221},{"key222":222},{"key223":223},{"key224":224},{"key225":225},{"key226":226},{"key227":227},{"key228":228},{"key229":229},{"key230":230},{"key231":231},{"key232":232},{"key233":233},{"key234":234},{"key235":235},{"key236":236},{"key237":237},{"key238":238},{"key239":239},{"key240":240},{"key241":241},{"key242":242},{"key243":243},{"key244":244},{"key245":245},{"key246":246},{"key247":247},{"key248":248},{"key249":249},{"key250":250},{"key251":251},{"key252":252},{"key253":253},{"key254":254},{"key255":255},{"key256":256},{"key257":257},{"key258":258},{"key259":259},{"key260":260},{"key261":261},{"key262":262},{"key263":263},{"key264":264},{"key265":265},{"key266":266},{"key267":267},{"key268":268},{"key269":269},{"key270":270},{"key271":271},{"key272":272},{"key273":273},{"key274":274},{"key275":275},{"key276":276},{"key277":277},{"key278":278},{"key279":279},{"key280":280},{"key281":281},{"key282":282},{"key283":283},{"key284":284},{"key285":285},{"key286":286},{"key287":287},{"key288":288},{"key289":289},{"key290":290},{"key291":291},{"key292":292},{"key293":293},{"key294":294},{"key295":295},{"key296":296},{"key297":297},{"key298":298},{"key299":299},{"key0":0},{"key1":0},{"key2":0},{"key3":0},{"key4":0},{"key5":0},{"key6":0},{"key7":0},{"key8":0},{"key9":0},{"key10":0},{"key11":0},{"key12":0},{"key13":0},{"key14":0},{"key15":0},{"key16":0},{"key17":0},{"key18":0},{"key19":0},{"key20":0},{"key21":0},{"key22":0},{"key23":0},{"key24":0},{"key25":0},{"key26":0},{"key27":0},{"key28":0},{"key29":0},{"key30":0},{"key31":0},{"key32":0},{"key33":0},{"key34":0},{"key35":0},{"key36":0},{"key37":0},{"key38":0},{"key39":0},{"key40":0},{"key41":0},{"key42":0},{"key43":0},{"key44":0},{"key45":0},{"key46":0},{"key47":0},{"key48":0},{"key49":0},{"key50":0},{"key51":0},{"key52":0},{"key53":0},{"key54":0},{"key55":0},{"key56":0},{"key57":0},{"key58":0},{"key59":0},{"key60":0},{"key61":0},{"key62":0},{"key63":0},{"key64":0},{"key65":0},{"key66":0},{"key67":0},{"key68":0},{"key69":0},{"key70":0},{"key71":0},{"key72":0},{"key73":0},{"key74":0},{"key75":0},{"key76":0},{"key77":0},{"key78":0},{"key79":0},{"key80":0},{"key81":0},{"key82":0},{"key83":0},{"key84":0},{"key85":0},{"key86":0},{"key87":0},{"key88":0},{"key89":0},{"key90":0},{"key91":0},{"key92":0},{"key93":0},{"key94":0},{"key95":0},{"key96":0},{"key97":0},{"key98":0},{"key99":0},{"key100":0},{"key101":0},{"key102":0},{"key103":0},{"key104":0},{"key105":0},{"key106":0},{"key107":0},{"key108":0},{"key109":0},{"key110":0},{"key111":0},{"key112":0},{"key113":0},{"key114":0},{"key115":0},{"key116":0},{"key117":0},{"key118":0},{"key119":0},{"key120":0},{"key121":0},{"key122":0},{"key123":0},{"key124":0},{"key125":0},{"key126":0},{"key127":0},{"key128":0},{"key129":0},{"key130":0},{"key131":0},{"key132":0},{"key133":0},{"key134":0},{"key135":0},{"key136":0},{"key137":0},{"key138":0},{"key139":0},{"key140":0},{"key141":0},{"key142":0},{"key143":0},{"key144":0},{"key145":0},{"key146":0},{"key147":0},{"key148":0},{"key149":0},{"key150":0},{"key151":0},{"key152":0},{"key153":0},{"key154":0},{"key155":0},{"key156":0},{"key157":0},{"key158":0},{"key159":0},{"key160":0},{"key161":0},{"key162":0},{"key163":0},{"key164":0},{"key165":0},{"key166":0},{"key167":0},{"key168":0},{"key169":0},{"key170":0},{"key171":0},{"key172":0},{"key173":0},{"key174":0},{"key175":0},{"key176":0},{"key177":0},{"key178":0},{"key179":0},{"key180":0},{"key181":0},{"key182":0},{"key183":0},{"key184":0},{"key185":0},{"key186":0},{"key187":0},{"key188":0},{"key189":0},{"key190":0},{"key191":0},{"key192":0},{"key193":0},{"key194":0},{"key195":0},{"key196":0},{"key197":0},{"key198":0},{"key199":0},{"key200":0},{"key201":0},{"key202":0},{"key203":0},{"key204":0},{"key205":0},{"key206":0},{"key207":0},{"key208":0},{"key209":0},{"key210":0},{"key211":0},{"key212":0},{"key213":0},{"key214":0},{"key215":0},{"key216":0},{"key217":0},{"key218":0},{"key219":0},{"key220":0},{"key221":0},{"key222":0},{"key223":0},{"key224":0},{"key225":0},{"key226":0},{"key227":0},{"key228":0},{"key229":0},{"key230":0},{"key231":0},{"key232":0},{"key233":0},{"key234":0},{"key235":0},{"key236":0},{"key237":0},{"key238":0},{"key239":0},{"key240":0},{"key241":0},{"key242":0},{"key243":0},{"key244":0},{"key245":0},{"key246":0},{"key247":0},{"key248":0},{"key249":0},{"key250":0},{"key251":0},{"key252":0},{"key253":0},{"key254":0},{"key255":0},{"key256":0},{"key257":0},{"key258":0},{"key259":0},{"key260":0},{"key261":0},{"key262":0},{"key263":0},{"key264":0},{"key265":0},{"key266":0},{"key267":0},{"key268":0},{"key269":0},{"key270":0},{"key271":0},{"key272":0},{"key273":0},{"key274":0},{"key275":0},{"key276":0},{"key277":0},{"key278":0},{"key279":0},{"key280":0},{"key281":0},{"key282":0},{"key283":0},{"key284":0},{"key285":0},{"key286":0},{"key287":0},{"key288":0},{"key289":0},{"key290":0},{"key291":0},{"key292":0},{"key293":0},{"key294":0},{"key295":0},{"key296":0},{"key297":0},{"key298":0},{"key299":0}]"##,
        },
        // obj = {"_auth_user_id": "1"}; pickle.dumps(obj, 5)
        LoadsVector {
            name: "django_internals_example",
            pickle: "80059518000000000000007d948c0d5f617574685f757365725f6964948c013194732e",
            json: r##"{"_auth_user_id":"1"}"##,
        },
        // obj = None  # hand-made: EMPTY_DICT MARK "a" 1 "b" 2 "a" 3 SETITEMS STOP; pickle.dumps(obj, 2)
        LoadsVector {
            name: "dup_key_setitems",
            pickle: "80027d285801000000614b015801000000624b025801000000614b03752e",
            json: r##"{"a":3,"b":2}"##,
        },
        // obj = None  # hand-made protocol 2: MARK "a" 1 DICT STOP; pickle.dumps(obj, 2)
        LoadsVector {
            name: "dict_opcode",
            pickle: "8002285801000000614b01642e",
            json: r##"{"a":1}"##,
        },
    ];

    const LOADS_ERR: &[LoadsErrVector] = &[
        // pickle.dumps({"_session_expiry": datetime.datetime(2024, 1, 1)}, 5)
        LoadsErrVector {
            name: "datetime",
            pickle: "8005953f000000000000007d948c0f5f73657373696f6e5f657870697279948c086461746574696d65948c086461746574696d65949394430a07e801010000000000009485945294732e",
            error: PickleError::Unsupported(0x93),
        },
        // pickle.dumps({"b": b"x"}, 5)
        LoadsErrVector {
            name: "bytes",
            pickle: "8005950c000000000000007d948c01629443017894732e",
            error: PickleError::Unsupported(0x43),
        },
        // pickle.dumps({"s": {1}}, 5)
        LoadsErrVector {
            name: "set",
            pickle: "8005950e000000000000007d948c0173948f94284b0190732e",
            error: PickleError::Unsupported(0x8f),
        },
        // pickle.dumps({"a": 1}, 0)
        LoadsErrVector {
            name: "proto0",
            pickle: "286470300a56610a70310a49310a732e",
            error: PickleError::Unsupported(0x70),
        },
        // pickle.dumps({1: 2}, 5)
        LoadsErrVector {
            name: "int_key",
            pickle: "80059508000000000000007d944b014b02732e",
            error: PickleError::NonStringKey,
        },
        // pickle.dumps({(1,): 2}, 5)
        LoadsErrVector {
            name: "tuple_key",
            pickle: "8005950a000000000000007d944b0185944b02732e",
            error: PickleError::NonStringKey,
        },
        // pickle.dumps([2**64], 5)
        LoadsErrVector {
            name: "int_2_64",
            pickle: "8005950f000000000000005d948a09000000000000000001612e",
            error: PickleError::IntTooLarge,
        },
        // pickle.dumps([-2**63 - 1], 5)
        LoadsErrVector {
            name: "int_neg_2_63_minus_1",
            pickle: "8005950f000000000000005d948a09ffffffffffffff7fff612e",
            error: PickleError::IntTooLarge,
        },
        // pickle.dumps(10**400, 5)
        LoadsErrVector {
            name: "int_huge",
            pickle: "800595aa000000000000008aa70000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000000c1a92f7e3724b8f0e932dbeb3346a2d38aa49341aa96498ee059d0e171a25cc7e0e113487cb4cd76e7a0ba5959ce3642fe27a4c58dbf3486afe0fd6ccfecb2a04699ce5398628ed16a0e5c0e1250bfb7d0e53080b3adaf50c18b0b19f58f25de8245e5b68dc377c1fb26cf1ccbf33f97917fecb4012e",
            error: PickleError::IntTooLarge,
        },
        // pickle.dumps({"f": float("nan")}, 5)
        LoadsErrVector {
            name: "nan",
            pickle: "80059511000000000000007d948c016694477ff8000000000000732e",
            error: PickleError::NonFiniteFloat,
        },
        // pickle.dumps([float("inf")], 5)
        LoadsErrVector {
            name: "inf",
            pickle: "8005950d000000000000005d94477ff0000000000000612e",
            error: PickleError::NonFiniteFloat,
        },
        // pickle.dumps({"s": "\ud800"}, 5)
        LoadsErrVector {
            name: "lone_surrogate",
            pickle: "8005950e000000000000007d948c0173948c03eda08094732e",
            error: PickleError::InvalidUtf8,
        },
        // pickle.dumps(__import__("functools").reduce(lambda l, _: (l.append(l), l)[1], [0], []), 5)
        LoadsErrVector {
            name: "recursive_list",
            pickle: "80059506000000000000005d946800612e",
            error: PickleError::Recursive,
        },
        // pickle.dumps({"s": _S("x")}, 5)
        LoadsErrVector {
            name: "str_subclass",
            pickle: "80059522000000000000007d948c0173948c085f5f6d61696e5f5f948c025f539493948c01789485948194732e",
            error: PickleError::Unsupported(0x93),
        },
    ];

    fn obj(pairs: impl IntoIterator<Item = (String, Value)>) -> Value {
        Value::Object(pairs.into_iter().collect())
    }

    fn s(x: impl Into<String>) -> Value {
        Value::String(x.into())
    }

    /// The `BIG` objects, built the way the Python expression in each
    /// vector's comment builds them.
    fn big_case(name: &str) -> Value {
        let keys = |n: usize| obj((0..n).map(|i| (format!("k{i}"), Value::from(i))));
        match name {
            "str_65535" => obj([("s".into(), s("x".repeat(65535)))]),
            "str_65536" => obj([("s".into(), s("x".repeat(65536)))]),
            "str_70000" => obj([
                ("a".into(), s("b")),
                ("s".into(), s("x".repeat(70000))),
                ("t".into(), s("c")),
            ]),
            "key_70000" => obj([
                ("x".repeat(70000), Value::from(1)),
                ("k".into(), s("x".repeat(70000))),
            ]),
            "unicode_80000_bytes" => obj([
                ("e".into(), s("\u{e9}".repeat(40000))),
                ("f".into(), s("\u{1f600}".repeat(20000))),
            ]),
            "keys_1000" => keys(1000),
            "keys_1001" => keys(1001),
            "keys_2000" => keys(2000),
            "keys_2500" => obj((0..2500).map(|i| (format!("k{i}"), s(i.to_string())))),
            "list_1000" => obj([("l".into(), Value::from((0..1000).collect::<Vec<i64>>()))]),
            "list_1001" => obj([("l".into(), Value::from((0..1001).collect::<Vec<i64>>()))]),
            "list_2001" => obj([(
                "l".into(),
                Value::Array((0..2001).map(|i| s((i % 7).to_string())).collect()),
            )]),
            "frames_many" => obj((0..3000).map(|i| (format!("k{i:05}"), s("v".repeat(i % 300))))),
            "frames_mixed" => obj([
                ("a".into(), s("y".repeat(100))),
                ("big".into(), s("z".repeat(70000))),
                (
                    "b".into(),
                    Value::Array((0..20000).map(|i| s(i.to_string())).collect()),
                ),
                ("big2".into(), s("w".repeat(65536))),
                (
                    "c".into(),
                    obj((0..5000).map(|i| (format!("k{i}"), s(i.to_string())))),
                ),
                ("end".into(), s("x".repeat(65530))),
            ]),
            "memo_long_binget" => Value::Array(
                (0..300)
                    .map(|i| obj([(format!("key{i}"), Value::from(i))]))
                    .chain((0..300).map(|i| obj([(format!("key{i}"), s("v"))])))
                    .collect(),
            ),
            "deep_nesting" => {
                let mut v = Value::Array(vec![]);
                for _ in 1..100 {
                    v = Value::Array(vec![v]);
                }
                v
            }
            other => panic!("no builder for {other}"),
        }
    }

    #[test]
    fn dumps_matches_cpython_small() {
        for v in SMALL {
            let value = json(v.json);
            let p5 = unhex(v.p5);
            let p2 = unhex(v.p2);
            assert_eq!(hex(&dumps(&value, 5)), v.p5, "{} protocol 5", v.name);
            assert_eq!(
                dumps(&value, 4),
                with_proto(&p5, 4),
                "{} protocol 4",
                v.name
            );
            assert_eq!(hex(&dumps(&value, 2)), v.p2, "{} protocol 2", v.name);
            assert_eq!(
                dumps(&value, 3),
                with_proto(&p2, 3),
                "{} protocol 3",
                v.name
            );
            assert_eq!(loads(&p5).unwrap(), value, "{} loads p5", v.name);
            assert_eq!(loads(&p2).unwrap(), value, "{} loads p2", v.name);
        }
    }

    #[test]
    fn dumps_matches_cpython_big() {
        for v in BIG {
            let value = big_case(v.name);
            let p5 = dumps(&value, 5);
            assert_eq!(p5.len(), v.p5_len, "{} length", v.name);
            assert_eq!(sha256_hex(&p5), v.p5_sha256, "{} protocol 5", v.name);
            assert_eq!(
                dumps(&value, 4),
                with_proto(&p5, 4),
                "{} protocol 4",
                v.name
            );
            let p2 = dumps(&value, 2);
            assert_eq!(sha256_hex(&p2), v.p2_sha256, "{} protocol 2", v.name);
            assert_eq!(loads(&p5).unwrap(), value, "{} loads p5", v.name);
            assert_eq!(loads(&p2).unwrap(), value, "{} loads p2", v.name);
        }
    }

    #[test]
    fn redump_after_one_value_changed_matches_cpython() {
        for v in CYCLE {
            let first = dumps(&json(v.json), 5);
            let Value::Object(mut map) = loads(&first).unwrap() else {
                panic!("{}: not a dict", v.name)
            };
            map.insert(v.key.to_owned(), s(v.value));
            assert_eq!(hex(&dumps(&Value::Object(map), 5)), v.p5, "{}", v.name);
        }
    }

    #[test]
    fn loads_python_built_objects() {
        for v in LOADS_OK {
            let got = loads(&unhex(v.pickle)).unwrap_or_else(|e| panic!("{}: {e}", v.name));
            assert_eq!(got, json(v.json), "{}", v.name);
            // Order matters (dicts are ordered), not just equality.
            assert_eq!(
                got.to_string(),
                json(v.json).to_string(),
                "{} order",
                v.name
            );
        }
    }

    #[test]
    fn loads_rejects_what_a_session_cannot_hold() {
        for v in LOADS_ERR {
            assert_eq!(loads(&unhex(v.pickle)), Err(v.error.clone()), "{}", v.name);
        }
        assert_eq!(
            PickleError::Unsupported(0x93).to_string(),
            "unsupported pickle opcode 0x93 (STACK_GLOBAL)"
        );
        assert_eq!(
            loads(b"\x80\x06N."),
            Err(PickleError::UnsupportedProtocol(6))
        );
        assert_eq!(loads(b""), Err(PickleError::Truncated));
        assert_eq!(loads(b"\x80\x05."), Err(PickleError::StackUnderflow));
        assert_eq!(loads(b"\x80\x05(."), Err(PickleError::StackUnderflow));
        assert_eq!(loads(b"\x80\x05h\x00."), Err(PickleError::MemoMissing(0)));
        assert_eq!(loads(b"\x80\x05K\x01u."), Err(PickleError::MarkMissing));
        assert_eq!(loads(b"\x80\x05}(K\x01u."), Err(PickleError::OddItems));
        assert_eq!(
            loads(b"\x80\x05](K\x01K\x02u."),
            Err(PickleError::WrongTarget(b'u'))
        );
        assert_eq!(
            loads(b"\x80\x05}K\x01a."),
            Err(PickleError::WrongTarget(b'a'))
        );
        // FRAME longer than the data.
        assert_eq!(
            loads(b"\x80\x05\x95\x10\x00\x00\x00\x00\x00\x00\x00N."),
            Err(PickleError::Truncated)
        );
        // LONG1 with redundant sign bytes past 16 still fits; a real 2**64 does not.
        let mut long = vec![0x80, 5, op::LONG1, 20, 0xff];
        long.extend([0xff; 19]);
        long.push(b'.');
        assert_eq!(loads(&long), Ok(Value::from(-1)));
        // Trailing bytes after STOP are ignored, as in CPython.
        assert_eq!(loads(b"\x80\x05N.garbage"), Ok(Value::Null));
        // Deep nesting and shared-reference blow-up are errors, not crashes.
        let mut deep = b"\x80\x05".to_vec();
        deep.extend(std::iter::repeat_n(op::EMPTY_LIST, 2000));
        deep.extend(std::iter::repeat_n(op::APPEND, 1999));
        deep.push(op::STOP);
        assert_eq!(loads(&deep), Err(PickleError::TooDeep));
        let mut bomb = b"\x80\x05X\x00\x00\x01\x00".to_vec();
        bomb.extend(std::iter::repeat_n(b'x', 1 << 16));
        bomb.push(op::MEMOIZE);
        bomb.push(op::EMPTY_LIST);
        bomb.push(op::MARK);
        for _ in 0..4000 {
            bomb.extend([op::BINGET, 0]);
        }
        bomb.extend([op::APPENDS, op::STOP]);
        assert_eq!(loads(&bomb), Err(PickleError::TooLarge));
    }

    #[test]
    fn truncated_input_is_an_error() {
        let mut all: Vec<Vec<u8>> = Vec::new();
        for v in SMALL {
            all.push(unhex(v.p5));
            all.push(unhex(v.p2));
        }
        all.extend(LOADS_OK.iter().map(|v| unhex(v.pickle)));
        for b in &all {
            for n in 0..b.len() {
                assert_eq!(
                    loads(&b[..n]),
                    Err(PickleError::Truncated),
                    "{} bytes of {}",
                    n,
                    hex(b)
                );
            }
        }
    }

    /// splitmix64: a deterministic generator for the property tests.
    struct Rng(u64);

    impl Rng {
        fn next(&mut self) -> u64 {
            self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = self.0;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        fn below(&mut self, n: u64) -> u64 {
            self.next() % n
        }

        fn string(&mut self) -> String {
            const POOL: &[&str] = &[
                "",
                "a",
                "1",
                "\u{e9}",
                "\u{ff}",
                "\u{100}",
                "\u{65e5}",
                "\u{1f600}",
                "key",
                "_auth_user_id",
            ];
            match self.below(6) {
                0 => POOL[self.below(POOL.len() as u64) as usize].to_owned(),
                1 => "x".repeat(self.below(300) as usize),
                2 if self.below(20) == 0 => "y".repeat(60000 + self.below(10000) as usize),
                _ => (0..self.below(12))
                    .map(|_| match self.below(4) {
                        0 => char::from_u32(0x20 + self.below(0x5f) as u32).unwrap(),
                        1 => char::from_u32(0xa0 + self.below(0x60) as u32).unwrap(),
                        2 => char::from_u32(0x400 + self.below(0x800) as u32).unwrap(),
                        _ => char::from_u32(0x1f300 + self.below(0x300) as u32).unwrap(),
                    })
                    .collect(),
            }
        }

        fn number(&mut self) -> Value {
            match self.below(7) {
                0 => Value::from(self.below(300) as i64 - 150),
                1 => Value::from(self.next() as i64),
                2 => Value::from(self.next()),
                3 => Value::from((self.next() as i64) >> self.below(64)),
                4 => Value::from(
                    [i64::MIN, i64::MAX, i32::MIN as i64, i32::MAX as i64 + 1]
                        [self.below(4) as usize],
                ),
                5 => Value::from(u64::MAX),
                _ => {
                    let f = f64::from_bits(self.next());
                    Number::from_f64(f).map_or(Value::from(0.5), Value::Number)
                }
            }
        }

        fn value(&mut self, depth: u32) -> Value {
            let kinds = if depth >= 4 { 5 } else { 8 };
            match self.below(kinds) {
                0 => Value::Null,
                1 => Value::Bool(self.below(2) == 0),
                2 => self.number(),
                3 | 4 => Value::String(self.string()),
                5 => Value::Array((0..self.len()).map(|_| self.value(depth + 1)).collect()),
                _ => Value::Object(
                    (0..self.len())
                        .map(|_| (self.string(), self.value(depth + 1)))
                        .collect(),
                ),
            }
        }

        fn len(&mut self) -> usize {
            match self.below(10) {
                0 => 0,
                1 => 1,
                2 if self.below(10) == 0 => 990 + self.below(30) as usize,
                _ => self.below(8) as usize,
            }
        }
    }

    #[test]
    fn round_trip_random_values() {
        let mut rng = Rng(0x5eed);
        for _ in 0..400 {
            let v = rng.value(0);
            for proto in 2..=5 {
                let b = dumps(&v, proto);
                assert_eq!(loads(&b).as_ref(), Ok(&v), "protocol {proto}: {}", hex(&b));
            }
        }
    }

    #[test]
    fn mutated_input_never_panics() {
        let mut rng = Rng(7);
        let seeds: Vec<Vec<u8>> = SMALL.iter().map(|v| unhex(v.p5)).collect();
        for _ in 0..20000 {
            let mut b = seeds[rng.below(seeds.len() as u64) as usize].clone();
            for _ in 0..=rng.below(3) {
                let i = rng.below(b.len() as u64) as usize;
                b[i] = rng.next() as u8;
            }
            let _ = loads(&b);
        }
    }

    /// Differential check against CPython on many random documents:
    /// `/tmp/pk/gen_diff.py` writes one line per document (`json`, its
    /// pickles `p2`/`p4`/`p5`, and `p5_cycle`: the dict read back from
    /// `p5` with `cycle_key` set to the new str `cycle_value`, re-pickled);
    /// `PICKLE_DIFF=/tmp/pk/diff312.jsonl cargo test --release --lib pickle -- --ignored`.
    #[test]
    #[ignore]
    fn differential_against_cpython_file() {
        let path = std::env::var("PICKLE_DIFF").expect("PICKLE_DIFF=<jsonl file>");
        let text = std::fs::read_to_string(path).unwrap();
        let mut n = 0;
        for line in text.lines() {
            let rec: Value = serde_json::from_str(line).unwrap();
            let value = json(rec["json"].as_str().unwrap());
            for (proto, key) in [(2, "p2"), (4, "p4"), (5, "p5")] {
                let want = rec[key].as_str().unwrap();
                let got = dumps(&value, proto);
                assert_eq!(hex(&got), want, "protocol {proto}: {}", rec["json"]);
                assert_eq!(loads(&got).unwrap(), value);
            }
            // Re-pickling what was read gives the same bytes, and so does
            // the re-save with one value replaced.
            let p5 = unhex(rec["p5"].as_str().unwrap());
            let Value::Object(mut map) = loads(&p5).unwrap() else {
                panic!("not a dict")
            };
            assert_eq!(dumps(&Value::Object(map.clone()), 5), p5);
            let key = rec["cycle_key"].as_str().unwrap();
            map.insert(key.to_owned(), rec["cycle_value"].clone());
            let got = dumps(&Value::Object(map), 5);
            assert_eq!(
                hex(&got),
                rec["p5_cycle"].as_str().unwrap(),
                "cycle: {}",
                rec["json"]
            );
            n += 1;
        }
        assert!(n > 0);
        eprintln!("{n} documents match");
    }
}
