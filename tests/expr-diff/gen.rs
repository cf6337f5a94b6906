//! A seeded generator of conditions for the differential test: mostly
//! well-typed conditions built from what users write (comparisons,
//! arithmetic, builtins, predicates, `let`, `??`, `?:`, `in`, strings, array
//! literals), with a share of deliberately ill-typed ones (a sub-expression of
//! the wrong type), so type errors and run-time errors are compared too.

/// xorshift64*: a fixed-seed generator, so a failure reproduces.
pub(crate) struct Rng(pub(crate) u64);

impl Rng {
    pub(crate) fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    pub(crate) fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[self.below(xs.len() as u64) as usize]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.below(100) < percent
    }
}

/// Generation state: the random source, how often to go wrong on purpose,
/// and whether `#` (the predicate's element) and `x` (a `let`) are in scope.
pub(crate) struct Gen {
    pub(crate) rng: Rng,
    /// Percent of sub-expressions replaced by one of another type.
    pub(crate) wrong: u64,
    in_pred: bool,
    lets: u32,
}

const NUM_ATOMS: &[&str] = &[
    "result[0]",
    "result[1]",
    "result[-1]",
    "(get(result, 1) ?? 0.5)",
    "(get(result, -2) ?? 1)",
    "len(result)",
    "0",
    "1",
    "2",
    "7",
    "-3",
    "0.5",
    "0.05",
    "1000",
    "1e3",
    "2.5",
    "asInt(result[0])",
    "asFloat(result[0])",
    "sum(result)",
    "count(result, # > 0)",
    "(first(result) ?? 0)",
    "(last(result) ?? 1)",
];

const BOOL_ATOMS: &[&str] = &[
    "true",
    "false",
    "isNaN(result[0])",
    "isInf(result[0])",
    "isNil(result)",
    "len(result) == 0",
    "all(result, # < 1)",
    "any(result, {# > 0.5})",
    "none(result, isNaN(#))",
    "one(result, # >= 2)",
];

const ARRAY_ATOMS: &[&str] = &[
    "result",
    "[1, 2]",
    "[0.5]",
    "[]",
    "filter(result, # > 0)",
    "map(result, # * 2)",
    "sort(result)",
    "reverse(result)",
    "result[1:]",
    "result[:1]",
    "1..3",
    "concat(result, [1])",
];

const STR_ATOMS: &[&str] = &["\"a\"", "'b'", "\"0.5\"", "string(result[0])", "\"\""];

impl Gen {
    pub(crate) fn new(seed: u64, wrong: u64) -> Gen {
        Gen {
            rng: Rng(seed),
            wrong,
            in_pred: false,
            lets: 0,
        }
    }

    /// A condition meant to be boolean.
    pub(crate) fn condition(&mut self, depth: u32) -> String {
        self.boolean(depth)
    }

    /// Any expression type, for the ill-typed share.
    fn any(&mut self, depth: u32) -> String {
        match self.rng.below(5) {
            0 => self.boolean(depth),
            1 => self.array(depth),
            2 => self.string(depth),
            3 => "nil".to_owned(),
            _ => self.number(depth),
        }
    }

    fn wrong_here(&mut self) -> bool {
        self.rng.chance(self.wrong)
    }

    fn boolean(&mut self, depth: u32) -> String {
        if self.wrong_here() {
            return self.any(depth.saturating_sub(1));
        }
        if depth == 0 || self.rng.chance(20) {
            return self.rng.pick(BOOL_ATOMS).to_owned();
        }
        let d = depth - 1;
        match self.rng.below(14) {
            0..=2 => {
                let op = self.rng.pick(&["==", "!=", "<", "<=", ">", ">="]);
                format!("{} {op} {}", self.number(d), self.number(d))
            }
            3..=4 => {
                let op = self.rng.pick(&["&&", "||", "and", "or"]);
                format!("({}) {op} ({})", self.boolean(d), self.boolean(d))
            }
            5 => format!("{}({})", self.rng.pick(&["!", "not "]), self.boolean(d)),
            6 => format!("{}({})", self.rng.pick(&["isNaN", "isInf"]), self.number(d)),
            7 => {
                let f = self.rng.pick(&["all", "any", "none", "one"]);
                let coll = self.array(d);
                let p = self.predicate(d);
                format!("{f}({coll}, {p})")
            }
            8 => {
                let op = self.rng.pick(&["in", "not in"]);
                format!("{} {op} {}", self.number(d), self.array(d))
            }
            9 => {
                let op = self
                    .rng
                    .pick(&["==", "!=", "<", ">", "contains", "startsWith"]);
                format!("{} {op} {}", self.string(d), self.string(d))
            }
            10 if self.lets < 2 => {
                self.lets += 1;
                let name = if self.lets == 1 { "x" } else { "y" };
                let v = self.number(d);
                let body = self.boolean(d);
                self.lets -= 1;
                format!("(let {name} = {v}; {body})")
            }
            11 => format!(
                "({} ? {} : {})",
                self.boolean(d),
                self.boolean(d),
                self.boolean(d)
            ),
            12 => format!("({} ?? {})", self.any(d), self.boolean(d)),
            _ => format!("{} == {}", self.array(d), self.array(d)),
        }
    }

    fn predicate(&mut self, depth: u32) -> String {
        let was = self.in_pred;
        self.in_pred = true;
        let body = self.boolean(depth);
        self.in_pred = was;
        if self.rng.chance(50) {
            format!("{{{body}}}")
        } else {
            body
        }
    }

    fn number(&mut self, depth: u32) -> String {
        if self.wrong_here() {
            return self.any(depth.saturating_sub(1));
        }
        if self.in_pred && self.rng.chance(30) {
            return "#".to_owned();
        }
        if self.lets > 0 && self.rng.chance(20) {
            return if self.lets > 1 && self.rng.chance(50) {
                "y"
            } else {
                "x"
            }
            .to_owned();
        }
        if depth == 0 || self.rng.chance(25) {
            return self.rng.pick(NUM_ATOMS).to_owned();
        }
        let d = depth - 1;
        match self.rng.below(12) {
            0..=3 => {
                let op = self.rng.pick(&["+", "-", "*", "/", "%", "**", "^"]);
                format!("({} {op} {})", self.number(d), self.number(d))
            }
            4 => format!("-{}", self.number(d)),
            5 => {
                let f = self
                    .rng
                    .pick(&["abs", "int", "float", "round", "ceil", "floor"]);
                format!("{f}({})", self.number(d))
            }
            6 => {
                let f = self.rng.pick(&["max", "min"]);
                format!("{f}({}, {})", self.number(d), self.number(d))
            }
            7 => {
                let f = self
                    .rng
                    .pick(&["sum", "mean", "median", "max", "min", "len", "count"]);
                format!("{f}({})", self.array(d))
            }
            8 => format!("{}[{}]", self.array(d), self.index(d)),
            9 => format!(
                "({} ? {} : {})",
                self.boolean(d),
                self.number(d),
                self.number(d)
            ),
            10 => format!(
                "({}({}) ?? {})",
                self.rng.pick(&["first", "last"]),
                self.array(d),
                self.number(d)
            ),
            _ => {
                let f = self.rng.pick(&["asInt", "asFloat"]);
                format!("{f}({})", self.number(d))
            }
        }
    }

    fn index(&mut self, depth: u32) -> String {
        if self.rng.chance(70) {
            self.rng.pick(&["0", "1", "-1", "2", "-2"]).to_owned()
        } else {
            self.number(depth)
        }
    }

    fn array(&mut self, depth: u32) -> String {
        if self.wrong_here() {
            return self.any(depth.saturating_sub(1));
        }
        if depth == 0 || self.rng.chance(40) {
            return self.rng.pick(ARRAY_ATOMS).to_owned();
        }
        let d = depth - 1;
        match self.rng.below(5) {
            0 => format!("[{}, {}]", self.number(d), self.number(d)),
            1 => {
                let f = self.rng.pick(&["filter", "map"]);
                let coll = self.array(d);
                let body = if f == "map" {
                    let was = self.in_pred;
                    self.in_pred = true;
                    let n = self.number(d);
                    self.in_pred = was;
                    n
                } else {
                    self.predicate(d)
                };
                format!("{f}({coll}, {body})")
            }
            2 => format!("{}(result)", self.rng.pick(&["sort", "reverse", "uniq"])),
            3 => format!("take({}, {})", self.array(d), self.index(d)),
            _ => format!("{}[{}:]", self.array(d), self.index(d)),
        }
    }

    fn string(&mut self, depth: u32) -> String {
        if depth == 0 || self.rng.chance(50) {
            return self.rng.pick(STR_ATOMS).to_owned();
        }
        let d = depth - 1;
        match self.rng.below(3) {
            0 => format!("{} + {}", self.string(d), self.string(d)),
            1 => format!(
                "{}({})",
                self.rng.pick(&["upper", "lower", "trim"]),
                self.string(d)
            ),
            _ => format!("string({})", self.number(d)),
        }
    }
}
